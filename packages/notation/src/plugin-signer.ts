import { type Descriptor, isVouchError, type Logger, type SignatureAlgorithm, VouchError } from '@vouch/core';
import { noopLogger, toVouchError } from '@vouch/core/internal';
import {
  type EnvelopeCodec,
  encodePayload,
  NOTARY_PAYLOAD_CONTENT_TYPE,
  type NotaryPayload,
  type ParsedEnvelope,
  type RawSigner,
  type SignedAttributes,
  type SigningScheme,
  type Timestamper,
} from '@vouch/envelope';
import {
  Capability,
  type GenerateSignatureRequest,
  type GenerateSignatureResponse,
  hashAlgorithmForKeySpec,
  type PluginClient,
  type PluginConfig,
  type PluginMetadata,
  signingAlgorithmForKeySpec,
} from '@vouch/plugin';
import { jwsAlgorithmOf, verifyGenerateSignatureResponse } from '@vouch/plugin/internal';
import { type Certificate, keySpecOf, parseCertificate, validateSigningChain } from '@vouch/x509';

/** What {@link EnvelopeSigner.signEnvelope} is asked to sign. */
export interface EnvelopeSignRequest {
  /** The envelope format to produce (`jws` or `cose`). */
  codec: EnvelopeCodec;
  payload: NotaryPayload;
  signingScheme: SigningScheme;
  /** Whole seconds (the signing time, or the authentic signing time for signingAuthority). */
  signingTime: Date;
  expiry?: Date;
  signingAgent?: string;
  /** RFC 3161 countersignature (notary.x509): see `SignOptions.timestamper`. */
  timestamper?: Timestamper;
  /**
   * The payload describes a blob (`signBlob`): a plugin then signs with SIGNATURE_GENERATOR.RAW or
   * SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB (plain ENVELOPE is for OCI artifacts only).
   */
  blob?: boolean;
  signal?: AbortSignal;
}

/** What {@link EnvelopeSigner.signEnvelope} produced. */
export interface EnvelopeSignResult {
  /** The envelope bytes, already parsed and verified by the signer. */
  envelope: Uint8Array;
  /** The envelope's certificate chain, leaf first (for the manifest's thumbprint annotation). */
  certificateChain: Certificate[];
  /** Annotations the signer asks to add to the signature manifest (generate-envelope `annotations`). */
  annotations?: Record<string, string>;
}

/**
 * A signer that produces the whole envelope: the shape of a plugin (RAW or ENVELOPE). Unlike a
 * {@link RawSigner}, its certificate chain is only known once it has signed, as the plugin
 * contract returns the chain with the signature. `sign()` accepts either kind.
 */
export interface EnvelopeSigner {
  readonly kind: 'envelope-signer';
  signEnvelope(request: EnvelopeSignRequest): Promise<EnvelopeSignResult>;
  /**
   * The signature algorithm the signer's key implies (a plugin's describe-key), known before
   * signing. `signBlob` needs it to pick the blob's digest algorithm; `sign()` does not.
   */
  signatureAlgorithm?(signal?: AbortSignal): Promise<SignatureAlgorithm>;
}

/** True for an {@link EnvelopeSigner} (as opposed to a {@link RawSigner}). */
export function isEnvelopeSigner(signer: unknown): signer is EnvelopeSigner {
  return (
    typeof signer === 'object' &&
    signer !== null &&
    (signer as EnvelopeSigner).kind === 'envelope-signer' &&
    typeof (signer as EnvelopeSigner).signEnvelope === 'function'
  );
}

/** Options of {@link pluginSigner}. */
export interface PluginSignerOptions {
  /** The key id the plugin knows (`--id`, or `id` of a plugin key in signingkeys.json). */
  keyId: string;
  /** Passed verbatim in every request (`pluginConfig` of the key, merged with `--plugin-config`). */
  pluginConfig?: PluginConfig;
  /**
   * Which capability to use when the plugin has both. Default `raw`, as notation does (vouch
   * then builds the envelope itself).
   */
  prefer?: 'raw' | 'envelope';
  /** Debug trace of the signing steps. */
  logger?: Logger;
}

function pluginName(client: PluginClient, md?: PluginMetadata): string {
  return md?.name ?? client.name ?? 'plugin';
}

