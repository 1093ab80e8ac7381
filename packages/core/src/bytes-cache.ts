/**
 * Caching by the exact content of byte arrays: certificates, keys and envelopes that warm
 * verification sees again and again are decoded once per distinct content.
 */

/**
 * 32-bit FNV-1a of the length and of at most the last 64 bytes of `b` — for DER certificates
 * and keys the signature or key bits, which differ between any two of them. For bucket
 * selection only: lookups always compare the whole key.
 */
export function hashOfBytes(b: Uint8Array): number {
  let h = 0x811c9dc5 ^ b.length;
  for (let i = Math.max(0, b.length - 64); i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  let i = 0;
  // Four bytes at a time when both are 4-byte aligned (copies made with slice() are).
  if (((a.byteOffset | b.byteOffset) & 3) === 0 && n >= 64) {
    const words = n >> 2;
    const x = new Uint32Array(a.buffer, a.byteOffset, words);
    const y = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let k = 0; k < words; k++) if (x[k] !== y[k]) return false;
    i = words << 2;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A bounded map keyed by the exact content of byte arrays. Keys are copied on insert,
 * so a caller mutating its buffer afterwards cannot change what an entry is keyed by. Least
 * recently used buckets are evicted first once more than `max` entries are held.
 */
export class BytesCache<V> {
  readonly #buckets = new Map<number, { key: Uint8Array; value: V }[]>();
  #size = 0;
  constructor(readonly max: number) {}

  get(key: Uint8Array, hash: number = hashOfBytes(key)): V | undefined {
    const bucket = this.#buckets.get(hash);
    if (!bucket) return undefined;
    for (const e of bucket) {
      if (sameBytes(e.key, key)) {
        this.#buckets.delete(hash);
        this.#buckets.set(hash, bucket);
        return e.value;
      }
    }
    return undefined;
  }

  /** Insert or replace. The key is copied unless `owned` (the caller hands over a buffer nobody else holds). */
  set(key: Uint8Array, value: V, hash: number = hashOfBytes(key), owned = false): void {
    let bucket = this.#buckets.get(hash);
    if (!bucket) {
      bucket = [];
      this.#buckets.set(hash, bucket);
    }
    const i = bucket.findIndex((e) => sameBytes(e.key, key));
    if (i >= 0) bucket[i]!.value = value;
    else {
      bucket.push({ key: owned ? key : key.slice(), value });
      this.#size++;
    }
    while (this.#size > this.max) {
      const [h, oldest] = this.#buckets.entries().next().value!;
      oldest.shift();
      this.#size--;
      if (oldest.length === 0) this.#buckets.delete(h);
    }
  }

  delete(key: Uint8Array, hash: number = hashOfBytes(key)): void {
    const bucket = this.#buckets.get(hash);
    const i = bucket ? bucket.findIndex((e) => sameBytes(e.key, key)) : -1;
    if (i < 0) return;
    bucket!.splice(i, 1);
    this.#size--;
    if (bucket!.length === 0) this.#buckets.delete(hash);
  }
}
