/**
 * Sigstore trusted roots (sigstore/protobuf-specs `dev.sigstore.trustroot.v1.TrustedRoot`, JSON
 * form, media type `application/vnd.dev.sigstore.trustedroot+json;version=0.1`) read into
 * {@link TrustMaterial}. Every key and CA must state when its trust starts (`validFor.start`): a
 * missing bound is refused, never read as "always".
 */
import { isVouchError, VouchError } from '@vouch/core';
import { type Certificate, parseCertificate } from '@vouch/x509';
import { JsonReader, parseJsonInput } from '../internal/json.js';
import { keyFromSpki, spkiOfPkcs1 } from '../internal/keys.js';
import type { CertificateAuthority, SigstorePublicKey, TransparencyLogKey, TrustMaterial, ValidityWindow } from '../types.js';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

const CODE = 'ERR_CONFIG_INVALID';

/** Key types vouch verifies with; others (LMS, ML-DSA, …) are left out of the material. */
const SUPPORTED_DETAILS = /^(PKIX_ECDSA_P(256|384|521)_SHA_(256|384|512)|PKIX_ED25519|PKIX_RSA_|PKCS1_RSA_)/;

function validity(r: JsonReader): ValidityWindow {
  const v = r.object('validFor');
  if (!v.has('start')) v.fail('is required: a trust window without a start is refused rather than read as unbounded', 'start');
  const start = v.time('start');
  const end = v.has('end') ? v.time('end') : undefined;
  if (end && end < start) v.fail('ends before it starts');
  return end ? { start, end } : { start };
}

function logKey(r: JsonReader): TransparencyLogKey | undefined {
  const pk = r.object('publicKey');
  const details = pk.string('keyDetails');
  const validFor = validity(pk);
  const logId = r.object('logId').bytes('keyId');
  if (!SUPPORTED_DETAILS.test(details)) return undefined;
  const raw = pk.bytes('rawBytes');
  let key: SigstorePublicKey;
  try {
    key = keyFromSpki(details.startsWith('PKCS1_') ? spkiOfPkcs1(raw) : raw, `${pk.path}.rawBytes`, CODE);
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError(CODE, `${pk.path}.rawBytes: ${(e as Error).message}`, { cause: e });
  }
  const baseUrl = r.optionalString('baseUrl');
  const out: { -readonly [K in keyof TransparencyLogKey]: TransparencyLogKey[K] } = { logId, key, validFor };
  if (baseUrl) {
    out.baseUrl = baseUrl;
    try {
      out.checkpointName = new URL(baseUrl).host;
    } catch {
      r.fail(`"${baseUrl}" is not a URL`, 'baseUrl');
    }
  }
  return out;
}

function authority(r: JsonReader): CertificateAuthority {
  const certs = r.object('certChain').objects('certificates', true);
  if (certs.length === 0) r.fail('is empty', 'certChain.certificates');
  const certChain: Certificate[] = certs.map((c) => {
    const der = c.bytes('rawBytes');
    try {
      return parseCertificate(der);
    } catch (e) {
      throw new VouchError(CODE, `${c.path}: ${(e as Error).message}`, { cause: e });
    }
  });
  const uri = r.optionalString('uri');
  const validFor = validity(r);
  return uri ? { certChain, validFor, uri } : { certChain, validFor };
}

/**
 * Read a Sigstore `trusted_root.json` (JSON text, bytes, or the parsed object). Transparency
 * logs and CT logs with key types vouch cannot verify with (LMS, ML-DSA) are left out.
 *
 * @example
 * ```ts
 * const trust = parseTrustedRoot(await readFile('trusted_root.json', 'utf8'));
 * ```
 * @throws VouchError ERR_CONFIG_INVALID when the document is malformed, has another media type,
 *   or a key or CA lacks its `validFor.start`.
 */
export function parseTrustedRoot(input: string | Uint8Array | object): TrustMaterial {
  const r = new JsonReader(parseJsonInput(input, 'trusted root', CODE), 'trustedRoot', CODE);
  const mediaType = r.string('mediaType');
  if (mediaType !== TRUSTED_ROOT_MEDIA_TYPE)
    r.fail(`unsupported media type "${mediaType}" (expected ${TRUSTED_ROOT_MEDIA_TYPE})`, 'mediaType');
  const logs = (name: string) => r.objects(name).flatMap((l) => logKey(l) ?? []);
  return {
    source: 'trusted-root',
    tlogs: logs('tlogs'),
    ctlogs: logs('ctlogs'),
    certificateAuthorities: r.objects('certificateAuthorities').map(authority),
    timestampAuthorities: r.objects('timestampAuthorities').map(authority),
    publicKeys: [],
  };
}
