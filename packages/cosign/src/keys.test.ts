import { readFileSync } from 'node:fs';
import { isVouchError, utf8, VouchError } from '@vouch/core';
import { fromBase64, toBase64 } from '@vouch/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptCosignKey, encryptCosignKey, loadSigner, parsePublicKeys, publicKeyToPem } from './index.js';
import { ENCRYPTED_COSIGN_KEY_PEM, parseEncryptedCosignKey } from './key-file.js';
import { defaultHashOf, parsePublicKey, publicKeyHint } from './keys.js';

const fixture = (name: string) => readFileSync(new URL(`./test/fixtures/${name}`, import.meta.url), 'utf8');

/** Verify with WebCrypto directly (the test's own oracle, not vouch's verifier). */
async function webVerify(spkiIn: Uint8Array, type: string, dataIn: Uint8Array, sigIn: Uint8Array, hash = 'SHA-256', curve?: string) {
  const s = globalThis.crypto.subtle;
  const spki = spkiIn as Uint8Array<ArrayBuffer>;
  const data = dataIn as Uint8Array<ArrayBuffer>;
  const sig = sigIn as Uint8Array<ArrayBuffer>;
  if (type === 'Ed25519') {
    const k = await s.importKey('spki', spki, { name: 'Ed25519' }, false, ['verify']);
    return s.verify({ name: 'Ed25519' }, k, sig, data);
  }
  if (type === 'RSA') {
    const k = await s.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']);
    return s.verify({ name: 'RSASSA-PKCS1-v1_5' }, k, sig, data);
  }
  const k = await s.importKey('spki', spki, { name: 'ECDSA', namedCurve: curve! }, false, ['verify']);
  // DER → r||s
  const { ecdsaDerToP1363 } = await import('@vouch/core/internal');
  const size = curve === 'P-521' ? 66 : curve === 'P-384' ? 48 : 32;
  return s.verify({ name: 'ECDSA', hash }, k, ecdsaDerToP1363(sig, size) as Uint8Array<ArrayBuffer>, data);
}

describe('cosign key files (written by cosign 2.5 and 3.1)', () => {
  it('decrypts cosign.key from generate-key-pair, and its public half is cosign.pub', async () => {
    const signer = await loadSigner(fixture('cosign.key'), { password: 'vouch-test' });
    const pub = parsePublicKey(fixture('cosign.pub'));
    expect(signer.publicKey.type).toBe('EC');
    expect(signer.publicKey.curve).toBe('P-256');
    expect(toBase64(signer.publicKey.spki)).toBe(toBase64(pub.spki));
    const data = utf8('hello');
    const sig = await signer.sign(data, 'SHA-256');
    expect(await webVerify(pub.spki, 'EC', data, sig, 'SHA-256', 'P-256')).toBe(true);
  });

  it('decrypts imported Ed25519 and RSA keys (empty password) and signs as cosign does', async () => {
    const ed = await loadSigner(fixture('ed.key'), { password: 'vouch-test' });
    expect(ed.publicKey.type).toBe('Ed25519');
    expect(toBase64(ed.publicKey.spki)).toBe(toBase64(parsePublicKey(fixture('ed.pub')).spki));
    const data = utf8('payload');
    expect(await webVerify(ed.publicKey.spki, 'Ed25519', data, await ed.sign(data, 'SHA-256'))).toBe(true);
    const rsa = await loadSigner(fixture('rsa.key'), { password: '' });
    expect(rsa.publicKey).toMatchObject({ type: 'RSA', bits: 2048 });
    expect(await webVerify(rsa.publicKey.spki, 'RSA', data, await rsa.sign(data, 'SHA-256'))).toBe(true);
    expect(defaultHashOf(rsa.publicKey)).toBe('SHA-256');
    expect(defaultHashOf(ed.publicKey)).toBeUndefined();
  });

  it('a wrong password fails as "decrypt failed"; a missing one asks for COSIGN_PASSWORD', async () => {
    const wrong = await decryptCosignKey(fixture('cosign.key'), 'nope').catch((e: VouchError) => e);
    expect(wrong).toBeInstanceOf(VouchError);
    expect((wrong as VouchError).code).toBe('ERR_KEY_NOT_FOUND');
    expect((wrong as VouchError).message).toMatch(/^decrypt failed/);
    const none = await loadSigner(fixture('cosign.key')).catch((e: VouchError) => e);
    expect((none as VouchError).message).toMatch(/COSIGN_PASSWORD/);
  });

  it('encrypts what it decrypts, under both PEM types', async () => {
    const pkcs8 = await decryptCosignKey(fixture('rsa.key'), '');
    for (const pemType of [undefined, ENCRYPTED_COSIGN_KEY_PEM] as const) {
      const pem = await encryptCosignKey(pkcs8, 'pw', { N: 1024, ...(pemType ? { pemType } : {}) });
      if (pemType) expect(pem).toContain(`BEGIN ${pemType}`);
      expect(toBase64(await decryptCosignKey(pem, 'pw'))).toBe(toBase64(pkcs8));
      await expect(decryptCosignKey(pem, 'pw2')).toRejectWithCode('ERR_KEY_NOT_FOUND');
    }
  });
});

