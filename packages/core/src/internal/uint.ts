/** Fixed-width big-endian unsigned integers, as TLS-style structures (RFC 6962 SCTs) write them. */

/** `n` (a safe non-negative integer) as `width` big-endian bytes; throws RangeError when it does not fit. */
export function uintBytes(n: number, width: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || (width < 7 && n >= 2 ** (8 * width)))
    throw new RangeError(`${n} does not fit in ${width} bytes`);
  const out = new Uint8Array(width);
  let v = n;
  for (let i = width - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}
