/**
 * A fast strict base64url decoder for the JWS hot path (internal). It accepts exactly what
 * `fromBase64Url` from `@vouch/core` accepts (unpadded, canonical: no stray trailing bits) and
 * returns `undefined` for anything else, so that callers can report the error with core's
 * message.
 */

const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) LOOKUP[URL_ALPHABET.charCodeAt(i)] = i;

/** Decode strict unpadded base64url; `undefined` when `s` is not that. */
export function decodeBase64Url(s: string): Uint8Array | undefined {
  const n = s.length;
  const rem = n & 3;
  if (rem === 1) return undefined;
  const full = n - rem;
  const out = new Uint8Array((n * 3) >> 2);
  let o = 0;
  // OR of every character code and every lookup: negative if a lookup failed, > 255 if a
  // character is outside Latin-1 (its low byte could otherwise alias a valid character).
  let check = 0;
  for (let i = 0; i < full; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    const a = LOOKUP[c0 & 255]!;
    const b = LOOKUP[c1 & 255]!;
    const c = LOOKUP[c2 & 255]!;
    const d = LOOKUP[c3 & 255]!;
    check |= a | b | c | d | ((c0 | c1 | c2 | c3) & ~255);
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = (v >> 16) & 255;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (rem > 0) {
    const c0 = s.charCodeAt(full);
    const c1 = s.charCodeAt(full + 1);
    const a = LOOKUP[c0 & 255]!;
    const b = LOOKUP[c1 & 255]!;
    check |= a | b | ((c0 | c1) & ~255);
    if (rem === 2) {
      if (b & 15) return undefined; // non-canonical: trailing bits set
      out[o++] = ((a << 2) | (b >> 4)) & 255;
    } else {
      const c2 = s.charCodeAt(full + 2);
      const c = LOOKUP[c2 & 255]!;
      check |= c | (c2 & ~255);
      if (c & 3) return undefined;
      out[o++] = ((a << 2) | (b >> 4)) & 255;
      out[o++] = ((b << 4) | (c >> 2)) & 255;
    }
  }
  return check < 0 || check > 255 ? undefined : out;
}

/**
 * True when `text[start..end)` (ASCII bytes) is exactly the unpadded base64url encoding of
 * `bytes`. Compares without allocating.
 */
export function isBase64UrlOf(bytes: Uint8Array, text: Uint8Array, start: number, end: number): boolean {
  const n = bytes.length;
  const rem = n % 3;
  if (end - start !== ((n - rem) / 3) * 4 + (rem === 0 ? 0 : rem + 1)) return false;
  const A = URL_CODES;
  let o = start;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    if (text[o] !== A[v >> 18] || text[o + 1] !== A[(v >> 12) & 63] || text[o + 2] !== A[(v >> 6) & 63] || text[o + 3] !== A[v & 63]) {
      return false;
    }
    o += 4;
  }
  if (rem === 1) {
    const v = bytes[i]! << 16;
    return text[o] === A[v >> 18] && text[o + 1] === A[(v >> 12) & 63];
  }
  if (rem === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    return text[o] === A[v >> 18] && text[o + 1] === A[(v >> 12) & 63] && text[o + 2] === A[(v >> 6) & 63];
  }
  return true;
}

const URL_CODES = Uint8Array.from(URL_ALPHABET, (c) => c.charCodeAt(0));
