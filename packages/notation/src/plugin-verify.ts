import { isVouchError, VouchError } from '@vouch/core';
import { compareSemver, isSemver, toBase64, toVouchError } from '@vouch/core/internal';
import { HeaderName, type ParsedEnvelope, type SignedAttributes } from '@vouch/envelope';
import { assertCriticalAttributesProcessed } from '@vouch/envelope/internal';
import {
  type AttributeValue,
  Capability,
  type PluginClient,
  type PluginConfig,
  type PluginMetadata,
  type VerifierCapability,
} from '@vouch/plugin';
import { isVerifierCapability } from '@vouch/plugin/internal';

/**
 * Finds the verification plugin a signature names (`io.cncf.notary.verificationPlugin`).
 * Return `undefined` (or throw VouchError ERR_PLUGIN_NOT_FOUND) when it is not installed.
 * In-process plugins (`inProcessPlugin`) and executables (`findPlugin` from @vouch/node)
 * go through the same {@link PluginClient} interface.
 */
export type PluginResolver = (name: string) => PluginClient | undefined | Promise<PluginClient | undefined>;

/** A verification plugin that passed discovery (spec §8.6 step 4). */
export interface VerificationPlugin {
  name: string;
  minVersion?: string;
  client: PluginClient;
  metadata: PluginMetadata;
  /** The verifier capabilities the plugin advertises. */
  capabilities: VerifierCapability[];
}

function attr(attrs: SignedAttributes, key: string): unknown {
  return attrs.extended.find((a) => a.key === key)?.value;
}

/** The verification plugin a signature names, or undefined. */
export function verificationPluginOf(attrs: SignedAttributes): { name: string; minVersion?: string } | undefined {
  const name = attr(attrs, HeaderName.VERIFICATION_PLUGIN);
  if (name === undefined) return undefined;
  const min = attr(attrs, HeaderName.VERIFICATION_PLUGIN_MIN_VERSION);
  return { name: String(name), ...(min !== undefined ? { minVersion: String(min) } : {}) };
}

function inconclusive(message: string, details: Record<string, unknown>, cause?: unknown): VouchError {
  return new VouchError('ERR_VERIFICATION_INCONCLUSIVE', message, { details, ...(cause !== undefined ? { cause } : {}) });
}

/** Options of {@link resolveVerificationPlugin}. */
export interface ResolveVerificationPluginOptions {
  plugins?: PluginResolver;
  pluginConfig?: PluginConfig;
  signal?: AbortSignal;
}

/**
 * Verification-plugin discovery (spec §8.6 step 4) for a signature whose signed attributes
 * name a plugin: the plugin must be installed (ERR_PLUGIN_NOT_FOUND), answer
 * `get-plugin-metadata` with its own name and a SemVer version ≥ the signature's
 * `verificationPluginMinVersion`, and advertise SIGNATURE_VERIFIER.TRUSTED_IDENTITY and/or
 * SIGNATURE_VERIFIER.REVOCATION_CHECK (otherwise ERR_VERIFICATION_INCONCLUSIVE). Every failure
 * here is fatal whatever the verification level. Resolves undefined when no plugin is named.
 */