describe('PEM keys', () => {
  it('PKCS#8 and SEC1 forms of one P-384 key are the same signer; the public key parses', async () => {
    const a = await loadSigner(fixture('p384-pkcs8.pem'));
    const b = await loadSigner(fixture('p384-sec1.pem'));
    const pub = parsePublicKey(fixture('p384.pub'));
    expect(a.publicKey).toMatchObject({ type: 'EC', curve: 'P-384', bits: 384 });
    expect(toBase64(a.publicKey.spki)).toBe(toBase64(pub.spki));
    expect(toBase64(b.publicKey.spki)).toBe(toBase64(pub.spki));
    expect(defaultHashOf(pub)).toBe('SHA-384');
    const data = utf8('x');
    for (const hash of ['SHA-256', 'SHA-384'] as const) {
      expect(await webVerify(pub.spki, 'EC', data, await b.sign(data, hash), hash, 'P-384')).toBe(true);
    }
  });

  it('PKCS#8 and PKCS#1 forms of one RSA key; RSA PUBLIC KEY (PKCS#1) is read as SPKI', async () => {
    const a = await loadSigner(fixture('rsa-pkcs8.pem'));
    const b = await loadSigner(fixture('rsa-pkcs1.pem'));
    const pub = parsePublicKey(fixture('rsa-pkcs1.pub'));
    expect(toBase64(a.publicKey.spki)).toBe(toBase64(pub.spki));
    expect(toBase64(b.publicKey.spki)).toBe(toBase64(pub.spki));
    expect(publicKeyToPem(pub)).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('a multi-PEM list expands to every key; no key, or encrypted PKCS#8, fails with a reason', async () => {
    const both = parsePublicKeys(`${fixture('cosign.pub')}\n${fixture('ed.pub')}`);
    expect(both.map((k) => k.type)).toEqual(['EC', 'Ed25519']);
    await expect(() => parsePublicKeys('not a key')).toRejectWithCode('ERR_MALFORMED_INPUT');
    await expect(() => parsePublicKey(`${fixture('cosign.pub')}${fixture('ed.pub')}`)).toRejectWithCode('ERR_INVALID_ARGUMENT');
    const enc = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n';
    await expect(loadSigner(enc)).toRejectWithCode('ERR_UNSUPPORTED');
    await expect(loadSigner(fixture('cosign.pub'))).toRejectWithCode('ERR_MALFORMED_INPUT');
  });

  it('the bundle hint is the base64 SHA-256 of the SPKI (as cosign 3 writes it)', async () => {
    // cosign 3.1 wrote this hint for a bundle signed with the fixture key pair's sibling; here: recompute
    const pub = parsePublicKey(fixture('cosign.pub'));
    const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', pub.spki as Uint8Array<ArrayBuffer>));
    expect(await publicKeyHint(pub)).toBe(toBase64(digest));
  });
});

describe('property: the encrypted key file parser', () => {
  const envelope = () =>
    JSON.parse(new TextDecoder().decode(fromBase64(fixture('cosign.key').split('\n').slice(1, -2).join('')))) as Record<string, unknown>;

  it('never throws anything but a VouchError(ERR_MALFORMED_INPUT) on arbitrary JSON or bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue().map((v) => utf8(JSON.stringify(v))),
          fc.uint8Array({ maxLength: 300 }),
        ),
        (bytes) => {
          try {
            parseEncryptedCosignKey(bytes);
          } catch (e) {
            expect(e).toBeVouchError('ERR_MALFORMED_INPUT');
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('dropping or retyping any field of a real envelope is refused', () => {
    const paths = [
      ['kdf'],
      ['kdf', 'name'],
      ['kdf', 'params'],
      ['kdf', 'params', 'N'],
      ['kdf', 'params', 'r'],
      ['kdf', 'params', 'p'],
      ['kdf', 'salt'],
      ['cipher'],
      ['cipher', 'name'],
      ['cipher', 'nonce'],
      ['ciphertext'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.constantFrom(undefined, null, -1, 0, 1.5, 'x!', [], {}), (path, value) => {
        const doc = envelope();
        let o = doc as Record<string, unknown>;
        for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
        if (value === undefined) delete o[path[path.length - 1]!];
        else o[path[path.length - 1]!] = value;
        let code = 'parsed';
        try {
          parseEncryptedCosignKey(utf8(JSON.stringify(doc)));
        } catch (e) {
          code = isVouchError(e) ? e.code : 'other';
        }
        expect(code).toBe('ERR_MALFORMED_INPUT');
      }),
      { numRuns: 300 },
    );
  });

  it('scrypt parameters: N must be a power of two and the memory bounded', () => {
    for (const [N, r, ok] of [
      [65536, 8, true],
      [3, 8, false],
      [1, 8, false],
      [1 << 20, 8, false],
      [1 << 18, 16, false],
      [1 << 17, 16, true],
    ] as const) {
      const doc = envelope();
      (doc.kdf as { params: Record<string, number> }).params = { N, r, p: 1 };
      const got = (() => {
        try {
          parseEncryptedCosignKey(utf8(JSON.stringify(doc)));
          return true;
        } catch {
          return false;
        }
      })();
      expect(got, `N=${N} r=${r}`).toBe(ok);
    }
  });

  it('round trip: any PKCS#8-sized plaintext and password decrypt to themselves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.string({ maxLength: 20 }), async (plain, password) => {
        const pem = await encryptCosignKey(plain, password, { N: 16, r: 8 });
        expect(toBase64(await decryptCosignKey(pem, password))).toBe(toBase64(plain));
      }),
      { numRuns: 40 },
    );
  });
});
