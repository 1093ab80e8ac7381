import { isVouchError, utf8 } from '@vouch/core';
import type { PluginClient } from './client.js';
import { encodeRequest } from './codec.js';
import {
  Capability,
  CONTRACT_VERSION,
  hashAlgorithmForKeySpec,
  PluginCommand,
  type PluginErrorCode,
  VERIFIER_CAPABILITIES,
  type VerifierCapability,
} from './constants.js';
import { certificateKey, verifyGenerateSignatureResponse } from './crypto.js';
import { isPluginError } from './errors.js';
import type { DescribeKeyResponse, PluginConfig, PluginMetadata, VerifySignatureRequest } from './types.js';

/** Options of {@link pluginConformance}. */
export interface ConformanceOptions {
  /** A key the plugin can use; required to exercise describe-key, generate-signature and generate-envelope. */
  keyId?: string;
  /** A key id the plugin does not know (default `vouch-conformance-no-such-key`). */
  unknownKeyId?: string;
  /** Passed in every request. */
  pluginConfig?: PluginConfig;
  /** Expected metadata name (default: the client's `name`). */
  expectedName?: string;
  /** Certificate chain (DER, leaf first) for verify-signature when the plugin cannot sign it one itself. */
  certificateChain?: Uint8Array[];
  /** `trustPolicy.trustedIdentities` sent to verify-signature (default `['*']`). */
  trustedIdentities?: string[];
  /** Envelope type asked of generate-envelope (default `application/jose+json`). */
  signatureEnvelopeType?: string;
}

/** One named conformance check. */
export interface ConformanceCheck {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  reason?: string;
}

const JWS = 'application/jose+json';

