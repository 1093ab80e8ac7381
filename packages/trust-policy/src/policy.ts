import { VouchError } from '@vouch/core';
import { parseTrustedIdentity, type TrustedIdentity, trustedIdentitiesOverlap } from '@vouch/x509/internal';
import { resolveVerificationLevel } from './level.js';
import { isValidRegistryScope } from './scope.js';
import { parseTrustStoreReference } from './trust-store.js';
import type {
  BlobTrustPolicyDocument,
  BlobTrustPolicyStatement,
  OciTrustPolicyDocument,
  SignatureVerification,
  TrustPolicyStatement,
  TrustPolicyStatementBase,
} from './types.js';

/** The trust policy document versions vouch understands. */
export const SUPPORTED_TRUST_POLICY_VERSIONS: readonly string[] = Object.freeze(['1.0']);

/** Largest trust policy accepted as text or bytes (characters or bytes): 4 MiB. */
export const MAX_TRUST_POLICY_SIZE = 4 * 1024 * 1024;

/** The wildcard of `registryScopes` and `trustedIdentities`. */
export const WILDCARD = '*';

const q = (v: unknown): string => JSON.stringify(v) ?? String(v);

function invalid(message: string, cause?: unknown): VouchError {
  return new VouchError('ERR_TRUST_POLICY_INVALID', message, cause === undefined ? {} : { cause });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

type Kind = 'oci' | 'blob';

function decode(input: unknown, kind: Kind): unknown {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.length > MAX_TRUST_POLICY_SIZE) {
      throw new VouchError(
        'ERR_SIZE_LIMIT_EXCEEDED',
        `${kind} trust policy is ${input.length} bytes; the limit is ${MAX_TRUST_POLICY_SIZE}`,
      );
    }
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch (e) {
      throw invalid(`malformed ${kind} trust policy: not valid UTF-8`, e);
    }
  } else {
    return input;
  }
  if (text.length > MAX_TRUST_POLICY_SIZE) {
    throw new VouchError(
      'ERR_SIZE_LIMIT_EXCEEDED',
      `${kind} trust policy is ${text.length} characters; the limit is ${MAX_TRUST_POLICY_SIZE}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`malformed ${kind} trust policy: ${(e as Error).message}`, e);
  }
}

function stringList(v: unknown, statement: string, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw invalid(`trust policy statement ${q(statement)} has ${field} that is not an array of strings`);
  }
  return [...v];
}

/**
 * Validate `trustedIdentities` (notation's rules): `*` only alone; no empty value; every other
 * value has a `prefix:value` form; `x509.subject:` values parse (see `parseTrustedIdentity`)
 * and no two of them overlap (one a subset of the other). Values with other prefixes are
 * accepted and ignored when matching.
 */
function checkTrustedIdentities(name: string, identities: readonly string[]): void {
  if (identities.length > 1 && identities.includes(WILDCARD)) {
    throw invalid(
      `trust policy statement ${q(name)} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`,
    );
  }
  const parsed: { raw: string; id: TrustedIdentity }[] = [];
  for (const identity of identities) {
    if (identity === '') throw invalid(`trust policy statement ${q(name)} has an empty trusted identity`);
    if (identity === WILDCARD) continue;
    const colon = identity.indexOf(':');
    if (colon < 0) throw invalid(`trust policy statement ${q(name)} has trusted identity ${q(identity)} missing separator`);
    if (identity.slice(0, colon) !== 'x509.subject') continue;
    if (identity.length === colon + 1) {
      throw invalid(`trust policy statement ${q(name)} has trusted identity ${q(identity)} without an identity value`);
    }
    try {
      parsed.push({ raw: identity, id: parseTrustedIdentity(identity) });
    } catch (e) {
      throw invalid(
        `trust policy statement ${q(name)} has trusted identity ${q(identity)} with invalid identity value: ${(e as Error).message}`,
        e,
      );
    }
  }
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      if (trustedIdentitiesOverlap(parsed[i]!.id, parsed[j]!.id)) {
        throw invalid(
          `trust policy statement ${q(name)} has overlapping x509 trustedIdentities, ${q(parsed[i]!.raw)} overlaps with ${q(parsed[j]!.raw)}`,
        );
      }
    }
  }
}

/** Validate and copy the fields common to OCI and blob statements (notation's `validatePolicyCore`). */
function checkStatementCore(s: Record<string, unknown>): TrustPolicyStatementBase {
  const name = s.name ?? '';
  if (typeof name !== 'string') throw invalid(`a trust policy statement has a name that is not a string: ${q(name)}`);
  if (name === '') throw invalid('a trust policy statement is missing a name, every statement requires a name');
  let level: ReturnType<typeof resolveVerificationLevel>;
  try {
    level = resolveVerificationLevel(s.signatureVerification as SignatureVerification);
  } catch (e) {
    throw invalid(`trust policy statement ${q(name)} has invalid signatureVerification: ${(e as Error).message}`, e);
  }
  const trustStores = stringList(s.trustStores, name, 'trustStores');
  const trustedIdentities = stringList(s.trustedIdentities, name, 'trustedIdentities');
  if (level.level === 'skip') {
    if (trustStores.length > 0 || trustedIdentities.length > 0) {
      throw invalid(
        `trust policy statement ${q(name)} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped`,
      );
    }
  } else {
    if (trustStores.length === 0 || trustedIdentities.length === 0) {
      throw invalid(`trust policy statement ${q(name)} is either missing trust stores or trusted identities, both must be specified`);
    }
    for (const ref of trustStores) parseTrustStoreReference(ref, name);
    checkTrustedIdentities(name, trustedIdentities);
  }
  const sv = s.signatureVerification as Record<string, unknown>;
  const signatureVerification: SignatureVerification = { level: level.level };
  if (level.custom) signatureVerification.override = { ...(sv.override as SignatureVerification['override']) };
  if (typeof sv.verifyTimestamp === 'string' && sv.verifyTimestamp !== '') signatureVerification.verifyTimestamp = level.verifyTimestamp;
  return { name, signatureVerification, trustStores, trustedIdentities };
}

function checkHeader(doc: unknown, kind: Kind): unknown[] {
  if (!isPlainObject(doc)) throw invalid(`${kind} trust policy document must be a JSON object`);
  const version = doc.version;
  if (version === undefined || version === null || version === '') {
    throw invalid(`${kind} trust policy document has empty version, version must be specified`);
  }
  if (typeof version !== 'string' || !SUPPORTED_TRUST_POLICY_VERSIONS.includes(version)) {
    throw invalid(`${kind} trust policy document uses unsupported version ${q(version)}`);
  }
  const list = doc.trustPolicies;
  if (list !== undefined && list !== null && !Array.isArray(list))
    throw invalid(`${kind} trust policy document has trustPolicies that is not an array`);
  if (!list || list.length === 0) throw invalid(`${kind} trust policy document can not have zero trust policy statements`);
  return list;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * What every statement of both documents is checked for first, in notation's order: a JSON object,
 * a name no earlier statement used, then the fields both kinds share ({@link checkStatementCore}).
 */
function checkStatement(
  kind: 'oci' | 'blob',
  statement: unknown,
  index: number,
  names: ReadonlySet<string>,
): { s: Record<string, unknown>; core: TrustPolicyStatementBase } {
  if (!isPlainObject(statement)) throw invalid(`${kind} trust policy: trust policy statement #${index + 1} is not a JSON object`);
  if (typeof statement.name === 'string' && names.has(statement.name)) {
    throw invalid(`multiple ${kind} trust policy statements use the same name ${q(statement.name)}, statement names must be unique`);
  }
  try {
    return { s: statement, core: checkStatementCore(statement) };
  } catch (e) {
    throw invalid(`${kind} trust policy: ${(e as Error).message}`, e);
  }
}

/**
 * Parse and validate an OCI trust policy document (`trustpolicy.oci.json`): JSON text, UTF-8
 * bytes, or an already-parsed object. Returns a validated, normalised, frozen copy (unknown
 * fields dropped; `trustStores` and `trustedIdentities` always present).
 *
 * Every rule of the Notary trust policy specification is checked, in notation's order and
 * with notation's messages: version `"1.0"`; at least one statement; unique non-empty names;
 * `signatureVerification` (see {@link resolveVerificationLevel}); `skip` statements without
 * trust stores or identities, other levels with both; trust store references
 * `ca|signingAuthority|tsa:<name>`; trusted identities; `registryScopes` non-empty, `*` only
 * alone, each other scope a `registry/repository` without tag, digest, scheme or wildcard, and
 * each scope value in only one statement.
 *
 * Deviations from notation (spec-strict, documented):
 * - a statement whose `registryScopes` is `*` may not use level `skip` (the specification
 *   forbids it; notation accepts it);
 * - `verifyTimestamp` is validated for `skip` statements too;
 * - trust store names `.` and `..` are rejected;
 * - a trailing separator, a `#hex` value or an invalid attribute type in an `x509.subject`
 *   identity is rejected (notation's parser tolerates some of these).
 *
 * Throws ERR_TRUST_POLICY_INVALID (ERR_SIZE_LIMIT_EXCEEDED above `MAX_TRUST_POLICY_SIZE`).
 * @example
 * ```ts
 * import { hasCode } from '@vouch/core';
 * import { parseOciTrustPolicy } from '@vouch/trust-policy';
 *
 * try {
 *   const policy = parseOciTrustPolicy(await readFile('trustpolicy.json', 'utf8')); // text, bytes or an object
 *   console.log(policy.trustPolicies.map((s) => s.name));
 * } catch (e) {
 *   if (hasCode(e, 'ERR_TRUST_POLICY_INVALID')) console.error(e.message); // notation's wording
 *   else throw e;
 * }
 * ```
 */
export function parseOciTrustPolicy(input: unknown): OciTrustPolicyDocument {
  const list = checkHeader(decode(input, 'oci'), 'oci');
  const names = new Set<string>();
  const statements: TrustPolicyStatement[] = [];
  const raw: Record<string, unknown>[] = [];
  for (const [index, item] of list.entries()) {
    const { s, core } = checkStatement('oci', item, index, names);
    names.add(core.name);
    raw.push(s);
    statements.push({ ...core, registryScopes: [] });
  }

  const owner = new Map<string, string>();
  for (const [index, s] of raw.entries()) {
    const name = statements[index]!.name;
    const scopes = s.registryScopes ?? [];
    if (!Array.isArray(scopes) || !scopes.every((x) => typeof x === 'string')) {
      throw invalid(`oci trust policy statement ${q(name)} has registryScopes that is not an array of strings`);
    }
    if (scopes.length === 0) {
      throw invalid(
        `oci trust policy statement ${q(name)} has zero registry scopes, it must specify registry scopes with at least one value`,
      );
    }
    if (scopes.length > 1 && scopes.includes(WILDCARD)) {
      throw invalid(
        `oci trust policy statement ${q(name)} uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`,
      );
    }
    for (const scope of scopes) {
      if (scope !== WILDCARD) checkRegistryScope(scope);
      const prev = owner.get(scope);
      if (prev !== undefined) {
        throw invalid(
          `registry scope ${q(scope)} is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement`,
        );
      }
      owner.set(scope, name);
    }
    statements[index]!.registryScopes = [...scopes];
  }

  const wildcard = owner.get(WILDCARD);
  if (wildcard !== undefined) {
    const st = statements.find((s) => s.name === wildcard)!;
    if (st.signatureVerification.level === 'skip') {
      throw invalid(
        `oci trust policy statement ${q(wildcard)} uses the wildcard registry scope '*' with signature verification level "skip", which the trust policy specification forbids; give "skip" statements explicit registry scopes`,
      );
    }
  }
  return deepFreeze({ version: '1.0', trustPolicies: statements });
}

function checkRegistryScope(scope: string): void {
  const ensure =
    'make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout';
  if (scope.length > 1 && scope.includes('*')) throw invalid(`registry scope ${q(scope)} with wild card(s) is not valid, ${ensure}`);
  if (!isValidRegistryScope(scope)) throw invalid(`registry scope ${q(scope)} is not valid, ${ensure}`);
}

/**
 * Parse and validate a blob trust policy document (`trustpolicy.blob.json`): JSON text, UTF-8
 * bytes or an object. Same statement rules as {@link parseOciTrustPolicy} minus
 * `registryScopes`, plus: at most one statement has `globalPolicy: true`, and the global
 * statement may not use level `skip` (notation's check for this never fires; vouch enforces it).
 * vouch also rejects `registryScopes` in a blob statement (notation ignores it) and a
 * non-boolean `globalPolicy`. Returns a validated, frozen copy. Throws ERR_TRUST_POLICY_INVALID.
 */
export function parseBlobTrustPolicy(input: unknown): BlobTrustPolicyDocument {
  const list = checkHeader(decode(input, 'blob'), 'blob');
  const names = new Set<string>();
  const statements: BlobTrustPolicyStatement[] = [];
  let global: string | undefined;
  for (const [index, item] of list.entries()) {
    const { s, core } = checkStatement('blob', item, index, names);
    if (s.registryScopes !== undefined) {
      throw invalid(`blob trust policy statement ${q(core.name)} has registryScopes, which blob trust policies do not use; remove it`);
    }
    const gp = s.globalPolicy;
    if (gp !== undefined && gp !== null && typeof gp !== 'boolean') {
      throw invalid(`blob trust policy statement ${q(core.name)} has globalPolicy ${q(gp)}, which must be true or false`);
    }
    const statement: BlobTrustPolicyStatement = { ...core };
    if (gp === true) {
      if (global !== undefined) {
        throw invalid(
          'multiple blob trust policy statements have globalPolicy set to true. Only one trust policy statement can be marked as global policy',
        );
      }
      if (core.signatureVerification.level === 'skip') {
        throw invalid(`global blob trust policy statement ${q(core.name)} cannot have verification level set to skip`);
      }
      global = core.name;
      statement.globalPolicy = true;
    }
    names.add(core.name);
    statements.push(statement);
  }
  return deepFreeze({ version: '1.0', trustPolicies: statements });
}
