/**
 * notation-go verification-plugin cases (`notation-go/verify/plugin-min-version/*` and
 * `notation-go/verify/{ca,sa}/verification-plugin-scenarios`) replayed through
 * `createVerifier({ plugins }).verifySignature()`. The upstream mock plugins are rebuilt as
 * in-process plugins with the SDK (`definePlugin` + `inProcessPlugin`), so every request and
 * response crosses the same JSON validation as an executable plugin would.
 */
import { isVouchError } from '@vouch/core';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { fileTrustStore } from '@vouch/node';
import { createVerifier, type PluginResolver, type RevocationChecker } from '@vouch/notation';
import { definePlugin, inProcessPlugin, type PluginDefinition, PluginError, type PluginMetadata } from '@vouch/plugin';
import { parseOciTrustPolicy, selectOciPolicy } from '@vouch/trust-policy';
import type { CaseContext, CaseOutcome, Handler, VectorCase } from './types.js';

const TI = 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY';
const RC = 'SIGNATURE_VERIFIER.REVOCATION_CHECK';

const noNetworkRevocation: RevocationChecker = async (chain) =>
  chain.some((c) => c.ocspUrls.length || c.crlUrls.length) ? { result: 'unknown' } : { result: 'ok' };

/** How an upstream mock plugin behaves. */
interface MockPlugin {
  /** undefined: not installed. */
  capabilities?: PluginMetadata['capabilities'];
  name: string;
  version: string;
  identity?: 'success' | string;
  revocation?: 'success' | string;
  processed?: string[];
  /** verify-signature answers with this plugin error. */
  fail?: string;
  /** verify-signature answers with no results at all (a contract violation the SDK's own validation lets through here). */
  emptyResults?: boolean;
  /** Trust-policy override for the case. */
  override?: Record<string, string>;
  /** The plugin must not be invoked. */
  mustNotRun?: boolean;
}

function mockPlugin(m: MockPlugin, calls: { n: number }): PluginResolver {
  if (!m.capabilities) return () => undefined;
  const def: PluginDefinition = {
    metadata: {
      name: m.name,
      description: 'notation-go unit-test mock, rebuilt with the vouch SDK',
      version: m.version,
      url: 'https://example.invalid/mock',
      supportedContractVersions: ['1.0'],
      capabilities: m.capabilities,
    },
  };
  if (m.capabilities.some((c) => c.startsWith('SIGNATURE_VERIFIER'))) {
    def.verifySignature = (req) => {
      calls.n++;
      if (m.fail) throw new PluginError('ERROR', m.fail);
      const results: Record<string, { success: boolean; reason?: string }> = {};
      if (!m.emptyResults) {
        for (const cap of req.trustPolicy.signatureVerification) {
          const want = cap === TI ? (m.identity ?? 'success') : (m.revocation ?? 'success');
          results[cap] = want === 'success' ? { success: true } : { success: false, reason: want };
        }
      } else {
        // The SDK refuses to send an empty map; answer for a capability that was not asked instead,
        // which the host must also treat as "the requested capability was not verified".
        const other = req.trustPolicy.signatureVerification.includes(TI) ? RC : TI;
        results[other] = { success: true };
      }
      return { verificationResults: results, processedAttributes: m.processed ?? [] };
    };
  }
  if (m.capabilities.includes('SIGNATURE_GENERATOR.RAW')) {
    def.describeKey = ({ keyId }) => ({ keyId, keySpec: 'RSA-3072' });
    def.generateSignature = () => {
      throw new PluginError('ERROR', 'not used');
    };
  }
  const plugin = definePlugin(def);
  return (name) => (name === m.name ? inProcessPlugin(plugin) : undefined);
}

/** The upstream TestVerificationPluginInteractions scenarios, by their description in the vectors. */
function scenarioPlugin(description: string): MockPlugin | undefined {
  const base = { name: 'plugin-name', version: '1.0.0' };
  const table: Record<string, MockPlugin> = {
    'not installed': { ...base },
    'installed, capabilities=[SIGNATURE_GENERATOR.RAW]': { ...base, capabilities: ['SIGNATURE_GENERATOR.RAW'] },
    'TRUSTED_IDENTITY -> success, processedAttributes=[SomeKey]': { ...base, capabilities: [TI], processed: ['SomeKey'] },
    "TRUSTED_IDENTITY -> failure reason 'i feel like failing today'": {
      ...base,
      capabilities: [TI],
      identity: 'i feel like failing today',
      processed: ['SomeKey'],
    },
    'REVOCATION_CHECK -> success, processedAttributes=[SomeKey]': { ...base, capabilities: [RC], processed: ['SomeKey'] },
    "REVOCATION_CHECK -> failure reason 'i feel like failing today'": {
      ...base,
      capabilities: [RC],
      revocation: 'i feel like failing today',
      processed: ['SomeKey'],
    },
    'REVOCATION_CHECK + TRUSTED_IDENTITY -> both success': { ...base, capabilities: [RC, TI], processed: ['SomeKey'] },
    'REVOCATION_CHECK only; policy override {revocation: skip}': {
      ...base,
      capabilities: [RC],
      processed: ['SomeKey'],
      override: { revocation: 'skip' },
      mustNotRun: true,
    },
    "TRUSTED_IDENTITY; plugin call returns error 'invalid plugin response'": {
      ...base,
      capabilities: [TI],
      fail: 'invalid plugin response',
    },
    'TRUSTED_IDENTITY success but processedAttributes=[]': { ...base, capabilities: [TI], processed: [] },
    'TRUSTED_IDENTITY; empty verificationResults map': { ...base, capabilities: [TI], emptyResults: true, processed: ['SomeKey'] },
  };
  return table[description];
}

