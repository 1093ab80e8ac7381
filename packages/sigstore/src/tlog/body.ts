/**
 * Rekor entry bodies (the canonicalized JSON a log entry commits to), read into the claims the
 * verifier compares with the signature at hand: which signature, by which certificate or key,
 * over which digest (hashedrekord) or which DSSE payload (dsse, intoto).
 *
 * Kinds: `hashedrekord` 0.0.1 (Rekor v1) and 0.0.2 (Rekor v2, also DSSE signatures as
 * Hash(PAE)), `dsse` 0.0.1 and 0.0.2, `intoto` 0.0.2 (payload and signature base64 twice, as
 * Rekor stores them). Anything else is refused (ERR_UNSUPPORTED): an entry vouch cannot read
 * cannot vouch for a signature.
 */
import { decodePem, type HashAlgorithm, isVouchError, VouchError } from '@vouch/core';
import { fromBase64, fromHex, fromUtf8 } from '@vouch/core/internal';
import { JsonReader } from '../internal/json.js';
import { hashOfProtoName, hashOfRekorName } from '../internal/keys.js';
import type { TlogEntry } from '../types.js';

/** The material a body says signed: a certificate (DER) or a public key (DER SPKI). */
export type BodyVerifier = { readonly certificate: Uint8Array } | { readonly key: Uint8Array };

/** What an entry body claims. */
export interface BodyClaims {
  readonly kind: string;
  readonly version: string;
  /** The signature(s) recorded, with who made each. */
  readonly signatures: readonly { readonly signature: Uint8Array; readonly verifier: BodyVerifier }[];
  /** hashedrekord: the digest of the signed bytes (the artifact, or PAE for a DSSE envelope in Rekor v2). */
  readonly digest?: { readonly hash: HashAlgorithm; readonly value: Uint8Array };
  /** dsse / intoto: the digest of the DSSE payload. */
  readonly payloadHash?: { readonly hash: HashAlgorithm; readonly value: Uint8Array };
  /** intoto: the DSSE payload itself, when recorded. */
  readonly payload?: Uint8Array;
}

const CODE = 'ERR_TLOG_INVALID';

/** Bodies parsed once per array object (the kind is read when the entry is parsed, the claims when it is verified). */
const PARSED = new WeakMap<Uint8Array, JsonReader>();