function errText(e: unknown): string {
  if (isPluginError(e)) return `plugin error ${e.pluginErrorCode}: ${e.message}`;
  if (isVouchError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Run the plugin contract against a plugin, in-process (`inProcessPlugin`) or as an
 * executable (`executablePlugin` from @vouch/node), and return one named check per rule:
 * metadata rules; every advertised command with a good request, with unknown fields, and
 * with bad requests (missing or mistyped fields, unknown key spec / hash / capability,
 * non-base64 bytes, missing or unsupported contract version) that must be answered with a
 * well-formed error body of the right code; an unknown command; the RAW signature checked
 * against the returned leaf certificate with WebCrypto (key spec, algorithm, signature).
 *
 * Not covered here (needs layers above @vouch/plugin): certificate chain validation against
 * the Notary profile and full verification of envelopes returned by generate-envelope; the
 * @vouch/notation signing path performs both. Never throws; a plugin that crashes fails checks.
 */
export async function pluginConformance(client: PluginClient, options: ConformanceOptions = {}): Promise<ConformanceCheck[]> {
  const checks: ConformanceCheck[] = [];
  const cfg = options.pluginConfig ? { pluginConfig: options.pluginConfig } : {};
  const pass = (name: string) => checks.push({ name, status: 'passed' });
  const fail = (name: string, reason: string) => checks.push({ name, status: 'failed', reason });
  const skip = (name: string, reason: string) => checks.push({ name, status: 'skipped', reason });
  const run = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
      pass(name);
    } catch (e) {
      fail(name, errText(e));
    }
  };
  /** Send raw JSON and expect an error body (of `code`, unless 'any'). */
  const rejects = async (name: string, command: string, request: unknown, code: PluginErrorCode | 'any') => {
    try {
      await client.call(command, request);
      fail(name, 'the plugin accepted the request and answered with success');
    } catch (e) {
      if (!isPluginError(e)) return fail(name, `expected an error body, got ${errText(e)}`);
      if (code !== 'any' && e.pluginErrorCode !== code)
        return fail(name, `expected error code ${code}, got ${e.pluginErrorCode}: ${e.message}`);
      pass(name);
    }
  };

  // ---------------------------------------------------------------- metadata
  let md: PluginMetadata | undefined;
  try {
    md = await client.metadata(cfg);
    pass('get-plugin-metadata: valid response');
  } catch (e) {
    fail('get-plugin-metadata: valid response', errText(e));
    return checks;
  }
  const expectedName = options.expectedName ?? client.name;
  if (expectedName === undefined) skip('get-plugin-metadata: name matches the executable', 'no expected name given');
  else if (md.name === expectedName) pass('get-plugin-metadata: name matches the executable');
  else fail('get-plugin-metadata: name matches the executable', `expected "${expectedName}", plugin reports "${md.name}"`);
  await run('get-plugin-metadata: stable across calls', async () => {
    const again = await client.metadata(cfg);
    if (JSON.stringify(again) !== JSON.stringify(md)) throw new Error('a second call returned different metadata; metadata must be static');
  });
  await run('get-plugin-metadata: ignores unknown request fields', async () => {
    await client.call(PluginCommand.GET_PLUGIN_METADATA, { ...cfg, vouchConformanceFutureField: { nested: true } });
  });
  await rejects('unknown command: answered with an error body', 'vouch-conformance-no-such-command', {}, 'any');

  const caps = new Set<string>(md.capabilities);
  const raw = caps.has(Capability.SIGNATURE_GENERATOR_RAW);
  const envelope = caps.has(Capability.SIGNATURE_GENERATOR_ENVELOPE);
  const describes = raw || caps.has(Capability.SIGNATURE_GENERATOR_ENVELOPE_FOR_BLOB);
  const verifierCaps = VERIFIER_CAPABILITIES.filter((c) => caps.has(c));
  const keyId = options.keyId;
  const base = { contractVersion: CONTRACT_VERSION, ...cfg };

  // ---------------------------------------------------------------- describe-key
  let described: DescribeKeyResponse | undefined;
  if (describes) {
    if (keyId === undefined) {
      skip('describe-key: good request', 'options.keyId not given');
    } else {
      await run('describe-key: good request', async () => {
        described = await client.describeKey({ keyId, ...cfg });
      });
      await run('describe-key: ignores unknown request fields', async () => {
        await client.call(PluginCommand.DESCRIBE_KEY, { ...base, keyId, vouchConformanceFutureField: 1 });
      });
      await rejects(
        'describe-key: missing contractVersion → VALIDATION_ERROR',
        PluginCommand.DESCRIBE_KEY,
        { keyId, ...cfg },
        'VALIDATION_ERROR',
      );
      await rejects(
        'describe-key: contract version 99.0 → UNSUPPORTED_CONTRACT_VERSION',
        PluginCommand.DESCRIBE_KEY,
        { ...base, contractVersion: '99.0', keyId },
        'UNSUPPORTED_CONTRACT_VERSION',
      );
    }
    await rejects('describe-key: missing keyId → VALIDATION_ERROR', PluginCommand.DESCRIBE_KEY, base, 'VALIDATION_ERROR');
    await rejects(
      'describe-key: keyId not a string → VALIDATION_ERROR',
      PluginCommand.DESCRIBE_KEY,
      { ...base, keyId: 42 },
      'VALIDATION_ERROR',
    );
    await rejects(
      'describe-key: request not an object → VALIDATION_ERROR',
      PluginCommand.DESCRIBE_KEY,
      ['not', 'an', 'object'],
      'VALIDATION_ERROR',
    );
    await rejects(
      'describe-key: unknown key → error body',
      PluginCommand.DESCRIBE_KEY,
      { ...base, keyId: options.unknownKeyId ?? 'vouch-conformance-no-such-key' },
      'any',
    );
  }

  // ---------------------------------------------------------------- generate-signature
  let chainForVerify = options.certificateChain;
  if (raw) {
    if (!described || keyId === undefined) {
      skip('generate-signature: good request, signature verifies with the leaf certificate', 'describe-key did not succeed');
    } else {
      const keySpec = described.keySpec;
      const request = {
        keyId,
        keySpec,
        hashAlgorithm: hashAlgorithmForKeySpec(keySpec),
        payload: utf8('eyJhbGciOiJQUzI1NiJ9.eyJ2b3VjaCI6ImNvbmZvcm1hbmNlIn0'),
        ...cfg,
      };
      await run('generate-signature: good request, signature verifies with the leaf certificate', async () => {
        const res = await client.generateSignature(request);
        await verifyGenerateSignatureResponse(request, res);
        res.certificateChain.forEach((c, i) => {
          if (i > 0) certificateKey(c); // every chain entry must at least be a certificate
        });
        chainForVerify ??= res.certificateChain;
      });
      const json = encodeRequest(PluginCommand.GENERATE_SIGNATURE, request) as unknown as Record<string, unknown>;
      await run('generate-signature: ignores unknown request fields', async () => {
        await client.call(PluginCommand.GENERATE_SIGNATURE, { ...json, vouchConformanceFutureField: 'x' });
      });
      const bad: [string, Record<string, unknown>][] = [
        ['unknown keySpec RSA-1024', { ...json, keySpec: 'RSA-1024' }],
        ['unknown hashAlgorithm MD5', { ...json, hashAlgorithm: 'MD5' }],
        ['payload not base64', { ...json, payload: '***not base64***' }],
        ['missing payload', { ...json, payload: undefined }],
        ['missing contractVersion', { ...json, contractVersion: undefined }],
      ];
      for (const [what, req] of bad) {
        await rejects(`generate-signature: ${what} → VALIDATION_ERROR`, PluginCommand.GENERATE_SIGNATURE, req, 'VALIDATION_ERROR');
      }
    }
  }

  // ---------------------------------------------------------------- generate-envelope
  if (envelope) {
    const envType = options.signatureEnvelopeType ?? JWS;
    const payload = utf8(
      JSON.stringify({
        targetArtifact: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: 'sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
          size: 3,
        },
      }),
    );
    const request = {
      keyId: keyId ?? '',
      payload,
      payloadType: 'application/vnd.cncf.notary.payload.v1+json',
      signatureEnvelopeType: envType,
      ...cfg,
    };
    if (keyId === undefined) {
      skip('generate-envelope: good request', 'options.keyId not given');
    } else {
      await run('generate-envelope: good request', async () => {
        const res = await client.generateEnvelope(request);
        if (res.signatureEnvelope.length === 0) throw new Error('empty envelope');
        if (envType === JWS) {
          const env = JSON.parse(new TextDecoder().decode(res.signatureEnvelope)) as Record<string, unknown>;
          for (const f of ['payload', 'protected', 'signature']) {
            if (typeof env[f] !== 'string') throw new Error(`the JWS envelope has no "${f}" string member`);
          }
        }
      });
      const json = encodeRequest(PluginCommand.GENERATE_ENVELOPE, request) as unknown as Record<string, unknown>;
      await rejects(
        'generate-envelope: missing payloadType → VALIDATION_ERROR',
        PluginCommand.GENERATE_ENVELOPE,
        { ...json, payloadType: undefined },
        'VALIDATION_ERROR',
      );
      await rejects(
        'generate-envelope: missing contractVersion → VALIDATION_ERROR',
        PluginCommand.GENERATE_ENVELOPE,
        { ...json, contractVersion: undefined },
        'VALIDATION_ERROR',
      );
      await rejects(
        'generate-envelope: unsupported envelope type → error body',
        PluginCommand.GENERATE_ENVELOPE,
        { ...json, signatureEnvelopeType: 'application/x-vouch-conformance' },
        'any',
      );
    }
  }

  // ---------------------------------------------------------------- verify-signature
  if (verifierCaps.length > 0) {
    if (!chainForVerify || chainForVerify.length === 0) {
      skip('verify-signature: good request', 'no certificate chain: give options.certificateChain');
    } else {
      const request: VerifySignatureRequest = {
        signature: {
          criticalAttributes: {
            contentType: 'application/vnd.cncf.notary.payload.v1+json',
            signingScheme: 'notary.x509',
            verificationPlugin: md.name,
          },
          unprocessedAttributes: [],
          certificateChain: chainForVerify,
        },
        trustPolicy: { trustedIdentities: options.trustedIdentities ?? ['*'], signatureVerification: verifierCaps as VerifierCapability[] },
        ...cfg,
      };
      await run('verify-signature: good request, results for exactly the requested capabilities', async () => {
        await client.verifySignature(request);
      });
      for (const cap of verifierCaps) {
        await run(`verify-signature: only ${cap} requested`, async () => {
          await client.verifySignature({ ...request, trustPolicy: { ...request.trustPolicy, signatureVerification: [cap] } });
        });
      }
      const json = encodeRequest(PluginCommand.VERIFY_SIGNATURE, request) as unknown as Record<string, unknown>;
      await run('verify-signature: ignores unknown request fields', async () => {
        await client.call(PluginCommand.VERIFY_SIGNATURE, { ...json, vouchConformanceFutureField: [] });
      });
      await rejects(
        'verify-signature: missing trustPolicy → VALIDATION_ERROR',
        PluginCommand.VERIFY_SIGNATURE,
        { ...json, trustPolicy: undefined },
        'VALIDATION_ERROR',
      );
      await rejects(
        'verify-signature: unknown capability requested → VALIDATION_ERROR',
        PluginCommand.VERIFY_SIGNATURE,
        { ...json, trustPolicy: { trustedIdentities: ['*'], signatureVerification: ['SIGNATURE_VERIFIER.NO_SUCH_THING'] } },
        'VALIDATION_ERROR',
      );
      await rejects(
        'verify-signature: certificate not base64 → VALIDATION_ERROR',
        PluginCommand.VERIFY_SIGNATURE,
        { ...json, signature: { ...(json.signature as object), certificateChain: ['%%%'] } },
        'VALIDATION_ERROR',
      );
      await rejects(
        'verify-signature: missing contractVersion → VALIDATION_ERROR',
        PluginCommand.VERIFY_SIGNATURE,
        { ...json, contractVersion: undefined },
        'VALIDATION_ERROR',
      );
    }
  }
  return checks;
}
