import { describe, expect, it } from 'vitest';
import { KYVERNO_SUPPORT } from '../policy/support.js';
import { materialKey, type NotaryImageVerifier } from '../verifier/verifier.js';
import { attestorTypes, digestResolver } from './attestors.js';
import type { KyvernoEngineOptions } from './types.js';

describe('attestor types (the seam between the rules and signature verification)', () => {
  it('exist for exactly the verifyImages types KYVERNO_SUPPORT marks as evaluated', () => {
    const evaluated = Object.entries(KYVERNO_SUPPORT)
      .filter(([construct, s]) => construct.startsWith('verifyImages.type.') && s.supported)
      .map(([construct]) => construct.slice('verifyImages.type.'.length));
    expect([...attestorTypes({ policies: [] }).keys()].sort()).toEqual(evaluated.sort());
  });

  it('Notary: material from certificates (empty fields left out), keyed like materialKey', () => {
    const notary = attestorTypes({ policies: [] }).get('Notary')!;
    const material = notary.material({ certificates: { cert: 'A', certChain: '', tsaCertChain: 'T' } });
    expect(material).toEqual({ certificates: 'A', tsaCertChain: 'T' });
    expect(notary.identity(material)).toEqual(['A', '', 'T']);
    expect(notary.key(material, undefined)).toBe(materialKey({ certificates: 'A', tsaCertChain: 'T' }));
    expect(notary.key(material, { version: '1.0' })).not.toBe(notary.key(material, undefined));
    expect(notary.material({ keys: { publicKeys: 'k' } })).toEqual({});
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
