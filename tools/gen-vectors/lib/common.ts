/** Shared state of the generator: output directory, fixed times, the manifest being built. */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const OUT = join(process.cwd(), 'test-vectors');

/** Fixed instants: nothing in the vectors depends on the clock of the machine that generates them. */
export const T = {
  notBefore: new Date('2025-01-01T00:00:00Z'),
  notAfter: new Date('2035-01-01T00:00:00Z'),
  signingTime: new Date('2025-06-01T12:00:00Z'),
  verify: new Date('2026-06-01T00:00:00Z'),
  expiryFuture: new Date('2030-01-01T00:00:00Z'),
  expiryPast: new Date('2025-12-01T00:00:00Z'),
} as const;

export const VERIFY_AT = T.verify.toISOString();

export type Expect = ({ ok: true } & Record<string, unknown>) | { code: string; outcomeCode?: string };

export interface Entry {
  id: string;
  kind: string;
  description: string;
  /** The rule the case pins: its area (`certificates`, `envelope`, `trust policy`, `OCI`, `verification`) and the rule. */
  rule?: string;
  /** Paths relative to test-vectors/. */
  inputs: Record<string, string>;
  /** Inline parameters (identities, scopes, descriptors, options). */
  params?: Record<string, unknown>;
  verificationTime: string;
  expect: Expect;
  /** Set when the case exposes a known defect of a package: the replay test expects it to fail. */
  knownIssue?: string;
}

export const manifest: Entry[] = [];

export function add(e: Omit<Entry, 'verificationTime'> & { verificationTime?: string }): void {
  if (manifest.some((m) => m.id === e.id)) throw new Error(`duplicate vector id ${e.id}`);
  manifest.push({ ...e, verificationTime: e.verificationTime ?? VERIFY_AT } as Entry);
}

/** Write a file under test-vectors/ and return its relative path. */
export function write(rel: string, data: Uint8Array | string): string {
  const p = join(OUT, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
  return rel;
}

export function writeJson(rel: string, value: unknown): string {
  return write(rel, `${JSON.stringify(value, null, 2)}\n`);
}

/** A stable positive serial number (hex) for a certificate name. */
export function serialFor(name: string): string {
  const h = createHash('sha256').update(`vouch-vectors/${name}`).digest();
  h[0] = (h[0]! & 0x7f) | 0x10;
  return h.subarray(0, 12).toString('hex');
}

export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
export const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
export const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
export const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function pem(label: string, der: Uint8Array): string {
  const body = b64(der)
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