function protocol(message: string, check: string, cause?: unknown, extra: Record<string, unknown> = {}): VouchError {
  return new VouchError('ERR_PLUGIN_PROTOCOL', message, { ...(cause !== undefined ? { cause } : {}), details: { check, ...extra } });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Options of `checkPluginSignature`. */
export interface CheckPluginSignatureOptions {
  /**
   * Every certificate of the chain must be valid at this time (the signing time), and the chain
   * must meet the Notary signing-certificate profile. `false` skips that (the caller validates the
   * chain itself).
   */
  signingTime: Date | false;
  /** Plugin name for messages. */
  plugin?: string;
}

/**
 * The caller-side checks of a `generate-signature` (SIGNATURE_GENERATOR.RAW) response, before
 * an envelope is built from it (runtime-agnostic; `checkRawSignatureResponse` in @vouch/node
 * runs the same checks):
 *  - `keyId` echoes the request;
 *  - `signingAlgorithm` is the one the key spec implies, with the requested hash (notation-go
 *    ignores the field — vouch checks it);
 *  - every chain entry is a DER certificate and the leaf's key has the requested key spec;
 *  - the signature verifies over the payload with the leaf's key;
 *  - the chain meets the Notary signing-certificate profile and is valid at the signing time.
 *
 * A lying plugin fails with ERR_PLUGIN_PROTOCOL (`details.check`: keyId, signingAlgorithm,
 * hashAlgorithm, certificate, certificateChain, keySpec, signature); a chain that breaks the
 * profile with ERR_CERT_CHAIN_INVALID / ERR_CERT_EXPIRED / ERR_CERT_INVALID. Resolves with the
 * parsed chain, leaf first.
 */
export async function checkPluginSignature(
  request: GenerateSignatureRequest,
  response: GenerateSignatureResponse,
  options: CheckPluginSignatureOptions,
): Promise<Certificate[]> {
  const who = options.plugin ? `plugin ${options.plugin}` : 'the plugin';
  // Parse the chain first so that a malformed certificate is reported as such (as notation does).
  const certificates = response.certificateChain.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (e) {
      throw protocol(
        `certificate #${i + 1} of the chain returned by ${who} cannot be parsed (x509: malformed certificate): ${(e as Error).message}`,
        'certificateChain',
        e,
        { index: i },
      );
    }
  });
  if (certificates.length === 0) throw protocol(`${who} returned an empty certificate chain`, 'certificate');
  try {
    await verifyGenerateSignatureResponse(request, response);
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_PLUGIN_PROTOCOL') {
      const check = (e.details?.check as string | undefined) ?? 'signature';
      const prefix = check === 'signature' ? 'generated signature failed verification: ' : '';
      const msg =
        check === 'keyId'
          ? `keyID in generateSignature response "${response.keyId}" does not match request "${request.keyId}"`
          : `${prefix}${e.message}`;
      throw protocol(`${who}: ${msg}`, check, e);
    }
    throw toVouchError(e, 'ERR_PLUGIN_PROTOCOL', `${who} returned an unusable signature`);
  }
  let leafSpec: string;
  try {
    leafSpec = keySpecOf(certificates[0]!);
  } catch (e) {
    throw protocol(`${who} returned a leaf certificate with an unsupported key: ${(e as Error).message}`, 'keySpec', e);
  }
  if (leafSpec !== request.keySpec) {
    throw protocol(`${who}'s leaf certificate holds a ${leafSpec} key, but key spec ${request.keySpec} was requested`, 'keySpec');
  }
  if (options.signingTime !== false) await validateSigningChain(certificates, { signingTime: options.signingTime });
  return certificates;
}

/** The targetArtifact members a Notary payload may carry (OCI descriptor fields). */
const DESCRIPTOR_FIELDS = new Set(['mediaType', 'digest', 'size', 'urls', 'annotations', 'data', 'platform', 'artifactType']);

/** Options of `checkPluginEnvelope`. */
export interface CheckPluginEnvelopeOptions {
  codec: EnvelopeCodec;
  /** The descriptor that was asked to be signed (with its annotations). */
  targetArtifact: Descriptor;
  plugin?: string;
}

