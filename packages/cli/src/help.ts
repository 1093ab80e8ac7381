/**
 * `--help` laid out as notation's (cobra's): the description, examples, `Usage:`, `Aliases:`,
 * `Available Commands:`, `Flags:` (sorted by long name, with types and defaults) and `Global
 * Flags:` (`--config-dir`, `-d`, `-v`, `-o`, which every verb accepts), and for command groups the
 * pointer to `<command> --help`. The examples are vouch's own.
 */
import type { Command, Help, Option } from 'commander';

/** Examples per command path (without the program name): title, then the arguments after it. */
export const EXAMPLES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  sign: [
    ['Sign an image by digest with the default signing key (JWS envelope)', 'sign registry.example.com/app@sha256:<digest>'],
    ['Sign with a named key and the COSE envelope', 'sign --key release --signature-format cose registry.example.com/app@sha256:<digest>'],
    ['Sign a tag (it is resolved to its digest first)', 'sign registry.example.com/app:v1'],
    ['Sign with a key held by a plugin', 'sign --plugin <plugin name> --id <key id> registry.example.com/app@sha256:<digest>'],
    [
      'Sign with user metadata and a signature that expires after 30 days',
      'sign -m build=42 -m commit=abc123 --expiry 720h registry.example.com/app@sha256:<digest>',
    ],
    [
      'Sign with an RFC 3161 timestamp',
      'sign --timestamp-url http://tsa.example.com --timestamp-root-cert tsa-root.pem registry.example.com/app@sha256:<digest>',
    ],
    ['Sign an image in an OCI image layout directory', 'sign --oci-layout ./layout@sha256:<digest>'],
  ],
  verify: [
    ['Verify an image by digest against the trust policy', 'verify registry.example.com/app@sha256:<digest>'],
    ['Verify a tag (it is resolved to its digest first)', 'verify registry.example.com/app:v1'],
    ['Verify and require user metadata in the signature', 'verify -m build=42 registry.example.com/app@sha256:<digest>'],
    [
      'Verify an image in an OCI image layout, offline, under the policy for a registry scope',
      'verify --oci-layout ./layout@sha256:<digest> --scope registry.example.com/app',
    ],
    ['Verify and print the result as JSON', 'verify --output json registry.example.com/app@sha256:<digest>'],
  ],
  inspect: [
    ['Show the signatures of an image', 'inspect registry.example.com/app@sha256:<digest>'],
    ['Show them as JSON', 'inspect --output json registry.example.com/app@sha256:<digest>'],
  ],
  list: [
    ['List the signatures of an image', 'list registry.example.com/app@sha256:<digest>'],
    ['List the signatures of an image in an OCI image layout', 'list --oci-layout ./layout:v1'],
  ],
  'policy import': [
    ['Import a trust policy', 'policy import ./trustpolicy.json'],
    ['Replace the current trust policy without a prompt', 'policy import --force ./trustpolicy.json'],
  ],
  'policy show': [['Print the trust policy', 'policy show']],
  'certificate add': [
    ['Trust a root CA in the named store "acme" of type ca', 'cert add --type ca --store acme acme-root.crt'],
    ['Trust a timestamping authority root', 'cert add --type tsa --store tsa tsa-root.pem'],
  ],
  'certificate list': [
    ['List every trusted certificate', 'cert list'],
    ['List the certificates of one named store', 'cert list --type ca --store acme'],
  ],
  'certificate show': [['Show a certificate of a store', 'cert show --type ca --store acme acme-root.crt']],
  'certificate delete': [
    ['Delete one certificate of a store', 'cert delete --type ca --store acme acme-root.crt'],
    ['Delete a whole store without a prompt', 'cert delete --type ca --store acme --all --yes'],
  ],
  'certificate generate-test': [
    ['Make a test key and certificate and use it as the default signing key', 'cert generate-test --default test.example'],
  ],
  'certificate cleanup-test': [['Remove what generate-test made', 'cert cleanup-test test.example']],
  'key add': [
    ['Add a key held by a plugin', 'key add --plugin <plugin name> --id <key id> release'],
    ['Add a local key and certificate and make it the default', 'key add --key-path release.key --cert-path release.crt --default release'],
  ],
  'key list': [['List the signing keys (the default one is marked with *)', 'key list']],
  'key update': [['Make a key the default signing key', 'key update --default release']],
  'key delete': [['Remove keys from the list (the files stay)', 'key delete release old-key']],
  login: [
    ['Log in, reading the password from stdin', 'login -u alice --password-stdin registry.example.com'],
    ['Log in with NOTATION_USERNAME and NOTATION_PASSWORD', 'login registry.example.com'],
  ],
  logout: [['Forget the credentials of a registry', 'logout registry.example.com']],
  'plugin list': [['List the installed plugins', 'plugin list']],
  'plugin install': [
    ['Install a plugin from a file', 'plugin install --file ./notation-example.tar.gz'],
    [
      'Install a plugin from an HTTPS URL, checked against its SHA-256',
      'plugin install --url https://example.com/notation-example.tar.gz --sha256sum <sha256>',
    ],
  ],
  'plugin uninstall': [['Remove a plugin without a prompt', 'plugin uninstall --yes example']],
  'blob sign': [['Write a detached signature next to a file', 'blob sign ./release.tar.gz']],
  'blob verify': [['Verify a file against its detached signature', 'blob verify --signature ./release.tar.gz.jws.sig ./release.tar.gz']],
  'blob inspect': [['Show a detached signature', 'blob inspect ./release.tar.gz.jws.sig']],
  version: [['Print the version as JSON', 'version --output json']],
};

