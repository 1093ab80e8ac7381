/**
 * vouch's equivalent of notation's e2e test plugin (`notation-e2e-plugin`, Go code upstream,
 * described in ../shared/vectors/notation-e2e/README.md), written with the vouch plugin SDK.
 * Name `e2e-plugin`, version 1.0.0. Capabilities: always SIGNATURE_VERIFIER.TRUSTED_IDENTITY and
 * REVOCATION_CHECK, plus SIGNATURE_GENERATOR.RAW / .ENVELOPE when pluginConfig maps that name to
 * "true". Keys come from `<notation config dir>/pluginkeys.json` (signingkeys.json shape, entry
 * matched by `id`). Tamper knobs in pluginConfig as upstream. Refuses every command when registry
 * credentials (NOTATION_USERNAME / NOTATION_PASSWORD) are in its environment.
 */
import { createPrivateKey, constants as cryptoConstants, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '@vouch/core';
import { type EnvelopeCodec, type ExtendedAttribute, localRawSigner, parsePayload } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  type Capability,
  definePlugin,
  type HashAlgorithm,
  type KeySpec,
  type Plugin,
  type PluginConfig,
  PluginError,
  type PluginMetadata,
  type SigningAlgorithm,
  signingAlgorithmForKeySpec,
} from '@vouch/plugin';
import { type Certificate, importPrivateKey, keySpecOf, parseCertificates } from '@vouch/x509';

const TI = 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY';
const RC = 'SIGNATURE_VERIFIER.REVOCATION_CHECK';

function metadataFor(cfg: PluginConfig | undefined): PluginMetadata {
  const caps: Capability[] = [TI, RC];
  if (cfg?.['SIGNATURE_GENERATOR.RAW'] === 'true') caps.push('SIGNATURE_GENERATOR.RAW');
  if (cfg?.['SIGNATURE_GENERATOR.ENVELOPE'] === 'true') caps.push('SIGNATURE_GENERATOR.ENVELOPE');
  // vouch addition: the newest spec's blob envelope capability (describe-key + generate-envelope)
  if (cfg?.['SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB'] === 'true') caps.push('SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB');
  return {
    name: 'e2e-plugin',
    description: 'The e2e-plugin is a Notation compatible plugin for Notation E2E test',
    version: '1.0.0',
    url: 'https://github.com/notaryproject/notation/test/e2e/plugin',
    supportedContractVersions: ['1.0'],
    capabilities: caps,
  };
}

function notationDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'notation');
}