/**
 * The caller-side checks of a `generate-envelope` (SIGNATURE_GENERATOR.ENVELOPE) response
 * before it is pushed: the envelope parses with the requested codec; its payload content type
 * is the Notary payload's; the signature verifies with the embedded leaf; the chain meets the
 * Notary profile and is valid at the signing time; the signed `targetArtifact` is the
 * requested one (mediaType, digest, size), keeps every requested annotation with its value,
 * and has no members beyond an OCI descriptor's. Throws ERR_PLUGIN_PROTOCOL (`details.check`:
 * envelope, contentType, signature, certificateChain, targetArtifact, annotations).
 */
export async function checkPluginEnvelope(envelope: Uint8Array, options: CheckPluginEnvelopeOptions): Promise<ParsedEnvelope> {
  const who = options.plugin ? `plugin ${options.plugin}` : 'the plugin';
  const fail = (what: string, check: string, cause?: unknown) =>
    protocol(`${who}: generated signature failed verification: ${what}`, check, cause);
  let env: ParsedEnvelope;
  try {
    env = options.codec.parse(envelope);
  } catch (e) {
    throw fail(`it is not a valid ${options.codec.mediaType} envelope: ${(e as Error).message}`, 'envelope', e);
  }
  if (env.payloadContentType !== NOTARY_PAYLOAD_CONTENT_TYPE) {
    throw fail(`payload content type "${env.payloadContentType}" is not ${NOTARY_PAYLOAD_CONTENT_TYPE}`, 'contentType');
  }
  try {
    await options.codec.verifyIntegrity(env);
  } catch (e) {
    throw fail(`the signature does not verify with its leaf certificate: ${(e as Error).message}`, 'signature', e);
  }
  const sa = env.signedAttributes;
  try {
    await validateSigningChain(env.certificateChain, { signingTime: (sa.signingTime ?? sa.authenticSigningTime)! });
  } catch (e) {
    throw fail(`certificate chain: ${(e as Error).message}`, 'certificateChain', e);
  }
  const got = env.payload.targetArtifact as unknown as Record<string, unknown>;
  const want = options.targetArtifact;
  if (got.mediaType !== want.mediaType || got.digest !== want.digest || got.size !== want.size) {
    throw fail(
      `the payload is for ${String(got.digest)} (${String(got.mediaType)}, ${String(got.size)} bytes) but ${want.digest} (${want.mediaType}, ${want.size} bytes) was requested`,
      'targetArtifact',
    );
  }
  const extra = Object.keys(got).filter((k) => !DESCRIPTOR_FIELDS.has(k));
  if (extra.length > 0) throw fail(`the payload's targetArtifact has unknown members: ${extra.join(', ')}`, 'targetArtifact');
  const annotations = (got.annotations ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(want.annotations ?? {})) {
    if (annotations[k] !== v) throw fail(`the payload dropped or changed the annotation "${k}"`, 'annotations');
  }
  return env;
}

/**
 * A signer backed by a Notary plugin, in-process (`inProcessPlugin`) or an executable
 * (`executablePlugin` / `findPlugin` from @vouch/node): pass it to `sign()` as `signer`.
 *
 * On each signature it runs `get-plugin-metadata` and then:
 *  - SIGNATURE_GENERATOR.RAW (preferred, as in notation): `describe-key`, then
 *    `generate-signature` over the exact signing input; the response is checked
 *    (`checkPluginSignature`) and @vouch/envelope builds the envelope (and the timestamp);
 *  - SIGNATURE_GENERATOR.ENVELOPE: `generate-envelope`; the envelope is checked
 *    (`checkPluginEnvelope`) and, when a timestamper is given and the plugin did not
 *    timestamp, countersigned; the plugin's annotations go to the signature manifest.
 *
 * Errors: ERR_PLUGIN_FAILED (the plugin's error body), ERR_PLUGIN_PROTOCOL (invalid or lying
 * response), ERR_TIMEOUT, ERR_UNSUPPORTED (no signing capability), chain errors from @vouch/x509.
 */
