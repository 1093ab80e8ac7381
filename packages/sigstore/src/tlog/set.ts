/**
 * Rekor's signed entry timestamp (SET, the inclusion promise): the log's signature over the
 * canonical JSON `{"body":…,"integratedTime":…,"logID":…,"logIndex":…}` (RFC 8785 key order;
 * body in standard base64, logID in lowercase hex, logIndex the global index).
 */

import { utf8 } from '@vouch/core';
import { toBase64, toHex } from '@vouch/core/internal';
import { base64Of } from '../internal/json.js';
import { logScheme, verifyWithScheme } from '../internal/keys.js';
import type { TlogEntry, TransparencyLogKey } from '../types.js';

/** The bytes a SET signs for `entry`. */
export function setPayload(entry: Pick<TlogEntry, 'canonicalizedBody' | 'integratedTime' | 'logId' | 'logIndex'>): Uint8Array {
  // Keys in RFC 8785 order (UTF-16 code units): body < integratedTime < logID < logIndex.
  return utf8(
    `{"body":${JSON.stringify(base64Of(entry.canonicalizedBody, toBase64))},"integratedTime":${entry.integratedTime ?? 0},"logID":${JSON.stringify(toHex(entry.logId))},"logIndex":${entry.logIndex}}`,
  );
}

/** True when `log` signed the SET of `entry`. */
export function verifySet(entry: TlogEntry, log: TransparencyLogKey): Promise<boolean> {
  if (!entry.signedEntryTimestamp || entry.integratedTime === undefined) return Promise.resolve(false);
  return verifyWithScheme(log.key, logScheme(log.key), setPayload(entry), entry.signedEntryTimestamp);
}
