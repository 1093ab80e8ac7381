/**
 * cosign's Rekor bundle annotation (`dev.sigstore.cosign/bundle`):
 * `{"SignedEntryTimestamp":"<base64>","Payload":{"body":"<base64>","integratedTime":n,"logIndex":n,"logID":"<hex>"}}`,
 * read as a transparency log entry whose kind and version come from its body.
 */

import { isVouchError, VouchError } from '@vouch/core';
import { fromHex } from '@vouch/core/internal';
import { JsonReader, parseJsonInput } from '../internal/json.js';
import type { RekorBundle, TlogEntry } from '../types.js';
import { readBodyKind } from './body.js';

/**
 * Read cosign's Rekor bundle annotation as a {@link TlogEntry} with its SET (no inclusion proof).
 *
 * @throws VouchError ERR_TLOG_INVALID when the annotation is malformed.
 */
export function parseRekorBundle(input: string | RekorBundle): TlogEntry {
  const r = new JsonReader(parseJsonInput(input, 'Rekor bundle', 'ERR_TLOG_INVALID'), 'rekorBundle', 'ERR_TLOG_INVALID');
  const signedEntryTimestamp = r.bytes('SignedEntryTimestamp');
  const p = r.object('Payload');
  const canonicalizedBody = p.bytes('body');
  const integratedTime = p.integer('integratedTime');
  const logIndex = p.integer('logIndex');
  const logIdHex = p.string('logID');
  let logId: Uint8Array;
  try {
    logId = fromHex(logIdHex);
  } catch {
    return p.fail(`"${logIdHex}" is not hex`, 'logID');
  }
  if (logId.length !== 32) p.fail('a log ID is 32 bytes', 'logID');
  let kind: { kind: string; version: string };
  try {
    kind = readBodyKind(canonicalizedBody);
  } catch (e) {
    if (isVouchError(e)) throw new VouchError('ERR_TLOG_INVALID', `rekorBundle.Payload.body: ${e.message}`, { cause: e });
    throw e;
  }
  return { logIndex, logId, ...kind, integratedTime, signedEntryTimestamp, canonicalizedBody };
}