export async function resolveVerificationPlugin(
  attrs: SignedAttributes,
  options: ResolveVerificationPluginOptions,
): Promise<VerificationPlugin | undefined> {
  const named = verificationPluginOf(attrs);
  if (!named) return undefined;
  const { name, minVersion } = named;
  const notFound = (why: string, cause?: unknown) =>
    new VouchError(
      'ERR_PLUGIN_NOT_FOUND',
      `error while locating the verification plugin "${name}", make sure the plugin is installed successfully before verifying the signature. error: ${why}`,
      { details: { plugin: name }, ...(cause !== undefined ? { cause } : {}) },
    );
  if (!options.plugins) throw notFound('plugin not found (no plugins are configured for this verifier)');
  let client: PluginClient | undefined;
  try {
    client = await options.plugins(name);
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_PLUGIN_NOT_FOUND') throw notFound(`plugin not found: ${e.message}`, e);
    throw inconclusive(`cannot load the verification plugin "${name}": ${(e as Error).message}`, { plugin: name }, e);
  }
  if (!client) throw notFound('plugin not found');
  let metadata: PluginMetadata;
  try {
    metadata = await client.metadata(
      options.pluginConfig ? { pluginConfig: options.pluginConfig } : {},
      options.signal ? { signal: options.signal } : undefined,
    );
  } catch (e) {
    if (isVouchError(e) && (e.code === 'ERR_PLUGIN_NOT_FOUND' || e.code === 'ERR_ABORTED')) {
      throw e.code === 'ERR_ABORTED' ? e : notFound(`plugin not found: ${e.message}`, e);
    }
    throw inconclusive(`failed to get metadata of the verification plugin "${name}": ${(e as Error).message}`, { plugin: name }, e);
  }
  if (metadata.name !== name) {
    throw inconclusive(`the verification plugin "${name}" reports its name as "${metadata.name}"`, { plugin: name });
  }
  if (minVersion !== undefined) {
    if (!isSemver(metadata.version)) {
      throw inconclusive(`plugin ${name} has pluginVersion ${metadata.version} which is not in valid semver format`, {
        plugin: name,
        version: metadata.version,
      });
    }
    const cmp = compareSemver(metadata.version, minVersion);
    if (cmp === undefined || cmp < 0) {
      throw inconclusive(
        `found plugin ${name} with version ${metadata.version} but signature verification needs plugin version greater than or equal to ${minVersion}`,
        { plugin: name, version: metadata.version, minVersion },
      );
    }
  }
  const capabilities = metadata.capabilities.filter(isVerifierCapability);
  if (capabilities.length === 0) {
    throw inconclusive(
      `digital signature requires plugin "${name}" with signature verification capabilities ("${Capability.SIGNATURE_VERIFIER_TRUSTED_IDENTITY}" and/or "${Capability.SIGNATURE_VERIFIER_REVOCATION_CHECK}") installed`,
      { plugin: name, capabilities: metadata.capabilities },
    );
  }
  return { name, ...(minVersion !== undefined ? { minVersion } : {}), client, metadata, capabilities };
}

/** Go's zero time: notation-go always sends `expiry`, as this value when the signature has none. */
const ZERO_TIME = new Date('0001-01-01T00:00:00Z');

const PLUGIN_ATTRIBUTES = [HeaderName.VERIFICATION_PLUGIN, HeaderName.VERIFICATION_PLUGIN_MIN_VERSION] as const;

function primitive(v: unknown): AttributeValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return toBase64(v);
  if (v instanceof Date) return v.toISOString();
  try {
    return JSON.stringify(v) ?? null;
  } catch {
    return String(v);
  }
}

/** Options of {@link runVerificationPlugin}. */
export interface RunVerificationPluginOptions {
  /** The capabilities still needed (spec §8.6 step 10). */
  capabilities: VerifierCapability[];
  trustedIdentities: string[];
  pluginConfig?: PluginConfig;
  signal?: AbortSignal;
}

/** What the plugin decided, per requested capability (`null` = success). */
export interface VerificationPluginResult {
  trustedIdentity?: VouchError | null;
  revocation?: VouchError | null;
  /** Attributes the plugin reported as processed. */
  processedAttributes: string[];
}

/**
 * Call the plugin's `verify-signature` with the capabilities still needed and process the
 * response (spec §10.6): results must cover exactly the requested capabilities; a failed
 * TRUSTED_IDENTITY becomes ERR_IDENTITY_UNTRUSTED, a failed REVOCATION_CHECK ERR_CERT_REVOKED
 * (the caller applies the policy's action to each). A plugin that cannot be run, answers with
 * an error body or breaks the contract makes the signature inconclusive (throws
 * ERR_VERIFICATION_INCONCLUSIVE, or ERR_ABORTED). Unprocessed critical attributes are checked
 * by {@link assertPluginProcessedAttributes}.
 */
