// Test-only: a signer + verifier plugin written with the SDK, signing with a node:crypto key.
import { createPrivateKey, constants as cryptoConstants, sign } from 'node:crypto';
import { bytesEqual } from '@vouch/core/internal';
import { type HashAlgorithm, signingAlgorithmForKeySpec } from '../constants.js';
import { definePlugin } from '../define.js';
import { PluginError } from '../errors.js';
import type { TestKey } from './certs.js';

const HASH: Record<HashAlgorithm, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const SALT: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** Plugin `io.vouch.test.sdk` with one key, id `test-key`. Key id `denied` answers ACCESS_DENIED. */
export function makeSdkPlugin(key: TestKey, name = 'io.vouch.test.sdk') {
  const privateKey = createPrivateKey(key.keyPem);
  return definePlugin({
    metadata: {
      name,
      description: 'vouch SDK test plugin',
      version: '1.2.3',
      url: 'https://example.invalid/vouch',
      supportedContractVersions: ['1.0'],
      capabilities: ['SIGNATURE_GENERATOR.RAW', 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY', 'SIGNATURE_VERIFIER.REVOCATION_CHECK'],
    },
    describeKey(req) {
      if (req.keyId === 'denied') throw new PluginError('ACCESS_DENIED', 'the key store denied access', { metadata: { keyId: req.keyId } });
      if (req.keyId !== 'test-key') throw new PluginError('VALIDATION_ERROR', `unknown key ${req.keyId}`);
      return { keyId: req.keyId, keySpec: key.keySpec };
    },
    generateSignature(req) {
      if (req.keyId !== 'test-key') throw new PluginError('VALIDATION_ERROR', `unknown key ${req.keyId}`);
      if (req.keySpec !== key.keySpec) throw new PluginError('VALIDATION_ERROR', `key test-key is ${key.keySpec}, not ${req.keySpec}`);
      const rsa = key.keySpec.startsWith('RSA');
      const signature = sign(
        HASH[req.hashAlgorithm],
        req.payload,
        rsa
          ? { key: privateKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: SALT[req.hashAlgorithm] }
          : { key: privateKey, dsaEncoding: 'ieee-p1363' },
      );
      return {
        keyId: req.keyId,
        signature: new Uint8Array(signature),
        signingAlgorithm: signingAlgorithmForKeySpec(key.keySpec),
        certificateChain: [key.certDer],
      };
    },
    verifySignature(req) {
      const leaf = req.signature.certificateChain[0]!;
      const ours = bytesEqual(leaf, key.certDer);
      const results: Record<string, { success: boolean; reason?: string }> = {};
      for (const cap of req.trustPolicy.signatureVerification) {
        results[cap] =
          cap === 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY'
            ? ours
              ? { success: true }
              : { success: false, reason: 'the signing certificate is not the test key' }
            : { success: true };
      }
      return { verificationResults: results, processedAttributes: [...req.signature.unprocessedAttributes] };
    },
  });
}