export function pluginSigner(client: PluginClient, options: PluginSignerOptions): EnvelopeSigner {
  if (!client || typeof client.metadata !== 'function') {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'pluginSigner needs a PluginClient (inProcessPlugin, executablePlugin or findPlugin)');
  }
  if (typeof options?.keyId !== 'string' || options.keyId === '') {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'pluginSigner needs the keyId of a key the plugin holds');
  }
  const keyId = options.keyId;
  const logger = options.logger ?? noopLogger;
  const cfg = options.pluginConfig && Object.keys(options.pluginConfig).length > 0 ? { pluginConfig: { ...options.pluginConfig } } : {};

  return Object.freeze({
    kind: 'envelope-signer' as const,
    async signEnvelope(req: EnvelopeSignRequest): Promise<EnvelopeSignResult> {
      const call = req.signal ? { signal: req.signal } : undefined;
      const md = await client.metadata(cfg, call);
      const name = pluginName(client, md);
      const { raw, env } = signingCapabilities(name, md, !!req.blob);
      if (raw && (!env || options.prefer !== 'envelope')) return signRaw(name, req, call);
      return signWithEnvelope(name, req, call);
    },
    async signatureAlgorithm(signal?: AbortSignal): Promise<SignatureAlgorithm> {
      // for blobs, whichever capability signs: describe-key gives the key spec, hence the blob digest
      const call = signal ? { signal } : undefined;
      const md = await client.metadata(cfg, call);
      signingCapabilities(pluginName(client, md), md, true);
      const { keySpec } = await describeKey(pluginName(client, md), call);
      return jwsAlgorithmOf(signingAlgorithmForKeySpec(keySpec)) as SignatureAlgorithm;
    },
  });

  /** describe-key (the client checks that the response names the requested key; notation's wording). */
  async function describeKey(name: string, call: { signal: AbortSignal } | undefined) {
    try {
      return await client.describeKey({ keyId, ...cfg }, call);
    } catch (e) {
      const m = isVouchError(e) && e.code === 'ERR_PLUGIN_PROTOCOL' ? /answered describe-key for key "([^"]*)"/.exec(e.message) : null;
      if (m) throw protocol(`plugin ${name}: keyID in describeKey response "${m[1]}" does not match request "${keyId}"`, 'keyId', e);
      throw e;
    }
  }

  /** Which signing path the plugin offers for an OCI artifact or a blob; ERR_UNSUPPORTED when none. */
  function signingCapabilities(name: string, md: PluginMetadata, blob: boolean): { raw: boolean; env: boolean } {
    const raw = md.capabilities.includes(Capability.SIGNATURE_GENERATOR_RAW);
    const env = md.capabilities.includes(blob ? Capability.SIGNATURE_GENERATOR_ENVELOPE_FOR_BLOB : Capability.SIGNATURE_GENERATOR_ENVELOPE);
    if (raw || env) return { raw, env };
    const wanted = blob
      ? `${Capability.SIGNATURE_GENERATOR_RAW} or ${Capability.SIGNATURE_GENERATOR_ENVELOPE_FOR_BLOB}`
      : `${Capability.SIGNATURE_GENERATOR_RAW} or ${Capability.SIGNATURE_GENERATOR_ENVELOPE}`;
    throw new VouchError(
      'ERR_UNSUPPORTED',
      `plugin ${name} cannot sign ${blob ? 'blobs' : 'artifacts'}: it advertises ${md.capabilities.join(', ')}, not ${wanted}`,
      { details: { plugin: name, capabilities: md.capabilities, blob } },
    );
  }

  async function signRaw(name: string, req: EnvelopeSignRequest, call: { signal: AbortSignal } | undefined): Promise<EnvelopeSignResult> {
    const { keySpec } = await describeKey(name, call);
    const algorithm = jwsAlgorithmOf(signingAlgorithmForKeySpec(keySpec)) as SignatureAlgorithm;
    const hashAlgorithm = hashAlgorithmForKeySpec(keySpec);
    const sign = async (toBeSigned: Uint8Array) => {
      const request: GenerateSignatureRequest = { keyId, keySpec, hashAlgorithm, payload: toBeSigned, ...cfg };
      logger.debug(`Plugin ${name}: generate-signature for key ${keyId} (${keySpec}, ${hashAlgorithm})`);
      let response: GenerateSignatureResponse;
      try {
        response = await client.generateSignature(request, call);
      } catch (e) {
        const m = isVouchError(e) && e.code === 'ERR_PLUGIN_PROTOCOL' ? /signed with key "([^"]*)"/.exec(e.message) : null;
        if (m) {
          throw protocol(`plugin ${name}: keyID in generateSignature response "${m[1]}" does not match request "${keyId}"`, 'keyId', e);
        }
        throw e;
      }
      const chain = await checkPluginSignature(request, response, { signingTime: req.signingTime, plugin: name });
      return { signature: response.signature, chain };
    };
    // The plugin returns its chain with the signature, and the envelope codec needs the chain
    // before it signs: sign the exact bytes the codec will ask for first, then let the codec
    // build the envelope with that chain (it re-verifies the signature). If the codec asks for
    // other bytes (it never should), the plugin is called again and checked again.
    const signedAttributes: SignedAttributes = { signingScheme: req.signingScheme, extended: [] };
    if (req.signingScheme === 'notary.x509') signedAttributes.signingTime = req.signingTime;
    else signedAttributes.authenticSigningTime = req.signingTime;
    if (req.expiry) signedAttributes.expiry = req.expiry;
    const payloadBytes = encodePayload(req.payload, req.codec.mediaType === 'application/cose' ? 'struct' : 'sorted');
    const input = req.codec.encodeSigningInput({ payloadBytes, algorithm, signedAttributes });
    const first = await sign(input.toBeSigned);
    const rawSigner: RawSigner = {
      certificateChain: first.chain,
      algorithm,
      async sign(toBeSigned) {
        if (sameBytes(toBeSigned, input.toBeSigned)) return first.signature;
        const again = await sign(toBeSigned);
        if (!sameBytes(again.chain[0]!.der, first.chain[0]!.der)) {
          throw protocol(`plugin ${name} signed with another certificate on its second call`, 'certificate');
        }
        return again.signature;
      },
    };
    const envelope = await req.codec.sign({
      payload: req.payload,
      signingScheme: req.signingScheme,
      signingTime: req.signingTime,
      ...(req.expiry ? { expiry: req.expiry } : {}),
      ...(req.signingAgent !== undefined ? { signingAgent: req.signingAgent } : {}),
      ...(req.timestamper ? { timestamper: req.timestamper } : {}),
      signer: rawSigner,
    });
    return { envelope, certificateChain: first.chain };
  }

  async function signWithEnvelope(
    name: string,
    req: EnvelopeSignRequest,
    call: { signal: AbortSignal } | undefined,
  ): Promise<EnvelopeSignResult> {
    const payloadBytes = encodePayload(req.payload, 'struct');
    const expirySeconds = req.expiry ? Math.round((req.expiry.getTime() - req.signingTime.getTime()) / 1000) : 0;
    logger.debug(`Plugin ${name}: generate-envelope for key ${keyId} (${req.codec.mediaType})`);
    const res = await client
      .generateEnvelope(
        {
          keyId,
          payload: payloadBytes,
          payloadType: NOTARY_PAYLOAD_CONTENT_TYPE,
          signatureEnvelopeType: req.codec.mediaType,
          ...(expirySeconds > 0 ? { expiryDurationInSeconds: expirySeconds } : {}),
          ...cfg,
        },
        call,
      )
      .catch((e: unknown) => {
        const d = isVouchError(e) && e.code === 'ERR_PLUGIN_PROTOCOL' ? e.details : undefined;
        if (d && typeof d.returned === 'string' && typeof d.requested === 'string') {
          throw protocol(
            `plugin ${name}: signatureEnvelopeType in generateEnvelope response "${d.returned}" does not match request "${d.requested}"`,
            'signatureEnvelopeType',
            e,
          );
        }
        throw e;
      });
    if (res.signatureEnvelopeType !== req.codec.mediaType) {
      throw protocol(
        `plugin ${name}: signatureEnvelopeType in generateEnvelope response "${res.signatureEnvelopeType}" does not match request "${req.codec.mediaType}"`,
        'signatureEnvelopeType',
      );
    }
    let envelope = res.signatureEnvelope;
    logger.debug('Verifying signature envelope generated by the plugin');
    const parsed = await checkPluginEnvelope(envelope, { codec: req.codec, targetArtifact: req.payload.targetArtifact, plugin: name });
    if (req.timestamper && !parsed.unsignedAttributes.timestampSignature) {
      if (parsed.signedAttributes.signingScheme !== 'notary.x509') {
        throw new VouchError('ERR_INVALID_ARGUMENT', 'RFC 3161 timestamps apply to the notary.x509 signing scheme only');
      }
      const token = await req.timestamper(parsed.signature, parsed.algorithm);
      envelope = req.codec.attachTimestamp(envelope, token);
    }
    return {
      envelope,
      certificateChain: parsed.certificateChain,
      ...(res.annotations && Object.keys(res.annotations).length > 0 ? { annotations: { ...res.annotations } } : {}),
    };
  }
}