interface Inputs {
  signatureMediaType: string;
  artifactReference: string;
  artifactDescriptor: { mediaType: string; digest: string; size: number };
  trustPolicy: { trustPolicies: { signatureVerification: Record<string, unknown> }[] };
  installedPlugin?: {
    name: string;
    version: string;
    capabilities: PluginMetadata['capabilities'];
    verifyResponse?: { TRUSTED_IDENTITY?: string; REVOCATION_CHECK?: string; processedAttributes?: string[] };
  };
}

const INCONCLUSIVE = new Set(['ERR_VERIFICATION_INCONCLUSIVE', 'ERR_PLUGIN_NOT_FOUND']);

async function runOne(
  c: VectorCase,
  ctx: CaseContext,
  m: MockPlugin,
): Promise<{ result: 'valid' | 'invalid' | 'error'; message?: string; calls: number }> {
  const inputs = c.inputs as unknown as Inputs;
  const doc = structuredClone(inputs.trustPolicy);
  if (m.override) for (const p of doc.trustPolicies) p.signatureVerification = { ...p.signatureVerification, override: m.override };
  const calls = { n: 0 };
  const verifier = createVerifier({
    trustPolicy: doc,
    trustStore: fileTrustStore(ctx.path('notation-go/verifier/testdata')),
    envelopes: [jws, cose],
    revocation: noNetworkRevocation,
    plugins: mockPlugin(m, calls),
    ...(ctx.verificationTime ? { now: () => ctx.verificationTime! } : {}),
  });
  const scope = inputs.artifactReference.slice(0, inputs.artifactReference.lastIndexOf('@'));
  const statement = selectOciPolicy(parseOciTrustPolicy(doc), scope);
  const envelope = await ctx.readFile(c.files[0]!);
  const out = await verifier.verifySignature({
    envelope,
    envelopeMediaType: inputs.signatureMediaType,
    descriptor: { mediaType: inputs.signatureMediaType, digest: 'sha256:'.padEnd(71, '0'), size: envelope.length },
    artifact: inputs.artifactDescriptor,
    statement,
  });
  if (!out.error) return { result: 'valid', calls: calls.n };
  return { result: INCONCLUSIVE.has(out.error.code) ? 'error' : 'invalid', message: out.error.message, calls: calls.n };
}

function compare(
  label: string,
  want: { result: string; errorMessage?: string },
  got: { result: string; message?: string },
  notes: string[],
): string | undefined {
  if (got.result !== want.result) return `${label}: expected ${want.result}, vouch ${got.result}${got.message ? ` (${got.message})` : ''}`;
  if (want.errorMessage && got.message && !got.message.includes(want.errorMessage)) {
    notes.push(`${label}: message differs: "${got.message}"`);
  }
  return undefined;
}

/**
 * Handler for the verification-plugin cases of kind jws-envelope. Route ids containing
 * `verification-plugin` and cases with `inputs.installedPlugin` here.
 */
export const verifyPluginHandler: Handler = async (c, ctx): Promise<CaseOutcome> => {
  const inputs = c.inputs as unknown as Inputs;
  const mismatches: string[] = [];
  const notes: string[] = [];
  try {
    if (c.expect.result === 'multi') {
      const scenarios = (c.expect.scenarios ?? []) as { plugin: string; result: string; errorMessage?: string }[];
      if (scenarios.length === 0) return { status: 'failed', reason: 'no scenarios in the case' };
      for (const s of scenarios) {
        const m = scenarioPlugin(s.plugin);
        if (!m) {
          mismatches.push(`${s.plugin}: no mock for this scenario`);
          continue;
        }
        const got = await runOne(c, ctx, m);
        if (m.mustNotRun && got.calls > 0) mismatches.push(`${s.plugin}: the plugin was invoked ${got.calls} time(s)`);
        const err = compare(s.plugin, s, got, notes);
        if (err) mismatches.push(err);
      }
    } else {
      const p = inputs.installedPlugin;
      if (!p) return { status: 'skipped', reason: 'not a verification-plugin case (no installedPlugin)' };
      const vr = p.verifyResponse ?? {};
      const m: MockPlugin = {
        name: p.name,
        version: p.version,
        capabilities: p.capabilities,
        ...(vr.TRUSTED_IDENTITY ? { identity: vr.TRUSTED_IDENTITY } : {}),
        ...(vr.REVOCATION_CHECK ? { revocation: vr.REVOCATION_CHECK } : {}),
        processed: vr.processedAttributes ?? [],
      };
      const got = await runOne(c, ctx, m);
      const err = compare(
        c.id,
        { result: c.expect.result, ...(c.expect.errorMessage ? { errorMessage: c.expect.errorMessage } : {}) },
        got,
        notes,
      );
      if (err) mismatches.push(err);
    }
  } catch (e) {
    return { status: 'failed', reason: `threw ${isVouchError(e) ? e.code : ''}: ${(e as Error).message}` };
  }
  if (mismatches.length) return { status: 'failed', reason: mismatches.join('; ') };
  return { status: 'passed', ...(notes.length ? { note: notes.join('; ') } : {}) };
};
