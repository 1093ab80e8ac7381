/**
 * Replays test-vectors/manifest.json (our own vectors, made by tools/gen-vectors) through the
 * public APIs of the packages: one test per case, at the case's verificationTime. A case with
 * `knownIssue` documents a defect that is not fixed yet: it is expected to fail (`it.fails`),
 * so the suite turns red when the defect is fixed and the marker must go.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isVouchError, MediaType } from '@vouch/core';
import type { EnvelopeCodec } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { assertCriticalAttributesProcessed } from '@vouch/envelope/internal';
import { jws } from '@vouch/envelope/jws';
import { nodeOciLayout } from '@vouch/node';
import { createVerifier } from '@vouch/notation';
import { parseSignatureManifest } from '@vouch/registry';
import {
  type MemoryTrustStoreInit,
  memoryTrustStore,
  parseBlobTrustPolicy,
  parseOciTrustPolicy,
  resolveVerificationLevel,
  scopeOfReference,
  selectBlobPolicy,
  selectOciPolicy,
  type TrustStore,
  type TrustStoreType,
  verifyTrustedIdentity,
} from '@vouch/trust-policy';
import { parseCertificates, validateSigningChain, validateTimestampingChain } from '@vouch/x509';
import { parseTrustedIdentity } from '@vouch/x509/internal';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../test-vectors/', import.meta.url));

interface Entry {
  id: string;
  kind: string;
  description: string;
  rule?: string;
  inputs: Record<string, string>;
  params?: Record<string, unknown>;
  verificationTime: string;
  expect: ({ ok: true } & Record<string, unknown>) | { code: string; outcomeCode?: string };
  knownIssue?: string;
}

type Result = { ok: true; facts: Record<string, unknown> } | { ok: false; code: string; outcomeCodes: string[] };

const file = (rel: string) => new Uint8Array(readFileSync(join(ROOT, rel)));
const text = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const codecFor = (rel: string): EnvelopeCodec => (rel.endsWith('.cose') ? cose : jws);

const stores = new Map<string, TrustStore>();
/** A memory trust store from a directory in notation's layout (`x509/<type>/<name>/<files>`). */
function trustStoreAt(rel: string): TrustStore {
  let s = stores.get(rel);
  if (!s) {
    const init: Record<string, Record<string, ReturnType<typeof parseCertificates>>> = {};
    const base = join(ROOT, rel, 'x509');
    for (const type of readdirSync(base)) {
      init[type] = {};
      for (const name of readdirSync(join(base, type))) {
        init[type]![name] = readdirSync(join(base, type, name)).flatMap((f) =>
          parseCertificates(readFileSync(join(base, type, name, f), 'utf8')),
        );
      }
    }
    s = memoryTrustStore(init as MemoryTrustStoreInit);
    stores.set(rel, s);
  }
  return s;
}

function verifierFor(e: Entry) {
  const now = new Date(e.verificationTime);
  const p = e.params ?? {};
  return createVerifier({
    trustPolicy: file(e.inputs.policy!),
    trustStore: trustStoreAt(e.inputs.truststore!),
    envelopes: [jws, cose],
    revocation: false,
    now: () => now,
    ...(typeof p.maxEnvelopeBytes === 'number' ? { maxEnvelopeBytes: p.maxEnvelopeBytes } : {}),
    ...(typeof p.maxManifestBytes === 'number' ? { maxManifestBytes: p.maxManifestBytes } : {}),
  });
}

