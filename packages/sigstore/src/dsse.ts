/**
 * DSSE envelopes (github.com/secure-systems-lab/dsse, "envelope.md" and "protocol.md") and the
 * in-toto statements they carry (in-toto attestation framework, Statement v0.1 and v1).
 */

import { utf8, VouchError } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { JsonReader, parseJsonInput } from './internal/json.js';
import type { DsseEnvelope, InTotoStatement } from './types.js';

/** The DSSE payload type of in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1']);

/**
 * Parse a DSSE envelope (JSON text, bytes, or the parsed JSON object): `payloadType` (a
 * non-empty string), `payload` and every `signatures[].sig` in standard base64, `keyid`
 * optional. At least one signature.
 *
 * @throws VouchError ERR_BUNDLE_INVALID when the envelope breaks a rule.
 */
export function parseDsseEnvelope(input: string | Uint8Array | object): DsseEnvelope {
  return readDsseEnvelope(
    new JsonReader(parseJsonInput(input, 'DSSE envelope', 'ERR_BUNDLE_INVALID'), 'dsseEnvelope', 'ERR_BUNDLE_INVALID'),
  );
}

/** Read a DSSE envelope from a JSON object reader (bundles embed one). */
export function readDsseEnvelope(r: JsonReader): DsseEnvelope {
  const payloadType = r.string('payloadType');
  if (payloadType === '') r.fail('is empty', 'payloadType');
  const payload = r.bytes('payload', true);
  const signatures = r.objects('signatures', true).map((s) => {
    const keyid = s.optionalString('keyid');
    const sig = s.bytes('sig');
    return keyid ? { keyid, sig } : { sig };
  });
  if (signatures.length === 0) r.fail('holds no signature', 'signatures');
  return { payloadType, payload, signatures };
}

/**
 * The DSSE pre-authentication encoding, `"DSSEv1" SP LEN(type) SP type SP LEN(payload) SP
 * payload` with lengths as ASCII decimal byte counts: the bytes a DSSE signature covers.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  const head = utf8(`DSSEv1 ${type.length} `);
  const mid = utf8(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + mid.length + payload.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(mid, head.length + type.length);
  out.set(payload, head.length + type.length + mid.length);
  return out;
}

/**
 * Parse an in-toto statement (v0.1 or v1) from a DSSE payload: `_type`, a non-empty `subject`
 * list whose entries have a `name` and a non-empty `digest` map of algorithm to lowercase hex,
 * and a `predicateType`.
 *
 * @throws VouchError ERR_ARTIFACT_MISMATCH when the payload is not such a statement.
 */
export function parseInTotoStatement(payload: Uint8Array | string): InTotoStatement {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : fromUtf8(payload));
  } catch (e) {
    throw new VouchError('ERR_ARTIFACT_MISMATCH', `the DSSE payload is not an in-toto statement: ${(e as Error).message}`, { cause: e });
  }
  const r = new JsonReader(json, 'in-toto statement', 'ERR_ARTIFACT_MISMATCH');
  const type = r.string('_type');
  if (!STATEMENT_TYPES.has(type)) r.fail(`unknown statement type "${type}"`, '_type');
  const subject = r.objects('subject', true).map((s) => {
    const name = typeof s.get('name') === 'string' ? (s.get('name') as string) : '';
    const d = s.object('digest');
    const digest: Record<string, string> = {};
    for (const [alg, value] of Object.entries(d.value)) {
      digest[alg] = typeof value === 'string' ? value : d.fail('expected a string', alg);
    }
    if (Object.keys(digest).length === 0) d.fail('is empty');
    return { name, digest };
  });
  if (subject.length === 0) r.fail('is empty', 'subject');
  const predicateType = r.string('predicateType');
  const predicate = r.get('predicate');
  return predicate === undefined ? { type, subject, predicateType } : { type, subject, predicateType, predicate };
}