function commandPathOf(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names;
}

/** `--flag value` or `-f, --flag value` as cobra prints it (`<value>` becomes `value`). */
function flagCell(o: Option): string {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
  const names = o.long ?? o.short ?? o.flags;
  const lead = o.short && o.long ? `${o.short}, ` : '    ';
  return `  ${lead}${names}${value ? ` ${value}` : ''}`;
}

function defaultText(o: Option): string {
  if (o.defaultValueDescription) return ` (default ${o.defaultValueDescription})`;
  const d = o.defaultValue as unknown;
  if (d === undefined || d === false || (Array.isArray(d) && d.length === 0)) return '';
  if (typeof d === 'string') return /^-?\d+$/.test(d) ? ` (default ${d})` : ` (default ${JSON.stringify(d)})`;
  return ` (default ${String(d)})`;
}

function flagRows(options: readonly Option[], helpFor: string): string[] {
  const rows = options.map((o) => {
    const description = o.long === '--help' ? `help for ${helpFor}` : (o.description ?? '');
    return { key: (o.long ?? o.short ?? '').replace(/^-+/, ''), cell: flagCell(o), text: `${description}${defaultText(o)}` };
  });
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const width = Math.max(...rows.map((r) => r.cell.length));
  return rows.map((r) => `${r.cell.padEnd(width)}   ${r.text}`.trimEnd());
}

/** The options a command inherits from its parents (vouch's global flags, `blob --signature-format`). */
function inheritedOptions(cmd: Command, helper: Help): Option[] {
  const out: Option[] = [];
  for (let p = cmd.parent; p; p = p.parent) {
    for (const o of helper.visibleOptions(p)) if (o.long !== '--help' && o.long !== '--version') out.push(o);
  }
  return out;
}

/** Render `cmd`'s help; `programName` replaces `vouch` (drop-in mode prints `notation`). */
export function formatHelp(cmd: Command, helper: Help, programName: string): string {
  const names = commandPathOf(cmd);
  names[0] = programName;
  const path = names.join(' ');
  const key = names.slice(1).join(' ');
  const subcommands = helper
    .visibleCommands(cmd)
    .filter((c) => cmd.parent === null || c.name() !== 'help')
    .sort((a, b) => (a.name() < b.name() ? -1 : a.name() > b.name() ? 1 : 0));
  const out: string[] = [];
  const description = cmd.description();
  if (description) out.push(cmd.parent ? description : `${programName} - ${description}`, '');
  for (const [title, args] of EXAMPLES[key] ?? []) out.push(`Example - ${title}:`, `  ${programName} ${args}`, '');
  out.push('Usage:');
  if (subcommands.length > 0) out.push(`  ${path} [command]`);
  else {
    const args = cmd.registeredArguments.map((a) => {
      const n = `${a.name()}${a.variadic ? '...' : ''}`;
      return a.required ? `<${n}>` : `[${n}]`;
    });
    out.push(`  ${[path, '[flags]', ...args].join(' ')}`);
  }
  out.push('');
  if (cmd.aliases().length > 0) out.push('Aliases:', `  ${[cmd.name(), ...cmd.aliases()].join(', ')}`, '');
  if (subcommands.length > 0) {
    const width = Math.max(11, ...subcommands.map((c) => c.name().length));
    out.push('Available Commands:');
    for (const c of subcommands) out.push(`  ${c.name().padEnd(width)} ${c.summary() || c.description().split('\n')[0]}`.trimEnd());
    out.push('');
  }
  out.push('Flags:', ...flagRows(helper.visibleOptions(cmd), cmd.name()), '');
  const inherited = inheritedOptions(cmd, helper);
  if (inherited.length > 0) out.push('Global Flags:', ...flagRows(inherited, cmd.name()), '');
  if (subcommands.length > 0) out.push(`Use "${path} [command] --help" for more information about a command.`, '');
  return `${out.join('\n').trimEnd()}\n`;
}
