/** The shape of `notation-e2e/scenarios.json` (see its README). */

export interface Expect {
  exit: 0 | 1;
  stdout_contains?: string[];
  stderr_contains?: string[];
  stdout_not_contains?: string[];
  stderr_not_contains?: string[];
  stdout_equals?: string;
  stderr_equals?: string;
  stdout_equals_file?: string;
}

export interface CliStep {
  args: string[];
  stdin?: string;
  workdir?: string;
  host?: string;
  binary?: string;
  desc?: string;
  expect: Expect;
}

export interface ActionStep {
  action: string;
  [field: string]: unknown;
}

export type Step = CliStep | ActionStep;

export interface RegistryArtifact {
  repo_placeholder: string;
  digest_placeholder: string;
  layout: string;
  tag: string;
  repo_name: string;
  digest: string;
  preexisting_signatures: string[];
  used_by_steps?: boolean;
}

export interface OciLayoutSetup {
  placeholder: string;
  source: string;
  tag: string;
  digest: string;
}

export interface HostSetup {
  env?: Record<string, string>;
  signing_keys?: { name: string; default?: boolean; key: string; cert: string }[];
  trust_store?: { type: string; store: string; cert: string }[];
  trust_policy?: string;
  blob_trust_policy?: string;
  config_files?: { src: string; dest: string }[];
}

export interface Setup extends HostSetup {
  helper: string;
  options: string;
  registry_artifacts?: RegistryArtifact[];
  oci_layouts?: OciLayoutSetup[];
  blob_file?: unknown;
  plugins?: unknown;
  hosts?: Record<string, HostSetup>;
}

export interface Scenario {
  id: string;
  file: string;
  line: number;
  describe: string;
  context?: string;
  title: string;
  command: string;
  verbs: string[];
  setup: Setup;
  steps: Step[];
  needs: string[];
  upstream_skip?: string;
  serial?: boolean;
  ordered_group?: string;
  order?: number;
  notes?: string;
}

export function isCliStep(s: Step): s is CliStep {
  return Array.isArray((s as CliStep).args);
}
