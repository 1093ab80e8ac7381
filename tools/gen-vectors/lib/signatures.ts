/**
 * Reproducible signatures, so that a regeneration leaves every unchanged case byte-identical.
 *
 * ECDSA and RSA-PSS signatures are randomised (a fresh nonce or salt per call): signing the same
 * bytes twice gives two different, equally valid signatures, and since certificates carry their
 * issuer's signature, one run would rewrite every certificate, envelope and digest. The generator
 * therefore routes WebCrypto's `sign` through this memo. A signature is made once and recorded in
 * test-vectors/pki/keys/signatures.json under its key, algorithm and signed bytes; later runs reuse
 * it while all three are the same (so it is still a valid signature of exactly those bytes). A
 * case whose inputs change signs afresh, and the file keeps only the signatures the run used.
 * `--new-keys` changes every key, so everything is signed afresh.
 *
 * Deterministic algorithms (RSASSA-PKCS1-v1_5) are not recorded. A key that cannot be exported
 * cannot be identified across runs: its signatures are made afresh and counted in the summary.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, writeJson } from './common.js';

const FILE = 'pki/keys/signatures.json';
const RANDOMISED = new Set(['ECDSA', 'RSA-PSS']);

/** `key algorithm data` → the signatures made for that triple, in the order they were asked for. */
type Memo = Record<string, string[]>;

let previous: Memo = {};
const used: Memo = {};
const occurrences = new Map<string, number>();
const keyIds = new WeakMap<CryptoKey, Promise<string | undefined>>();
const stats = { reused: 0, made: 0, unidentified: 0 };

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function bytesOf(data: BufferSource): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The key's PKCS#8 digest plus the algorithm it was imported for (RSA-PSS binds the hash to the key). */
function keyId(key: CryptoKey, subtle: SubtleCrypto): Promise<string | undefined> {
  let id = keyIds.get(key);
  if (!id) {
    const a = key.algorithm as KeyAlgorithm & { hash?: { name: string }; namedCurve?: string };
    const algorithm = [a.name, a.hash?.name, a.namedCurve].filter(Boolean).join('/');
    id = key.extractable
      ? subtle.exportKey('pkcs8', key).then((pkcs8) => `${sha256hex(new Uint8Array(pkcs8)).slice(0, 32)}:${algorithm}`)
      : Promise.resolve(undefined);
    keyIds.set(key, id);
  }
  return id;
}

function paramsId(algorithm: AlgorithmIdentifier | RsaPssParams | EcdsaParams): string {
  if (typeof algorithm === 'string') return algorithm;
  const hash = 'hash' in algorithm ? (typeof algorithm.hash === 'string' ? algorithm.hash : algorithm.hash.name) : undefined;
  const salt = 'saltLength' in algorithm ? `salt=${algorithm.saltLength}` : undefined;
  return [algorithm.name, hash, salt].filter(Boolean).join('/');
}

/** Route `globalThis.crypto.subtle.sign` through the memo (call once, before anything signs). */
export function installSignatureMemo(): void {
  const path = join(OUT, FILE);
  previous = existsSync(path) && !process.argv.includes('--new-keys') ? (JSON.parse(readFileSync(path, 'utf8')) as Memo) : {};
  const subtle = globalThis.crypto.subtle;
  const sign = subtle.sign.bind(subtle);
  const memoSign = async (
    algorithm: AlgorithmIdentifier | RsaPssParams | EcdsaParams,
    key: CryptoKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> => {
    const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
    if (!RANDOMISED.has(name)) return sign(algorithm, key, data);
    const kid = await keyId(key, subtle);
    if (!kid) {
      stats.unidentified++;
      return sign(algorithm, key, data);
    }
    const id = `${kid} ${paramsId(algorithm)} ${sha256hex(bytesOf(data))}`;
    // the n-th signature of the same triple in a run reuses the n-th of the last run, so a case
    // that signs the same bytes twice still gets two distinct signatures
    const n = occurrences.get(id) ?? 0;
    occurrences.set(id, n + 1);
    const hit = previous[id]?.[n];
    let sig: Uint8Array;
    if (hit) {
      sig = new Uint8Array(Buffer.from(hit, 'base64'));
      stats.reused++;
    } else {
      sig = new Uint8Array(await sign(algorithm, key, data));
      stats.made++;
    }
    (used[id] ??= [])[n] = Buffer.from(sig).toString('base64');
    return sig.slice().buffer;
  };
  Object.defineProperty(subtle, 'sign', { value: memoSign, configurable: true, writable: true });
}

/** Write the signatures this run used (sorted, so the file itself is stable) and return a summary line. */
export function saveSignatureMemo(): string {
  const sorted: Memo = {};
  for (const id of Object.keys(used).sort()) sorted[id] = used[id]!;
  writeJson(FILE, sorted);
  const extra = stats.unidentified ? `, ${stats.unidentified} with keys that cannot be exported (not reproducible)` : '';
  return `signatures: ${stats.reused} reused, ${stats.made} new${extra}`;
}