function loadKey(keyId: string, env: NodeJS.ProcessEnv): { keyPem: string; certs: Certificate[]; chain: Uint8Array[]; keySpec: KeySpec } {
  const file = join(notationDir(env), 'pluginkeys.json');
  let doc: { keys?: { id?: string; keyPath?: string; certPath?: string }[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PluginError('VALIDATION_ERROR', `cannot read ${file}: ${(e as Error).message}`);
  }
  const entry = (doc.keys ?? []).find((k) => k.id === keyId);
  if (!entry?.keyPath || !entry.certPath) throw new PluginError('VALIDATION_ERROR', `key ${keyId} not found in ${file}`);
  const keyPem = readFileSync(entry.keyPath, 'utf8');
  const certs = parseCertificates(new Uint8Array(readFileSync(entry.certPath)));
  return {
    keyPem,
    chain: certs.map((c) => c.der),
    keySpec: keySpecOf(certs[0]!),
    certs,
  };
}

const NODE_HASH: Record<HashAlgorithm, [string, number]> = {
  'SHA-256': ['sha256', 32],
  'SHA-384': ['sha384', 48],
  'SHA-512': ['sha512', 64],
};

function guard(env: NodeJS.ProcessEnv): void {
  if (env.NOTATION_USERNAME || env.NOTATION_PASSWORD) {
    throw new PluginError('VALIDATION_ERROR', 'registry credentials (NOTATION_USERNAME / NOTATION_PASSWORD) must not be passed to plugins');
  }
}

/** The e2e plugin as it answers a request with this pluginConfig (capabilities depend on it). */
export function e2ePlugin(cfg: PluginConfig | undefined, env: NodeJS.ProcessEnv = process.env): Plugin {
  const md = metadataFor(cfg);
  const caps = new Set<string>(md.capabilities);
  return definePlugin({
    metadata: md,
    ...(caps.has('SIGNATURE_GENERATOR.RAW') || caps.has('SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB')
      ? {
          describeKey(req) {
            guard(env);
            const c = req.pluginConfig ?? {};
            return {
              keyId: c.TAMPER_DESCRIBE_KEY_ID ?? req.keyId,
              keySpec: (c.TAMPER_KEY_SPEC as KeySpec | undefined) ?? loadKey(req.keyId, env).keySpec,
            };
          },
        }
      : {}),
    ...(caps.has('SIGNATURE_GENERATOR.RAW')
      ? {
          generateSignature(req) {
            guard(env);
            const c = req.pluginConfig ?? {};
            const k = loadKey(req.keyId, env);
            const [hash, saltLength] = NODE_HASH[req.hashAlgorithm];
            const key = createPrivateKey(k.keyPem);
            const signature = k.keySpec.startsWith('RSA')
              ? nodeSign(hash, req.payload, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength })
              : nodeSign(hash, req.payload, { key, dsaEncoding: 'ieee-p1363' });
            return {
              keyId: c.TAMPER_KEY_ID ?? req.keyId,
              signature: c.TAMPER_SIGNATURE !== undefined ? utf8(c.TAMPER_SIGNATURE) : new Uint8Array(signature),
              signingAlgorithm: (c.TAMPER_SIGNATURE_ALGORITHM ?? signingAlgorithmForKeySpec(k.keySpec)) as SigningAlgorithm,
              certificateChain: c.TAMPER_CERTIFICATE_CHAIN !== undefined ? [utf8(c.TAMPER_CERTIFICATE_CHAIN)] : k.chain,
            };
          },
        }
      : {}),
    ...(caps.has('SIGNATURE_GENERATOR.ENVELOPE') || caps.has('SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB')
      ? {
          async generateEnvelope(req) {
            guard(env);
            const c = req.pluginConfig ?? {};
            const k = loadKey(req.keyId, env);
            const codec: EnvelopeCodec = req.signatureEnvelopeType === cose.mediaType ? cose : jws;
            if (req.signatureEnvelopeType !== jws.mediaType && req.signatureEnvelopeType !== cose.mediaType) {
              throw new PluginError('VALIDATION_ERROR', `unsupported envelope type ${req.signatureEnvelopeType}`);
            }
            const extendedAttributes: ExtendedAttribute[] = [];
            for (const key of ['io.cncf.notary.verificationPlugin', 'io.cncf.notary.verificationPluginMinVersion']) {
              if (c[key] !== undefined) extendedAttributes.push({ key, value: c[key], critical: true });
            }
            const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000);
            const envelope = await codec.sign({
              payload: parsePayload(req.payload),
              signingScheme: 'notary.x509',
              signingTime,
              ...(req.expiryDurationInSeconds ? { expiry: new Date(signingTime.getTime() + req.expiryDurationInSeconds * 1000) } : {}),
              extendedAttributes,
              signingAgent: 'e2e-plugin',
              signer: localRawSigner(await importPrivateKey(k.keyPem), k.certs),
            });
            const annotations: Record<string, string> = { signer: 'e2e-plugin' };
            if (c.TAMPER_ANNOTATION) {
              const eq = c.TAMPER_ANNOTATION.indexOf('=');
              if (eq > 0) annotations[c.TAMPER_ANNOTATION.slice(0, eq)] = c.TAMPER_ANNOTATION.slice(eq + 1);
            }
            return {
              signatureEnvelope: c.TAMPER_SIGNATURE_ENVELOPE !== undefined ? utf8(c.TAMPER_SIGNATURE_ENVELOPE) : envelope,
              signatureEnvelopeType: c.TAMPER_SIGNATURE_ENVELOPE_TYPE ?? req.signatureEnvelopeType,
              annotations,
            };
          },
        }
      : {}),
    verifySignature(req) {
      guard(env);
      if (!req.signature.criticalAttributes.expiry && !rawExpirySeen) {
        throw new PluginError('VALIDATION_ERROR', 'signature.criticalAttributes.expiry is required');
      }
      const c = req.pluginConfig ?? {};
      const results: Record<string, { success: boolean; reason?: string }> = {};
      for (const cap of req.trustPolicy.signatureVerification) {
        const ok = c[cap] === undefined || c[cap] === 'success';
        results[cap] = ok
          ? { success: true }
          : { success: false, reason: cap === TI ? 'trusted identity check failed' : 'revocation check failed' };
      }
      return { verificationResults: results, processedAttributes: [] };
    },
  });
}

/** Set by the executable when the raw request carried `criticalAttributes.expiry` (the zero time decodes to "none"). */
let rawExpirySeen = false;
/** Tell the plugin whether the raw verify-signature request carried an expiry. */
export function setRawExpirySeen(v: boolean): void {
  rawExpirySeen = v;
}