const handlers: Record<string, (e: Entry) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined> = {
  async 'x509-chain'(e) {
    const chain = parseCertificates(text(e.inputs.chain!));
    const validate = e.params?.profile === 'timestamping' ? validateTimestampingChain : validateSigningChain;
    await validate(chain, { at: new Date(e.verificationTime) });
    return undefined;
  },
  'trusted-identity'(e) {
    parseTrustedIdentity(e.params!.identity as string);
    return undefined;
  },
  'identity-match'(e) {
    const [leaf] = parseCertificates(text(e.inputs.certificate!));
    verifyTrustedIdentity(e.params!.identities as string[], leaf!);
    return undefined;
  },
  async 'trust-store'(e) {
    const type = e.params!.type as TrustStoreType;
    const name = e.params!.name as string;
    const store = memoryTrustStore({ [type]: { [name]: parseCertificates(text(e.inputs.certificates!)) } });
    await store.getCertificates(type, e.params!.lookup === 'absent' ? 'absent' : name);
    return undefined;
  },
  async envelope(e) {
    const codec = codecFor(e.inputs.envelope!);
    const env = codec.parse(file(e.inputs.envelope!));
    await codec.verifyIntegrity(env);
    assertCriticalAttributesProcessed(env.signedAttributes);
    await validateSigningChain(env.certificateChain);
    return { algorithm: env.algorithm, signingScheme: env.signedAttributes.signingScheme };
  },
  'trust-policy'(e) {
    (e.params!.type === 'blob' ? parseBlobTrustPolicy : parseOciTrustPolicy)(file(e.inputs.policy!));
    return undefined;
  },
  'trust-policy-select'(e) {
    const p = e.params!;
    if (p.type === 'blob')
      return { statement: selectBlobPolicy(parseBlobTrustPolicy(file(e.inputs.policy!)), p.name as string | undefined).name };
    const scope = typeof p.reference === 'string' ? scopeOfReference(p.reference) : (p.scope as string);
    return { statement: selectOciPolicy(parseOciTrustPolicy(file(e.inputs.policy!)), scope).name };
  },
  'verification-level'(e) {
    const r = resolveVerificationLevel(e.params!.signatureVerification as Parameters<typeof resolveVerificationLevel>[0]);
    return { level: r.level, custom: r.custom, actions: { ...r.actions } };
  },
  async 'verify-signature'(e) {
    const p = e.params!;
    const envelope = file(e.inputs.envelope!);
    const statement = parseOciTrustPolicy(file(e.inputs.policy!)).trustPolicies.find((s) => s.name === p.statement);
    if (!statement) throw new Error(`vector ${e.id}: no statement ${String(p.statement)}`);
    const mediaType = (p.envelopeMediaType as string | undefined) ?? codecFor(e.inputs.envelope!).mediaType;
    const outcome = await verifierFor(e).verifySignature({
      envelope,
      envelopeMediaType: mediaType,
      descriptor: { mediaType, digest: `sha256:${createHash('sha256').update(envelope).digest('hex')}`, size: envelope.length },
      artifact: p.artifact as { mediaType: string; digest: string; size: number },
      statement,
      ...(p.userMetadata ? { userMetadata: p.userMetadata as Record<string, string> } : {}),
    });
    if (outcome.error) throw outcome.error;
    return { warnings: outcome.checks.filter((c) => c.result === 'failed').map((c) => c.error?.code) };
  },
  async verify(e) {
    const p = e.params!;
    const r = await verifierFor(e).verify(p.reference as string, {
      repository: nodeOciLayout(join(ROOT, e.inputs.layout!)),
      ...(p.scope ? { scope: p.scope as string } : {}),
      ...(p.userMetadata ? { userMetadata: p.userMetadata as Record<string, string> } : {}),
      ...(p.maxSignatureAttempts !== undefined ? { maxSignatureAttempts: p.maxSignatureAttempts as number } : {}),
    });
    return { level: r.policy.level, warnings: r.warnings.map((w) => w.code), outcomes: r.outcomes.map((o) => o.error?.code ?? 'ok') };
  },
  async 'oci-referrers'(e) {
    const repo = nodeOciLayout(join(ROOT, e.inputs.layout!));
    const subject = await repo.resolve(e.params!.reference as string);
    let count = 0;
    for await (const page of repo.referrers(subject, { artifactType: MediaType.NOTARY_SIGNATURE })) count += page.length;
    return { count };
  },
  'signature-manifest'(e) {
    return { form: parseSignatureManifest(file(e.inputs.manifest!)).form };
  },
};

async function run(e: Entry): Promise<Result> {
  const handler = handlers[e.kind];
  if (!handler) throw new Error(`vector ${e.id}: no handler for kind ${e.kind}`);
  try {
    return { ok: true, facts: (await handler(e)) ?? {} };
  } catch (err) {
    // Anything but a VouchError escaping a public function is a defect: let it fail the test.
    if (!isVouchError(err)) throw err;
    const outcomes = (err.details?.outcomes as { error?: { code?: string; message?: string } }[] | undefined) ?? [];
    // VOUCH_VECTORS_VERBOSE=1 prints why each negative case failed (to check it is the intended rule).
    if (process.env.VOUCH_VECTORS_VERBOSE) {
      console.log(`${e.id}: ${err.code}: ${err.message}${outcomes.map((o) => `\n    ${o.error?.code}: ${o.error?.message}`).join('')}`);
    }
    return { ok: false, code: err.code, outcomeCodes: outcomes.map((o) => o.error?.code ?? '') };
  }
}

function check(e: Entry, r: Result): void {
  const want = e.expect;
  if ('code' in want) {
    expect(r.ok ? 'ok' : r.code, `${e.id}: ${e.description}`).toBe(want.code);
    if (want.outcomeCode && !r.ok) {
      expect(r.outcomeCodes.length, `${e.id}: outcomes`).toBeGreaterThan(0);
      for (const c of r.outcomeCodes) expect(c, `${e.id}: outcome code`).toBe(want.outcomeCode);
    }
    return;
  }
  expect(r.ok ? 'ok' : `${r.code}${r.outcomeCodes.length ? ` (${r.outcomeCodes.join(', ')})` : ''}`, `${e.id}: ${e.description}`).toBe(
    'ok',
  );
  if (!r.ok) return;
  for (const [k, v] of Object.entries(want)) if (k !== 'ok') expect(r.facts[k], `${e.id}: ${k}`).toEqual(v);
}

const manifestPath = join(ROOT, 'manifest.json');
const entries: Entry[] = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : [];

describe('test-vectors', () => {
  it('has a manifest with cases', () => {
    expect(entries.length).toBeGreaterThan(0);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
  });
  const known = entries.filter((e) => e.knownIssue);
  if (known.length) console.warn(`NOTICE: ${known.length} vector(s) document known defects: ${known.map((e) => e.id).join(', ')}`);
  const kinds = [...new Set(entries.map((e) => e.kind))];
  for (const kind of kinds) {
    describe(kind, () => {
      for (const e of entries.filter((x) => x.kind === kind)) {
        const test = e.knownIssue ? it.fails : it;
        test(`${e.id}${e.knownIssue ? ` (known issue: ${e.knownIssue})` : ''}`, async () => check(e, await run(e)));
      }
    });
  }
});
