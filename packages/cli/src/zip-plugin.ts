import { createHash } from 'node:crypto';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { VouchError } from '@vouch/core';
import { MAX_PLUGIN_INSTALL_BYTES } from '@vouch/node/config';

/** True when `file` starts with a zip local-file or end-of-central-directory signature. */
export async function isZip(file: string): Promise<boolean> {
  try {
    const fh = await open(file, 'r');
    try {
      const b = new Uint8Array(4);
      const { bytesRead } = await fh.read(b, 0, 4, 0);
      return bytesRead === 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

const sizeLimit = () =>
  new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `total file size reached the ${MAX_PLUGIN_INSTALL_BYTES / 1024 / 1024} MiB size limit`);
const malformed = (why: string) => new VouchError('ERR_MALFORMED_INPUT', `the plugin .zip archive is malformed: ${why}`);

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  mode: number;
}

function centralDirectory(buf: Uint8Array): Entry[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw malformed('no end of central directory record');
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const out: Entry[] = [];
  const dec = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || dv.getUint32(p, true) !== 0x02014b50) throw malformed('bad central directory entry');
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    if (p + 46 + nameLen > buf.length) throw malformed('truncated central directory');
    out.push({
      name: dec.decode(buf.subarray(p + 46, p + 46 + nameLen)),
      method: dv.getUint16(p + 10, true),
      compressedSize: dv.getUint32(p + 20, true),
      size: dv.getUint32(p + 24, true),
      localOffset: dv.getUint32(p + 42, true),
      mode: dv.getUint32(p + 38, true) >>> 16,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/**
 * Unpack a plugin `.zip` (notation's rules: file names may not contain "..", the unpacked
 * total stays under 256 MiB, only top-level files are used and exactly one of them is a
 * `notation-<name>` executable) into `dir` and return the executable's path. The archive's
 * SHA-256 is checked against `sha256` first when given (ERR_DIGEST_MISMATCH).
 */
export async function extractZipPlugin(file: string, dir: string, sha256?: string): Promise<string> {
  const st = await stat(file);
  if (st.size > MAX_PLUGIN_INSTALL_BYTES) throw sizeLimit();
  const buf = new Uint8Array(await readFile(file));
  if (sha256 !== undefined) {
    const got = createHash('sha256').update(buf).digest('hex');
    if (got !== sha256.trim().toLowerCase()) {
      throw new VouchError('ERR_DIGEST_MISMATCH', `${file} has SHA-256 ${got}, but ${sha256} was expected`, {
        details: { expected: sha256, actual: got },
      });
    }
  }
  const entries = centralDirectory(buf);
  let total = 0;
  for (const e of entries) {
    if (e.name.split(/[\\/]/).includes('..')) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `file name in zip cannot contain '..', but found ${JSON.stringify(e.name)}`);
    }
    total += e.size;
    if (total > MAX_PLUGIN_INSTALL_BYTES || e.size === 0xffffffff) throw sizeLimit();
  }
  const top = entries.filter((e) => !e.name.includes('/') && !e.name.includes('\\') && e.name !== '');
  const exes = top.filter((e) => /^notation-.+$/.test(e.name));
  if (exes.length !== 1) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      exes.length === 0
        ? 'the .zip archive holds no plugin executable notation-<name> at its top level'
        : 'the .zip archive holds more than one plugin executable',
    );
  }
  const exe = exes[0]!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lo = exe.localOffset;
  if (lo + 30 > buf.length || dv.getUint32(lo, true) !== 0x04034b50) throw malformed('bad local file header');
  const start = lo + 30 + dv.getUint16(lo + 26, true) + dv.getUint16(lo + 28, true);
  const data = buf.subarray(start, start + exe.compressedSize);
  let content: Uint8Array;
  if (exe.method === 0) content = data;
  else if (exe.method === 8) {
    try {
      content = new Uint8Array(inflateRawSync(data, { maxOutputLength: MAX_PLUGIN_INSTALL_BYTES }));
    } catch (e) {
      if (e instanceof RangeError) throw sizeLimit();
      throw malformed(`cannot inflate ${exe.name}: ${(e as Error).message}`);
    }
  } else throw new VouchError('ERR_UNSUPPORTED', `zip compression method ${exe.method} is not supported`);
  if (content.length !== exe.size) throw malformed(`${exe.name} unpacks to ${content.length} bytes, not ${exe.size}`);
  const out = join(dir, 'unzipped');
  await mkdir(out, { recursive: true });
  const target = join(out, exe.name);
  await writeFile(target, content, { mode: 0o755 });
  return target;
}
