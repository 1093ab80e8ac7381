import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateSignatureAlgorithm,
  HASH_ALGORITHMS,
  hashLength,
  isSignatureAlgorithm,
  KEY_SPECS,
  type KeySpec,
  keySpecInfo,
  keySpecOfKey,
  type PublicKeyInfo,
  SIGNATURE_ALGORITHMS,
  signatureAlgorithmFromCose,
  signatureAlgorithmInfo,
} from '../algorithms.js';
import { contextTag, encInt, encNull, encOid, encSeq, tlv } from '../asn1/index.js';
import { utf8 } from '../bytes.js';
import { digestAlgorithmOf, hashAlgorithmOfDigest } from '../digest.js';
import { rejectedWith, thrownBy } from '../test/throws.js';
import { CRYPTO_OID as OID } from './oids.js';
import { describePublicKey, describeVerificationKey, ecdsaDerToP1363, ecdsaP1363ToDer } from './public-key.js';
import { SignatureCheckError, signatureScheme, verifySignature } from './signature.js';

const subtle = globalThis.crypto.subtle;
const DATA = utf8('the signed bytes');

interface TestKey {
  key: PublicKeyInfo;
  privateKey: CryptoKey;
}

async function keyOf(spec: KeySpec): Promise<TestKey> {
  const info = keySpecInfo(spec);
  const params =
    info.type === 'RSA'
      ? { name: 'RSA-PSS', modulusLength: info.bits, publicExponent: new Uint8Array([1, 0, 1]), hash: info.hash }
      : { name: 'ECDSA', namedCurve: info.curve! };
  const pair = (await subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  return { key: describePublicKey(spki), privateKey: pair.privateKey };
}

/** Sign with an explicit WebCrypto scheme (the private key is re-imported for it). */
async function sign(k: TestKey, params: { name: string; hash: string; saltLength?: number }, data = DATA): Promise<Uint8Array> {
  const pkcs8 = await subtle.exportKey('pkcs8', k.privateKey);
  const importParams = params.name === 'ECDSA' ? { name: 'ECDSA', namedCurve: k.key.curve! } : { name: params.name, hash: params.hash };
  const priv = await subtle.importKey('pkcs8', pkcs8, importParams, false, ['sign']);
  const signParams =
    params.name === 'RSA-PSS' ? { name: 'RSA-PSS', saltLength: params.saltLength! } : { name: params.name, hash: params.hash };
  return new Uint8Array(await subtle.sign(signParams, priv, data as Uint8Array<ArrayBuffer>));
}

const hashAlg = (oid: string, params = true) => (params ? encSeq(encOid(oid), encNull()) : encSeq(encOid(oid)));

/** An RSASSA-PSS AlgorithmIdentifier with explicit fields (undefined = omitted, i.e. the DEFAULT). */
function pssId(f: { hash?: string; mgfHash?: string; salt?: number; trailer?: number; extra?: Uint8Array } = {}): Uint8Array {
  const fields: Uint8Array[] = [];
  if (f.hash) fields.push(tlv(contextTag(0, true), hashAlg(f.hash)));
  if (f.mgfHash) fields.push(tlv(contextTag(1, true), encSeq(encOid(OID.mgf1), hashAlg(f.mgfHash))));
  if (f.salt !== undefined) fields.push(tlv(contextTag(2, true), encInt(f.salt)));
  if (f.trailer !== undefined) fields.push(tlv(contextTag(3, true), encInt(f.trailer)));
  if (f.extra) fields.push(f.extra);
  return encSeq(encOid(OID.rsassaPss), encSeq(...fields));
}

const GOOD_PSS = { hash: OID.sha256, mgfHash: OID.sha256, salt: 32 };

const checkError = (f: () => unknown) => thrownBy(SignatureCheckError, f);
const rejection = (p: Promise<unknown>) => rejectedWith(SignatureCheckError, p);

describe('the key and algorithm vocabulary', () => {
  it('pairs each key spec with one algorithm and back, with distinct COSE identifiers', () => {
    for (const spec of KEY_SPECS) {
      const { algorithm, hash, type, bits, curve } = keySpecInfo(spec);
      expect(signatureAlgorithmInfo(algorithm)).toMatchObject({ keySpec: spec, hash, keyType: type });
      expect(keySpecOfKey({ type, bits, ...(curve ? { curve } : {}) })).toBe(spec);
      expect(signatureAlgorithmFromCose(signatureAlgorithmInfo(algorithm).cose!)).toBe(algorithm);
    }
    expect(new Set(SIGNATURE_ALGORITHMS.map((a) => signatureAlgorithmInfo(a).cose)).size).toBe(6);
    expect(SIGNATURE_ALGORITHMS.every(isSignatureAlgorithm)).toBe(true);
    expect(isSignatureAlgorithm('RS256')).toBe(false);
    expect(HASH_ALGORITHMS.map(hashLength)).toEqual([32, 48, 64]);
    expect(HASH_ALGORITHMS.map(digestAlgorithmOf)).toEqual(['sha256', 'sha384', 'sha512']);
    expect(HASH_ALGORITHMS.map(digestAlgorithmOf).map(hashAlgorithmOfDigest)).toEqual(HASH_ALGORITHMS);
    expect(keySpecOfKey({ type: 'RSA', bits: 1024 })).toBeUndefined();
    expect(keySpecOfKey({ type: 'EC', bits: 224 })).toBeUndefined();
  });
});

describe('signatureScheme: the algorithm rules', () => {
  it('names: PS* are PSS with a salt as long as the hash and tie the key spec; ES* are r||s; RS* are PKCS#1', () => {
    expect(signatureScheme('PS384')).toEqual({ kind: 'RSA-PSS', hash: 'SHA-384', saltLength: 48, keySpec: 'RSA-3072' });
    expect(signatureScheme('ES512')).toEqual({ kind: 'ECDSA', hash: 'SHA-512', encoding: 'raw', keySpec: 'EC-521' });
    expect(signatureScheme('RS256')).toEqual({ kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' });
    expect(checkError(() => signatureScheme('HS256' as CertificateSignatureAlgorithm)).reason).toBe('algorithm');
  });

  it('AlgorithmIdentifiers: PKCS#1, ECDSA and PSS with SHA-2', () => {
    expect(signatureScheme(hashAlg(OID.sha384WithRsa))).toEqual({ kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' });
    expect(signatureScheme(hashAlg(OID.ecdsaWithSha256, false))).toEqual({ kind: 'ECDSA', hash: 'SHA-256', encoding: 'der' });
    expect(signatureScheme(pssId(GOOD_PSS))).toEqual({ kind: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 });
    expect(signatureScheme(pssId({ hash: OID.sha512, mgfHash: OID.sha512, salt: 64, trailer: 1 }))).toMatchObject({ saltLength: 64 });
  });

  it('refuses SHA-1 and MD5 everywhere', () => {
    for (const oid of [OID.sha1WithRsa, OID.ecdsaWithSha1, OID.md5WithRsa]) {
      expect(checkError(() => signatureScheme(hashAlg(oid))).message).toMatch(/insecure algorithm/);
    }
    expect(checkError(() => signatureScheme(pssId({ ...GOOD_PSS, hash: OID.sha1, mgfHash: OID.sha1, salt: 20 }))).message).toMatch(/SHA-1/);
    // all defaults: SHA-1, MGF1-SHA-1, salt 20
    expect(checkError(() => signatureScheme(pssId({}))).message).toMatch(/SHA-1/);
    expect(checkError(() => signatureScheme(hashAlg(OID.rsaEncryption), { digestAlgorithm: OID.sha1 })).message).toMatch(/insecure/);
  });

  it('accepts RSASSA-PSS parameters exactly as Go does', () => {
    const refused: [string, Uint8Array][] = [
      ['no parameters', encSeq(encOid(OID.rsassaPss))],
      ['trailer field 2', pssId({ ...GOOD_PSS, trailer: 2 })],
      ['salt shorter than the hash', pssId({ ...GOOD_PSS, salt: 20 })],
      ['salt longer than the hash', pssId({ ...GOOD_PSS, salt: 48 })],
      ['huge salt', pssId({ ...GOOD_PSS, salt: 100_000 })],
      ['MGF1 hash differs', pssId({ ...GOOD_PSS, mgfHash: OID.sha384 })],
      ['MGF1 left at its SHA-1 default', pssId({ hash: OID.sha256, salt: 32 })],
      ['a fifth field', pssId({ ...GOOD_PSS, extra: tlv(contextTag(4, true), encInt(1)) })],
      ['hash parameters not NULL', encSeq(encOid(OID.rsassaPss), encSeq(tlv(contextTag(0, true), encSeq(encOid(OID.sha256), encInt(0)))))],
      [
        'fields out of order',
        encSeq(encOid(OID.rsassaPss), encSeq(tlv(contextTag(2, true), encInt(32)), tlv(contextTag(0, true), hashAlg(OID.sha256)))),
      ],
    ];
    for (const [why, id] of refused) {
      expect(checkError(() => signatureScheme(id)).reason, why).toBe('algorithm');
    }
    const otherMgf = encSeq(
      encOid(OID.rsassaPss),
      encSeq(tlv(contextTag(0, true), hashAlg(OID.sha256)), tlv(contextTag(1, true), encSeq(encOid('1.2.3.4'), hashAlg(OID.sha256)))),
    );
    expect(checkError(() => signatureScheme(otherMgf)).message).toMatch(/MGF1/);
  });

  it('CMS: rsaEncryption and id-ecPublicKey take the hash of the SignerInfo digest algorithm', () => {
    expect(signatureScheme(hashAlg(OID.rsaEncryption), { digestAlgorithm: OID.sha384 })).toEqual({
      kind: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-384',
    });
    expect(signatureScheme(hashAlg(OID.ecPublicKey, false), { digestAlgorithm: OID.sha512 })).toMatchObject({
      kind: 'ECDSA',
      hash: 'SHA-512',
    });
    expect(checkError(() => signatureScheme(hashAlg(OID.rsaEncryption))).message).toMatch(/digest algorithm/);
  });

  it('unknown or malformed identifiers cannot be checked', () => {
    expect(checkError(() => signatureScheme(hashAlg('1.3.101.112', false))).message).toMatch(
      /unsupported signature algorithm 1\.3\.101\.112/,
    );
    expect(checkError(() => signatureScheme(new Uint8Array([0x30, 0x03, 0x06, 0x01]))).message).toMatch(/malformed/);
  });
});

describe('verifySignature: one function for every signature vouch checks', () => {
  const keys = new Map<KeySpec, TestKey>();
  beforeAll(async () => {
    for (const spec of ['EC-256', 'EC-384', 'RSA-2048', 'RSA-3072'] as const) keys.set(spec, await keyOf(spec));
  });
  const k = (spec: KeySpec) => keys.get(spec)!;

  it('verifies Notary signatures by name and rejects altered data', async () => {
    const es = await sign(k('EC-256'), { name: 'ECDSA', hash: 'SHA-256' });
    expect(await verifySignature({ key: k('EC-256').key, algorithm: 'ES256', data: DATA, signature: es })).toBe(true);
    expect(await verifySignature({ key: k('EC-256').key, algorithm: 'ES256', data: utf8('other'), signature: es })).toBe(false);
    const ps = await sign(k('RSA-3072'), { name: 'RSA-PSS', hash: 'SHA-384', saltLength: 48 });
    expect(await verifySignature({ key: k('RSA-3072').key, algorithm: 'PS384', data: DATA, signature: ps })).toBe(true);
    const shortSalt = await sign(k('RSA-3072'), { name: 'RSA-PSS', hash: 'SHA-384', saltLength: 20 });
    expect(await verifySignature({ key: k('RSA-3072').key, algorithm: 'PS384', data: DATA, signature: shortSalt })).toBe(false);
  });

  it('ties a Notary algorithm to its key spec (key-size rule)', async () => {
    const ps = await sign(k('RSA-3072'), { name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 });
    const e = await rejection(verifySignature({ key: k('RSA-3072').key, algorithm: 'PS256', data: DATA, signature: ps }));
    expect([e.reason, e.message]).toEqual(['key', expect.stringMatching(/RSA 3072-bit key .*RSA-2048 only/)]);
    const es = await sign(k('EC-384'), { name: 'ECDSA', hash: 'SHA-256' });
    expect((await rejection(verifySignature({ key: k('EC-384').key, algorithm: 'ES256', data: DATA, signature: es }))).reason).toBe('key');
  });

  it('X.509 identifiers tie the key family, not the curve: ecdsa-with-SHA384 by a P-256 key verifies', async () => {
    const raw = await sign(k('EC-256'), { name: 'ECDSA', hash: 'SHA-384' });
    const der = ecdsaP1363ToDer(raw);
    expect(ecdsaDerToP1363(der, 32)).toEqual(raw);
    expect(
      await verifySignature({ key: k('EC-256').key, algorithm: hashAlg(OID.ecdsaWithSha384, false), data: DATA, signature: der }),
    ).toBe(true);
    const wrongFamily = verifySignature({
      key: k('RSA-2048').key,
      algorithm: hashAlg(OID.ecdsaWithSha384, false),
      data: DATA,
      signature: der,
    });
    expect((await rejection(wrongFamily)).message).toMatch(/an RSA key cannot check a ECDSA signature/);
  });

  it('verifies RSASSA-PSS under a Go-accepted AlgorithmIdentifier, and PKCS#1 v1.5', async () => {
    const pss = await sign(k('RSA-2048'), { name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 });
    expect(await verifySignature({ key: k('RSA-2048').key, algorithm: pssId(GOOD_PSS), data: DATA, signature: pss })).toBe(true);
    const pkcs1 = await sign(k('RSA-3072'), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' });
    const id = hashAlg(OID.sha512WithRsa);
    expect(await verifySignature({ key: k('RSA-3072').key, algorithm: id, data: DATA, signature: pkcs1 })).toBe(true);
    expect(await verifySignature({ key: k('RSA-2048').key, algorithm: id, data: DATA, signature: pkcs1 })).toBe(false);
  });

  it('malformed signature values are "does not verify", never an exception', async () => {
    const raw = await sign(k('EC-256'), { name: 'ECDSA', hash: 'SHA-256' });
    const der = ecdsaP1363ToDer(raw);
    const alg = hashAlg(OID.ecdsaWithSha256, false);
    const key = k('EC-256').key;
    const nonMinimal = encSeq(tlv(0x02, new Uint8Array([0]), new Uint8Array([1])), encInt(1));
    for (const bad of [raw, der.subarray(0, der.length - 1), nonMinimal, new Uint8Array(0), encSeq(encInt(-1), encInt(1))]) {
      expect(await verifySignature({ key, algorithm: alg, data: DATA, signature: bad })).toBe(false);
    }
    for (const bad of [der, raw.subarray(1), new Uint8Array(0)]) {
      expect(await verifySignature({ key, algorithm: 'ES256', data: DATA, signature: bad })).toBe(false);
    }
    expect(await verifySignature({ key: k('RSA-2048').key, algorithm: 'PS256', data: DATA, signature: new Uint8Array(3) })).toBe(false);
  });

  it('an EC key outside P-256/P-384/P-521 cannot check anything', async () => {
    const p224 = encSeq(
      encSeq(encOid(OID.ecPublicKey), encOid(OID.p224)),
      tlv(0x03, new Uint8Array([0, 0x04, ...new Uint8Array(56).fill(1)])),
    );
    const key = describePublicKey(p224);
    expect([key.type, key.bits, key.curve]).toEqual(['EC', 224, undefined]);
    const e = await rejection(
      verifySignature({ key, algorithm: hashAlg(OID.ecdsaWithSha256, false), data: DATA, signature: new Uint8Array(56) }),
    );
    expect(e.message).toMatch(/unsupported curve/);
  });

  it('keeps imported keys: a caller memo is filled and reused', async () => {
    const memo = new Map<string, unknown>();
    const es = await sign(k('EC-256'), { name: 'ECDSA', hash: 'SHA-256' });
    expect(await verifySignature({ key: k('EC-256').key, algorithm: 'ES256', data: DATA, signature: es, keyMemo: memo })).toBe(true);
    expect([...memo.keys()]).toEqual(['key:ECDSA/P-256']);
    const first = memo.get('key:ECDSA/P-256');
    expect(await verifySignature({ key: k('EC-256').key, algorithm: 'ES256', data: DATA, signature: es, keyMemo: memo })).toBe(true);
    expect(memo.get('key:ECDSA/P-256')).toBe(first);
  });
});

describe('describePublicKey: the one SubjectPublicKeyInfo reader', () => {
  it('describes RSA and EC keys and refuses malformed ones', async () => {
    const rsa = (await keyOf('RSA-2048')).key;
    expect([rsa.type, rsa.bits, rsa.curve]).toEqual(['RSA', 2048, undefined]);
    const ec = (await keyOf('EC-384')).key;
    expect([ec.type, ec.bits, ec.curve, ec.curveOid]).toEqual(['EC', 384, 'P-384', OID.p384]);
    const compressed = encSeq(
      encSeq(encOid(OID.ecPublicKey), encOid(OID.p256)),
      tlv(0x03, new Uint8Array([0, 0x02, ...new Uint8Array(32)])),
    );
    expect(() => describePublicKey(compressed)).toThrow(/uncompressed point/);
    const rsaParams = encSeq(encSeq(encOid(OID.rsaEncryption), encInt(0)), tlv(0x03, new Uint8Array([0, 0x30, 0x00])));
    expect(() => describePublicKey(rsaParams)).toThrow(/NULL/);
    expect(() => describePublicKey(encSeq(encSeq(encOid('1.3.101.112')), tlv(0x03, new Uint8Array([0, 1]))))).toThrow(
      /unsupported public key/,
    );
  });
});

describe('Ed25519: an explicit scheme for Sigstore checkpoints and keys', () => {
  const ED25519 = { kind: 'Ed25519' } as const;
  let pair: CryptoKeyPair;
  let spki: Uint8Array;
  beforeAll(async () => {
    pair = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  });

  it('describeVerificationKey reads Ed25519 keys; describePublicKey still refuses them', async () => {
    expect(describeVerificationKey(spki)).toEqual({ type: 'Ed25519', bits: 256, spki });
    expect(() => describePublicKey(spki)).toThrow(/unsupported public key/);
    const ec = (await keyOf('EC-256')).key;
    expect(describeVerificationKey(ec.spki)).toEqual(ec);
    const withParams = encSeq(encSeq(encOid(OID.ed25519), encNull()), tlv(0x03, new Uint8Array(33)));
    expect(() => describeVerificationKey(withParams)).toThrow(/no parameters/);
    expect(() => describeVerificationKey(encSeq(encSeq(encOid(OID.ed25519)), tlv(0x03, new Uint8Array(32))))).toThrow(/32 bytes/);
  });

  it('verifies a pure Ed25519 signature and rejects altered data or a short signature', async () => {
    const key = describeVerificationKey(spki);
    const sig = new Uint8Array(await subtle.sign({ name: 'Ed25519' }, pair.privateKey, DATA as Uint8Array<ArrayBuffer>));
    expect(await verifySignature({ key, algorithm: ED25519, data: DATA, signature: sig })).toBe(true);
    expect(await verifySignature({ key, algorithm: ED25519, data: utf8('other bytes'), signature: sig })).toBe(false);
    expect(await verifySignature({ key, algorithm: ED25519, data: DATA, signature: sig.subarray(1) })).toBe(false);
  });

  it('never mixes Ed25519 keys and other schemes', async () => {
    const key = describeVerificationKey(spki);
    const ec = (await keyOf('EC-256')).key;
    const e1 = await rejectedWith(
      SignatureCheckError,
      verifySignature({ key, algorithm: 'ES256', data: DATA, signature: new Uint8Array(64) }),
    );
    expect(e1.reason).toBe('key');
    const e2 = await rejectedWith(
      SignatureCheckError,
      verifySignature({ key: ec, algorithm: ED25519, data: DATA, signature: new Uint8Array(64) }),
    );
    expect(e2.reason).toBe('key');
  });
});
