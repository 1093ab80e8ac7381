/**
 * Contract for conformance handlers. Each area (x509, envelope, trust-policy, …) exports a
 * `handlers` map from vector `kind` to a function that replays one case of
 * ../shared/vectors/index.json through vouch's PUBLIC API and compares with `expect`.
 */
export interface VectorCase {
  id: string;
  source: string;
  kind: string;
  upstreamTest?: string;
  files: string[];
  inputs: Record<string, unknown>;
  expect: {
    result: 'valid' | 'invalid' | 'error' | 'multi' | 'undetermined';
    errorMessage?: string;
    verificationTime?: string;
    perLevel?: Record<string, unknown>;
    subcasesIn?: string;
    confidence?: string;
    [k: string]: unknown;
  };
  notes?: string;
}

export interface CaseContext {
  /** Absolute path of ../shared/vectors. */
  vectorsDir: string;
  /** Read a vector file (path relative to vectorsDir). */
  readFile(relPath: string): Promise<Uint8Array>;
  /** Absolute path of a vector file. */
  path(relPath: string): string;
  /** The instant to verify at: parsed from expect.verificationTime (first ISO timestamp in it), else undefined. */
  verificationTime?: Date;
}

export type CaseOutcome =
  | { status: 'passed'; note?: string }
  | { status: 'failed'; reason: string }
  /** `reason` must name why (e.g. "timestamp kind: issue 4", "needs network"). */
  | { status: 'skipped'; reason: string }
  /** For expect.result === 'undetermined': what vouch did. */
  | { status: 'undetermined'; vouchDid: string };

export type Handler = (c: VectorCase, ctx: CaseContext) => Promise<CaseOutcome>;
export type Handlers = Record<string, Handler>;