export async function runVerificationPlugin(
  plugin: VerificationPlugin,
  env: ParsedEnvelope,
  options: RunVerificationPluginOptions,
): Promise<VerificationPluginResult> {
  const sa = env.signedAttributes;
  const unprocessed = sa.extended.filter((a) => a.critical && !(PLUGIN_ATTRIBUTES as readonly string[]).includes(a.key));
  const extendedAttributes: Record<string, AttributeValue> = {};
  for (const a of unprocessed) extendedAttributes[a.key] = primitive(a.value);
  let response: Awaited<ReturnType<PluginClient['verifySignature']>>;
  try {
    response = await plugin.client.verifySignature(
      {
        signature: {
          criticalAttributes: {
            contentType: env.payloadContentType,
            signingScheme: sa.signingScheme,
            expiry: sa.expiry ?? ZERO_TIME,
            ...(sa.signingScheme === 'notary.x509.signingAuthority' && sa.authenticSigningTime
              ? { authenticSigningTime: sa.authenticSigningTime }
              : {}),
            verificationPlugin: plugin.name,
            ...(plugin.minVersion !== undefined ? { verificationPluginMinVersion: plugin.minVersion } : {}),
            ...(unprocessed.length > 0 ? { extendedAttributes } : {}),
          },
          unprocessedAttributes: unprocessed.map((a) => a.key),
          certificateChain: env.certificateChain.map((c) => c.der),
        },
        trustPolicy: { trustedIdentities: [...options.trustedIdentities], signatureVerification: [...options.capabilities] },
        ...(options.pluginConfig ? { pluginConfig: options.pluginConfig } : {}),
      },
      options.signal ? { signal: options.signal } : undefined,
    );
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_ABORTED') throw e;
    const missing = isVouchError(e) ? (e.details?.missing as string[] | undefined) : undefined;
    if (missing?.length) {
      throw inconclusive(`verification plugin "${plugin.name}" failed to verify "${missing[0]}"`, { plugin: plugin.name, missing }, e);
    }
    const v = toVouchError(e, 'ERR_PLUGIN_FAILED', 'verification plugin failed');
    // A plugin error body reads "plugin <name> failed (<CODE>): <message>": keep the plugin's message.
    const why = v.code === 'ERR_PLUGIN_FAILED' ? v.message.replace(/^plugin \S+ failed \([A-Z_]+\): /, '') : v.message;
    throw inconclusive(`failed to verify with plugin ${plugin.name}: ${why}`, { plugin: plugin.name, errorCode: v.code }, e);
  }
  const out: VerificationPluginResult = { processedAttributes: [...(response.processedAttributes ?? [])] };
  for (const cap of options.capabilities) {
    const r = response.verificationResults[cap];
    if (!r) {
      throw inconclusive(`verification plugin "${plugin.name}" failed to verify "${cap}"`, { plugin: plugin.name, missing: [cap] });
    }
    const reason = r.reason ?? '';
    if (cap === Capability.SIGNATURE_VERIFIER_TRUSTED_IDENTITY) {
      out.trustedIdentity = r.success
        ? null
        : new VouchError(
            'ERR_IDENTITY_UNTRUSTED',
            `trusted identify verification by plugin "${plugin.name}" failed with reason "${reason}"`,
            {
              details: { plugin: plugin.name, reason },
            },
          );
    } else {
      out.revocation = r.success
        ? null
        : new VouchError('ERR_CERT_REVOKED', `revocation check by verification plugin "${plugin.name}" failed with reason "${reason}"`, {
            details: { plugin: plugin.name, reason },
          });
    }
  }
  return out;
}

/**
 * After the plugin ran: every critical extended attribute must be processed, either by vouch
 * (the verification plugin attributes) or by the plugin (`processedAttributes`). Returns the
 * error (ERR_ENVELOPE_UNSUPPORTED) naming the first attribute left, or undefined.
 */
export function assertPluginProcessedAttributes(
  plugin: VerificationPlugin,
  attrs: SignedAttributes,
  processed: readonly string[],
): VouchError | undefined {
  try {
    assertCriticalAttributesProcessed(attrs, [...PLUGIN_ATTRIBUTES, ...processed]);
    return undefined;
  } catch (e) {
    const left = (isVouchError(e) ? (e.details?.attributes as string[] | undefined) : undefined) ?? [];
    return new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `extended critical attribute "${left[0] ?? '?'}" was not processed by the verification plugin "${plugin.name}" (all extended critical attributes must be processed by the verification plugin)`,
      { cause: e, details: { plugin: plugin.name, attributes: left } },
    );
  }
}

/**
 * The capabilities to request from the plugin (spec §8.6 step 10): those it advertises,
 * minus REVOCATION_CHECK when the policy skips revocation and TRUSTED_IDENTITY when it skips
 * authenticity.
 */
export function capabilitiesToVerify(
  plugin: VerificationPlugin,
  actions: { authenticity: string; revocation: string },
): VerifierCapability[] {
  return plugin.capabilities.filter((c) =>
    c === Capability.SIGNATURE_VERIFIER_REVOCATION_CHECK ? actions.revocation !== 'skip' : actions.authenticity !== 'skip',
  );
}
