/**
 * Merkle tree hashing and inclusion proofs of RFC 6962 §2.1 / RFC 9162 §2.1.3.2, as Rekor and
 * CT logs use them (SHA-256, leaf prefix 0x00, node prefix 0x01).
 */
import { concatBytes, hashBytes } from '@vouch/core/internal';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/** `SHA-256(0x00 || entry)`. */
export function leafHash(entry: Uint8Array): Uint8Array {
  return hashBytes(concatBytes(LEAF, entry), 'sha256');
}

/** `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return hashBytes(concatBytes(NODE, left, right), 'sha256');
}

/**
 * The root hash an inclusion proof leads to (RFC 9162 §2.1.3.2), or a reason why the proof is
 * malformed for this index and tree size (too many or too few hashes, an index outside the tree,
 * a hash that is not 32 bytes).
 */
export function rootFromInclusionProof(
  index: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array | string {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    return `index ${index} is outside a tree of size ${treeSize}`;
  }
  if (leaf.length !== 32 || proof.some((h) => h.length !== 32)) return 'every hash of a SHA-256 tree is 32 bytes';
  // Numbers here stay below 2^53, so BigInt keeps the shifts exact.
  let fn = BigInt(index);
  let sn = BigInt(treeSize - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return `the proof has more hashes than a tree of size ${treeSize} needs`;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else r = nodeHash(r, p);
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return `the proof has fewer hashes than a tree of size ${treeSize} needs`;
  return r;
}
