import { VouchError } from '@vouch/core';

/** One entry of a tar archive. */
export interface TarEntry {
  /** Path inside the archive (pax / GNU long names applied), without a leading `./`. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** Permission bits from the header. */
  mode: number;
  /** Content of a regular file (empty for other types). */
  data: Uint8Array;
}

const BLOCK = 512;

function text(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(off, end));
}

function octal(b: Uint8Array, off: number, len: number, field: string): number {
  // GNU base-256 encoding for large numbers: high bit of the first byte set.
  if (b[off]! & 0x80) {
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    if (!Number.isSafeInteger(v)) throw new VouchError('ERR_MALFORMED_INPUT', `tar header field ${field} is too large`);
    return v;
  }
  const s = text(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new VouchError('ERR_MALFORMED_INPUT', `tar header field ${field} is not an octal number`);
  return Number.parseInt(s, 8);
}

function checksumOk(b: Uint8Array, off: number): boolean {
  const stored = octal(b, off + 148, 8, 'chksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[off + i]!;
  return sum === stored;
}

function paxRecords(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const s = new TextDecoder('utf-8', { fatal: false }).decode(data);
  let i = 0;
  while (i < s.length) {
    const sp = s.indexOf(' ', i);
    if (sp < 0) break;
    const len = Number.parseInt(s.slice(i, sp), 10);
    if (!(len > 0)) break;
    const rec = s.slice(sp + 1, i + len - 1); // drop trailing newline
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * Read an uncompressed tar archive (ustar, with pax `path` records and GNU long names).
 * Checks header checksums and sizes; throws ERR_MALFORMED_INPUT for a corrupt archive.
 * At most `maxEntries` entries are read.
 */
export function readTar(archive: Uint8Array, maxEntries = 10_000): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (off + BLOCK <= archive.length) {
    const headerOff = off;
    const h = archive.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) break; // end-of-archive marker
    if (!checksumOk(archive, off))
      throw new VouchError(
        'ERR_MALFORMED_INPUT',
        `tar header at offset ${off} has a bad checksum; the archive is corrupt or not a tar file`,
      );
    const size = octal(archive, off + 124, 12, 'size');
    const flag = String.fromCharCode(h[156]!);
    const dataStart = off + BLOCK;
    if (dataStart + size > archive.length)
      throw new VouchError('ERR_MALFORMED_INPUT', 'tar entry runs past the end of the archive (truncated)');
    const data = archive.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (flag === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      paxPath = paxRecords(data).path ?? paxPath;
      continue;
    }
    if (flag === 'g') continue;

    const magic = text(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(h, 345, 155) : '';
    let path = paxPath ?? longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    longName = undefined;
    paxPath = undefined;
    while (path.startsWith('./')) path = path.slice(2);
    const type: TarEntry['type'] =
      flag === '0' || flag === '\0' || flag === '7'
        ? 'file'
        : flag === '5'
          ? 'directory'
          : flag === '2'
            ? 'symlink'
            : flag === '1'
              ? 'hardlink'
              : 'other';
    entries.push({
      path,
      type,
      mode: octal(archive, headerOff + 100, 8, 'mode') & 0o7777,
      data: type === 'file' ? data : new Uint8Array(0),
    });
    if (entries.length > maxEntries) throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `tar archive has more than ${maxEntries} entries`);
  }
  return entries;
}
