/**
 * The five-line example of packages/notation/README.md, run exactly as written (its imports
 * bound to the workspace packages) against the in-repo fake registry on 127.0.0.1, through
 * `verify()`'s defaults: a registry client over `globalThis.fetch`, JWS and COSE.
 */
import { readFileSync } from 'node:fs';
import { fetchLike } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
import { pushTestImage } from '@vouch/testing';
import { type RunningFakeRegistry, startFakeRegistry } from '@vouch/testing/registry';
import * as trustPolicyPackage from '@vouch/trust-policy';
import * as x509 from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as notation from './index.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const MARKER = '<!-- example: five-lines';

/** The example's code block, as written. */
function fiveLineExample(): string {
  const at = README.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no "${MARKER}" example`);
  const m = /```ts\n([\s\S]*?)```/.exec(README.slice(at));
  if (!m) throw new Error('the five-line example has no ts code block');
  return m[1]!;
}

/** Run the example: its `import { … } from '<package>'` lines bound to the workspace packages, then its code. */
async function runExample(givens: { reference: string; trustPolicy: unknown; caPem: string }): Promise<{ artifact: { digest: string } }> {
  const packages: Record<string, unknown> = { '@vouch/notation': notation, '@vouch/trust-policy': trustPolicyPackage, '@vouch/x509': x509 };
  const body = fiveLineExample().replace(/^import \{([^}]+)\} from '([^']+)';$/gm, (_, names: string, pkg: string) => {
    if (!(pkg in packages)) throw new Error(`the example imports ${pkg}, which this test does not provide`);
    return `const {${names}} = __packages[${JSON.stringify(pkg)}];`;
  });
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<unknown>;
  const run = new AsyncFunction('__packages', 'reference', 'trustPolicy', 'caPem', `${body}\nreturn { artifact };`);
  return (await run(packages, givens.reference, givens.trustPolicy, givens.caPem)) as { artifact: { digest: string } };
}

let registry: RunningFakeRegistry;
let pki: x509.TestPki;
let other: x509.TestPki;
let signedRef: string;
let unsignedRef: string;

const trustPolicy = (host: string) => ({
  version: '1.0',
  trustPolicies: [
    {
      name: 'demo',
      registryScopes: [`${host}/demo/app`],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:wabbit-networks.io'],
      trustedIdentities: ['*'],
    },
  ],
});

beforeAll(async () => {
  [registry, pki, other] = await Promise.all([
    startFakeRegistry(),
    x509.createTestPki({ keySpec: 'EC-256' }),
    x509.createTestPki({ keySpec: 'EC-256', name: 'other' }),
  ]);
  const repo = remoteRepository(createRegistryClient({ fetch: fetchLike() }), `${registry.host}/demo/app`);
  const signed = await pushTestImage(repo, 'signed');
  const unsigned = await pushTestImage(repo, 'unsigned');
  signedRef = `${registry.host}/demo/app@${signed.digest}`;
  unsignedRef = `${registry.host}/demo/app@${unsigned.digest}`;
  await notation.sign(signedRef, { repository: repo, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope: cose });
  await notation.sign(signedRef, { repository: repo, signer: localRawSigner(other.leaf.privateKey, other.chain), envelope: jws });
});

afterAll(async () => {
  await registry?.stop();
});

describe('README five-line example', () => {
  it('is five lines', () => {
    expect(
      fiveLineExample()
        .split('\n')
        .filter((l) => l.trim() !== ''),
    ).toHaveLength(5);
  });

  it('verifies a signed image in a registry with verify() defaults', async () => {
    const caPem = x509.certificatesToPem([pki.root.certificate]);
    const before = registry.requests.length;
    const { artifact } = await runExample({ reference: signedRef, trustPolicy: trustPolicy(registry.host), caPem });
    expect(artifact.digest).toBe(signedRef.split('@')[1]);
    // the default registry client (globalThis.fetch) read the artifact's referrers from the fake registry
    expect(registry.requests.slice(before).some((r) => r.startsWith('GET /v2/demo/app/referrers/'))).toBe(true);
  });

  it('rejects with a VouchError code when no signature is trusted or none exists', async () => {
    const untrusted = x509.certificatesToPem([(await x509.createTestPki({ keySpec: 'EC-256', name: 'nobody' })).root.certificate]);
    const failed = await runExample({ reference: signedRef, trustPolicy: trustPolicy(registry.host), caPem: untrusted }).catch((e) => e);
    expect(notation.hasCode(failed, 'ERR_VERIFICATION_FAILED')).toBe(true);
    const caPem = x509.certificatesToPem([pki.root.certificate]);
    const missing = await runExample({ reference: unsignedRef, trustPolicy: trustPolicy(registry.host), caPem }).catch((e) => e);
    expect(notation.isVouchError(missing) && missing.code).toBe('ERR_SIGNATURE_NOT_FOUND');
  });
});
