/**
 * Checkpoints in the signed-note format (C2SP `signed-note` and `tlog-checkpoint`): an origin
 * line, the tree size, the base64 root hash, optional extension lines, a blank line, then one or
 * more signature lines `— <name> <base64(key hint ‖ signature)>`. A checkpoint is trusted when
 * one signature line by the log's key (matching key hint, the log's name when known) verifies;
 * lines by other keys (witness cosignatures) are ignored.
 */

import { utf8, VouchError } from '@vouch/core';
import { bytesEqual, concatBytes, fromBase64, hashBytes } from '@vouch/core/internal';
import { logScheme, verifyWithScheme } from '../internal/keys.js';
import type { TransparencyLogKey } from '../types.js';

/** A parsed checkpoint (not verified). */
export interface Checkpoint {
  /** The log's origin line (e.g. `rekor.sigstore.dev - 2605736670972794746`). */
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** Extension lines after the root hash (e.g. Rekor v1's `Timestamp: …`). */
  readonly extensions: readonly string[];
  /** The signed text: the note body, newline-terminated. */
  readonly body: Uint8Array;
  readonly signatures: readonly { readonly name: string; readonly keyHint: Uint8Array; readonly signature: Uint8Array }[];
}

const MAX_SIGNATURES = 100;
const DASH = '\u2014 ';

function invalid(message: string): VouchError {
  return new VouchError('ERR_TLOG_INVALID', `checkpoint: ${message}`, { details: { check: 'checkpoint' } });
}

/**
 * Parse a checkpoint (signed note). Throws ERR_TLOG_INVALID when it does not have the form:
 * non-empty origin, decimal size without leading zeros, a 32-byte base64 root hash, no empty
 * extension line, at least one well-formed signature line.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw invalid('expected text');
  if (!text.endsWith('\n')) throw invalid('a signed note ends with a newline');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || c === 0x7f) throw invalid('control characters are not allowed in a signed note');
  }
  const split = text.indexOf('\n\n');
  if (split < 0) throw invalid('no blank line between the note and its signatures');
  const bodyText = text.slice(0, split + 1);
  const lines = bodyText.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalid('the note needs an origin, a tree size and a root hash line');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw invalid('the origin line is empty');
  if (!/^(0|[1-9]\d*)$/.test(size)) throw invalid(`"${size}" is not a tree size`);
  const treeSize = Number(size);
  if (!Number.isSafeInteger(treeSize)) throw invalid(`tree size ${size} is too large`);
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(root);
  } catch {
    throw invalid(`"${root}" is not a base64 root hash`);
  }
  if (rootHash.length !== 32) throw invalid(`the root hash has ${rootHash.length} bytes, not 32`);
  if (extensions.some((l) => l === '')) throw invalid('empty line inside the note');
  const sigText = text.slice(split + 2, -1);
  if (sigText === '') throw invalid('no signature line');
  const sigLines = sigText.split('\n');
  const signatures = sigLines.map((line) => {
    if (!line.startsWith(DASH)) throw invalid(`"${line.slice(0, 40)}" is not a signature line`);
    const rest = line.slice(DASH.length);
    const space = rest.indexOf(' ');
    if (space <= 0) throw invalid('a signature line names a key and carries a signature');
    const name = rest.slice(0, space);
    let raw: Uint8Array;
    try {
      raw = fromBase64(rest.slice(space + 1));
    } catch {
      throw invalid(`the signature of "${name}" is not base64`);
    }
    if (raw.length < 5) throw invalid(`the signature of "${name}" is too short`);
    return { name, keyHint: raw.subarray(0, 4), signature: raw.subarray(4) };
  });
  if (signatures.length > MAX_SIGNATURES) throw invalid(`more than ${MAX_SIGNATURES} signature lines`);
  return { origin, treeSize, rootHash, extensions, body: utf8(bodyText), signatures };
}

/** The signed-note key ID of an Ed25519 key: SHA-256(name ‖ "\n" ‖ 0x01 ‖ key). */
export function noteKeyId(name: string, key: { spki: Uint8Array }): Uint8Array {
  const raw = key.spki.subarray(key.spki.length - 32);
  return hashBytes(concatBytes(utf8(`${name}\n`), new Uint8Array([1]), raw), 'sha256');
}

/** The key hint a log's signature line carries: the first 4 bytes of its key ID. */
function expectedHint(log: TransparencyLogKey, name: string): Uint8Array {
  return (log.key.type === 'Ed25519' ? noteKeyId(name, log.key) : log.logId).subarray(0, 4);
}

/**
 * Verify that `log` signed `checkpoint`: some signature line has the log's key hint (and the
 * log's checkpoint name, when known) and its signature verifies over the note body.
 *
 * @throws VouchError ERR_TLOG_INVALID when no line does.
 */
export async function verifyCheckpoint(checkpoint: Checkpoint, log: TransparencyLogKey): Promise<void> {
  const scheme = logScheme(log.key);
  let candidates = 0;
  for (const s of checkpoint.signatures) {
    if (log.checkpointName !== undefined && s.name !== log.checkpointName) continue;
    if (!bytesEqual(s.keyHint, expectedHint(log, s.name))) continue;
    candidates++;
    if (await verifyWithScheme(log.key, scheme, checkpoint.body, s.signature)) return;
  }
  throw invalid(
    candidates === 0
      ? `no signature line by the log ${log.checkpointName ?? ''} (key hint ${hex(expectedHint(log, log.checkpointName ?? ''))}) — the checkpoint is not from the log that holds the entry`
      : "the log's signature does not verify over the checkpoint",
  );
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
