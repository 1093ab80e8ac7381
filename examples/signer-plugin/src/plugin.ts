import { constants, sign } from 'node:crypto';
import {
  definePlugin,
  type HashAlgorithm,
  hashAlgorithmForKeySpec,
  type Plugin,
  PluginError,
  signingAlgorithmForKeySpec,
} from '@vouch/plugin';
import { type KeyStoreOptions, loadKey } from './keystore.js';

/** The plugin name: the executable is `notation-vouch-pkcs12`. */
export const PLUGIN_NAME = 'vouch-pkcs12';
/** The plugin version. */
export const PLUGIN_VERSION = '0.1.0';

const NODE_HASH: Record<HashAlgorithm, [string, number]> = {
  'SHA-256': ['sha256', 32],
  'SHA-384': ['sha384', 48],
  'SHA-512': ['sha512', 64],
};

/**
 * A SIGNATURE_GENERATOR.RAW plugin whose keys are PKCS#12 files (or PEM key directories): the
 * key id is the file's path. See the README for the pluginConfig keys.
 */
export function createPkcs12Plugin(options: KeyStoreOptions = {}): Plugin {
  return definePlugin({
    metadata: {
      name: PLUGIN_NAME,
      description: 'Signs with a key from a PKCS#12 (.p12/.pfx) file or a PEM key directory',
      version: PLUGIN_VERSION,
      url: 'https://example.invalid/vouch/examples/signer-plugin',
      supportedContractVersions: ['1.0'],
      capabilities: ['SIGNATURE_GENERATOR.RAW'],
    },
    async describeKey({ keyId, pluginConfig }) {
      const key = await loadKey(keyId, pluginConfig, options);
      return { keyId, keySpec: key.keySpec };
    },
    async generateSignature({ keyId, pluginConfig, keySpec, hashAlgorithm, payload }) {
      const key = await loadKey(keyId, pluginConfig, options);
      if (keySpec !== key.keySpec) throw new PluginError('VALIDATION_ERROR', `key ${keyId} is ${key.keySpec}, not ${keySpec}`);
      if (hashAlgorithm !== hashAlgorithmForKeySpec(keySpec)) {
        throw new PluginError(
          'VALIDATION_ERROR',
          `key spec ${keySpec} signs with ${hashAlgorithmForKeySpec(keySpec)}, not ${hashAlgorithm}`,
        );
      }
      const [hash, saltLength] = NODE_HASH[hashAlgorithm];
      const signature = keySpec.startsWith('RSA')
        ? sign(hash, payload, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
        : sign(hash, payload, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
      return {
        keyId,
        signature: new Uint8Array(signature),
        signingAlgorithm: signingAlgorithmForKeySpec(keySpec),
        certificateChain: key.chain,
      };
    },
  });
}

/** The plugin with default options (environment and working directory of the process). */
export const plugin: Plugin = createPkcs12Plugin();
