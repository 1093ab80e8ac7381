const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

import { VouchError } from './errors.js';

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8 decode; throws ERR_MALFORMED_INPUT on invalid sequences. */
export function fromUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', 'bytes are not valid UTF-8', { cause: e });
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const HEX = '0123456789abcdef';
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new VouchError('ERR_MALFORMED_INPUT', 'not a hex string');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_LOOKUP[B64.charCodeAt(i)] = i;
const B64_CODES = new Uint8Array(64);
for (let i = 0; i < 64; i++) B64_CODES[i] = B64.charCodeAt(i);

/** Standard base64 with padding. */
export function toBase64(b: Uint8Array): string {
  // ASCII bytes decoded once: string concatenation per group builds a rope that costs far more.
  const out = new Uint8Array(Math.ceil(b.length / 3) * 4);
  let i = 0;
  let o = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out[o++] = B64_CODES[n >> 18]!;
    out[o++] = B64_CODES[(n >> 12) & 63]!;
    out[o++] = B64_CODES[(n >> 6) & 63]!;
    out[o++] = B64_CODES[n & 63]!;
  }
  if (i < b.length) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8);
    out[o++] = B64_CODES[n >> 18]!;
    out[o++] = B64_CODES[(n >> 12) & 63]!;
    out[o++] = i + 1 < b.length ? B64_CODES[(n >> 6) & 63]! : 61; // '='
    out[o++] = 61;
  }
  return decoder.decode(out);
}

function decode64(s: string, url: boolean): Uint8Array {
  let str = s;
  if (url) {
    if (/[+/=]/.test(str)) throw new VouchError('ERR_MALFORMED_INPUT', 'not base64url (found +, / or padding)');
    str = str.replace(/-/g, '+').replace(/_/g, '/');
  } else {
    if (str.length % 4 !== 0) throw new VouchError('ERR_MALFORMED_INPUT', 'base64 length is not a multiple of 4');
    const pad = str.endsWith('==') ? 2 : str.endsWith('=') ? 1 : 0;
    str = str.slice(0, str.length - pad);
  }
  if (str.length % 4 === 1) throw new VouchError('ERR_MALFORMED_INPUT', 'truncated base64');
  const out = new Uint8Array(Math.floor((str.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    const v = c < 128 ? B64_LOOKUP[c]! : -1;
    if (v < 0) throw new VouchError('ERR_MALFORMED_INPUT', `invalid base64 character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new VouchError('ERR_MALFORMED_INPUT', 'non-canonical base64 (trailing bits)');
  return out;
}

export function fromBase64(s: string): Uint8Array {
  return decode64(s, false);
}

export function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Strict base64url without padding (RFC 7515 §2). */
export function fromBase64Url(s: string): Uint8Array {
  return decode64(s, true);
}
