import { describe, expect, it } from 'vitest';
import { KYVERNO_SUPPORT } from '../policy/support.js';
import type { ImageVerification } from '../types.js';
import { materialKey, type NotaryImageVerifier } from '../verifier/verifier.js';
import { attestorTypes, digestResolver } from './attestors.js';
import type { KyvernoEngineOptions } from './types.js';

const IV: ImageVerification = { imageReferences: ['*'], mutateDigest: false, verifyDigest: false, required: false, useCache: true };

describe('attestor types (the seam between the rules and signature verification)', () => {
  it('exist for exactly the verifyImages types KYVERNO_SUPPORT marks as evaluated', () => {
    const evaluated = Object.entries(KYVERNO_SUPPORT)
      .filter(([construct, s]) => construct.startsWith('verifyImages.type.') && s.supported)
      .map(([construct]) => construct.slice('verifyImages.type.'.length));
    expect([...attestorTypes({ policies: [] }).keys()].sort()).toEqual(evaluated.sort());
  });

  it('Notary: material from certificates (empty fields left out), keyed like materialKey', () => {
    const notary = attestorTypes({ policies: [] }).get('Notary')!;
    const material = notary.material({ certificates: { cert: 'A', certChain: '', tsaCertChain: 'T' } }, IV);
    expect(material).toEqual({ certificates: 'A', tsaCertChain: 'T' });
    expect(notary.identity(material)).toEqual(['A', '', 'T']);
    expect(notary.key(material, undefined)).toBe(materialKey({ certificates: 'A', tsaCertChain: 'T' }));
    expect(notary.key(material, { version: '1.0' })).not.toBe(notary.key(material, undefined));
    expect(notary.material({ keys: { publicKeys: 'k' } }, IV)).toEqual({});
  });

  it("Notary reads the engine's verifier when it checks, and says what is missing", async () => {
    const options: KyvernoEngineOptions = { policies: [] };
    const notary = attestorTypes(options).get('Notary')!;
    expect(notary.verifier).toBeUndefined();
    expect(notary.noVerifier()).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'no NotaryImageVerifier is configured for the Kyverno engine',
    });
    expect(notary.noAttestations().code).toBe('ERR_UNSUPPORTED');
    expect(() => digestResolver(options)).toThrow('no digest resolver is configured (NotaryImageVerifier.resolveDigest)');
    const verifier: NotaryImageVerifier = {
      verifyImage: async () => ({ digest: 'sha256:1' }),
      async resolveDigest(image) {
        return `${this === verifier ? 'bound' : 'unbound'}:${image}`;
      },
    };
    options.verifier = verifier;
    expect(notary.verifier).toBe(verifier);
    expect(await digestResolver(options)('img')).toBe('bound:img');
  });
});

describe('Cosign attestor material (Kyverno buildCosignVerifier)', () => {
  const cosign = attestorTypes({ policies: [] }).get('Cosign')!;
  const iv = (extra: Partial<ImageVerification> = {}): ImageVerification => ({ ...IV, ...extra });

  it('an absent rekor / ctlog block means the log and SCTs are required; present ones are read', () => {
    expect(cosign.material({ keys: { publicKeys: 'K' } }, iv())).toEqual({
      form: 'keys',
      sigstoreBundle: false,
      publicKeys: 'K',
      ignoreTlog: false,
      ignoreSct: false,
    });
    expect(
      cosign.material(
        {
          keyless: {
            subject: 's',
            rekor: { url: 'u', pubkey: 'R', ignoreTlog: true },
            ctlog: { ignoreSCT: true, pubkey: 'C', tsaCertChain: 'T' },
          },
        },
        iv({ type: 'SigstoreBundle' }),
      ),
    ).toEqual({
      form: 'keyless',
      sigstoreBundle: true,
      subject: 's',
      ignoreTlog: true,
      rekorPubKey: 'R',
      ignoreSct: true,
      ctlogPubKey: 'C',
      tsaCertChain: 'T',
    });
    // an attestation without attestors: Kyverno's empty attestor (log required, SCTs not)
    expect(cosign.material({}, iv())).toEqual({ form: 'none', sigstoreBundle: false, ignoreTlog: false, ignoreSct: true });
  });

  it('the attestor repository and annotations win over the entry-level ones; keys use keys.signatureAlgorithm only', () => {
    const m = cosign.material(
      { keys: { publicKeys: 'K' }, repository: 'reg/sigs', annotations: { a: 'b' }, signatureAlgorithm: 'sha512' },
      iv({ repository: 'reg/other', annotations: { c: 'd' } }),
    );
    expect(m).toMatchObject({ repository: 'reg/sigs', annotations: { a: 'b' } });
    expect(m).not.toHaveProperty('signatureAlgorithm');
    expect(cosign.material({ certificates: { cert: 'C' } }, iv({ repository: 'reg/other' }))).toMatchObject({ repository: 'reg/other' });
  });

  it('paths and the multi-key split (only the key is kept, as Kyverno keeps it)', () => {
    expect([{ keys: {} }, { certificates: {} }, { keyless: {} }, {}].map((e) => cosign.entryPath(e))).toEqual([
      '.keys',
      '.certificates',
      '.keyless',
      '',
    ]);
    const k = (n: string) => `-----BEGIN PUBLIC KEY-----\n${n}\n-----END PUBLIC KEY-----`;
    const set = {
      count: 1,
      entries: [{ keys: { publicKeys: `${k('A')}\n${k('B')}\n`, rekor: { url: 'u', ignoreTlog: true } } }, { keyless: {} }],
    };
    const split = cosign.entries(set);
    expect(split).toHaveLength(3);
    expect(split[0]!.keys).toEqual({ publicKeys: k('A') });
    expect(Object.keys(split[0]!)).toEqual(['keys']);
    expect(split[1]!.keys).toEqual({ publicKeys: `\n${k('B')}` });
    expect(split[2]).toBe(set.entries[1]);
    expect(cosign.material(split[0]!, iv())).toMatchObject({ ignoreTlog: false, split: true });
    const single = { entries: [{ keys: { publicKeys: k('A') } }] };
    expect(cosign.entries(single)).toBe(single.entries);
    expect(cosign.key(cosign.material(split[0]!, iv()), undefined)).not.toBe(cosign.key(cosign.material(split[1]!, iv()), undefined));
  });
});