function parseBody(body: Uint8Array): JsonReader {
  const known = PARSED.get(body);
  if (known) return known;
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(body));
  } catch (e) {
    throw new VouchError(CODE, `the entry body is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = new JsonReader(json, 'entry body', CODE);
  PARSED.set(body, r);
  return r;
}

/** The `kind` and `apiVersion` of a body. */
export function readBodyKind(body: Uint8Array): { kind: string; version: string } {
  const r = parseBody(body);
  return { kind: r.string('kind'), version: r.string('apiVersion') };
}

/** A base64 field that holds base64 again (intoto 0.0.2 stores payload and signatures so). */
function doubleBase64(r: JsonReader, name: string): Uint8Array {
  const once = r.bytes(name);
  try {
    return fromBase64(fromUtf8(once));
  } catch (e) {
    return r.fail(`is not base64 of base64 (${(e as Error).message})`, name);
  }
}

/** A verifier written as base64 of PEM (a CERTIFICATE or PUBLIC KEY block). */
function pemVerifier(r: JsonReader, name: string): BodyVerifier {
  const bytes = r.bytes(name);
  let blocks: { label: string; der: Uint8Array }[];
  try {
    blocks = decodePem(fromUtf8(bytes));
  } catch (e) {
    return r.fail(`is not PEM (${(e as Error).message})`, name);
  }
  const b = blocks[0];
  if (!b || blocks.length !== 1) return r.fail(`holds ${blocks.length} PEM blocks, expected one`, name);
  if (b.label === 'CERTIFICATE') return { certificate: b.der };
  if (b.label === 'PUBLIC KEY') return { key: b.der };
  return r.fail(`holds a "${b.label}" block, expected a certificate or public key`, name);
}

/** A Rekor v2 `Verifier` message: `x509Certificate.rawBytes` or `publicKey.rawBytes`. */
function v2Verifier(r: JsonReader): BodyVerifier {
  const v = r.object('verifier');
  if (v.has('x509Certificate')) return { certificate: v.object('x509Certificate').bytes('rawBytes') };
  if (v.has('publicKey')) return { key: v.object('publicKey').bytes('rawBytes') };
  return v.fail('holds neither x509Certificate nor publicKey');
}

function rekorHash(r: JsonReader): { hash: HashAlgorithm; value: Uint8Array } {
  const name = r.string('algorithm');
  const hash = hashOfRekorName(name);
  if (!hash) r.fail(`unsupported hash algorithm "${name}"`, 'algorithm');
  const hex = r.string('value');
  let value: Uint8Array;
  try {
    value = fromHex(hex);
  } catch {
    return r.fail('is not hex', 'value');
  }
  return { hash, value };
}

function protoHash(r: JsonReader): { hash: HashAlgorithm; value: Uint8Array } {
  const name = r.string('algorithm');
  const hash = hashOfProtoName(name);
  if (!hash) r.fail(`unsupported hash algorithm "${name}"`, 'algorithm');
  return { hash, value: r.bytes('digest') };
}

/**
 * Read the claims of `entry`'s body. The body's kind and version must be the entry's.
 *
 * @throws VouchError ERR_TLOG_INVALID for a malformed body, ERR_UNSUPPORTED for a kind or
 *   version vouch does not read.
 */
export function readBody(entry: Pick<TlogEntry, 'canonicalizedBody' | 'kind' | 'version'>): BodyClaims {
  try {
    const r = parseBody(entry.canonicalizedBody);
    const kind = r.string('kind');
    const version = r.string('apiVersion');
    if (kind !== entry.kind || version !== entry.version) {
      r.fail(`is a ${kind} ${version} entry, but the bundle says ${entry.kind} ${entry.version}`);
    }
    const spec = r.object('spec');
    const id = `${kind}/${version}`;
    switch (id) {
      case 'hashedrekord/0.0.1': {
        const sig = spec.object('signature');
        return {
          kind,
          version,
          signatures: [{ signature: sig.bytes('content'), verifier: pemVerifier(sig.object('publicKey'), 'content') }],
          digest: rekorHash(spec.object('data').object('hash')),
        };
      }
      case 'hashedrekord/0.0.2': {
        const s = spec.object('hashedRekordV002');
        const sig = s.object('signature');
        return {
          kind,
          version,
          signatures: [{ signature: sig.bytes('content'), verifier: v2Verifier(sig) }],
          digest: protoHash(s.object('data')),
        };
      }
      case 'dsse/0.0.1': {
        const signatures = spec
          .objects('signatures', true)
          .map((s) => ({ signature: s.bytes('signature'), verifier: pemVerifier(s, 'verifier') }));
        return { kind, version, signatures, payloadHash: rekorHash(spec.object('payloadHash')) };
      }
      case 'dsse/0.0.2': {
        const s = spec.object('dsseV002');
        const signatures = s.objects('signatures', true).map((x) => ({ signature: x.bytes('content'), verifier: v2Verifier(x) }));
        return { kind, version, signatures, payloadHash: protoHash(s.object('payloadHash')) };
      }
      case 'intoto/0.0.2': {
        const content = spec.object('content');
        const env = content.object('envelope');
        const signatures = env
          .objects('signatures', true)
          .map((s) => ({ signature: doubleBase64(s, 'sig'), verifier: pemVerifier(s, 'publicKey') }));
        const claims: { -readonly [K in keyof BodyClaims]: BodyClaims[K] } = { kind, version, signatures };
        if (content.has('payloadHash')) claims.payloadHash = rekorHash(content.object('payloadHash'));
        if (env.has('payload')) claims.payload = doubleBase64(env, 'payload');
        if (!claims.payloadHash && !claims.payload) content.fail('records neither the payload nor its hash');
        return claims;
      }
      default:
        throw new VouchError(
          'ERR_UNSUPPORTED',
          `Rekor entries of kind ${id} are not supported (vouch reads hashedrekord 0.0.1/0.0.2, dsse 0.0.1/0.0.2, intoto 0.0.2)`,
        );
    }
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError(CODE, `the entry body could not be read: ${(e as Error).message}`, { cause: e });
  }
}
