/**
 * End-to-end: the seed's story with a real OCI registry (CNCF distribution). Images are pushed
 * and signed by vouch (JWS and COSE) or left unsigned; the seed's `check-image-signature`
 * ClusterPolicy (its certificate replaced by the test CA) plus Audit and failurePolicy variants
 * judge a Pod, a Deployment and a CronJob through `handleAdmissionReview` and through
 * `vouch webhook` over HTTPS; `vouch kyverno apply` checks the same manifests against the
 * registry and against OCI layouts (`--oci-layout-map`) with the registry unreachable.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@vouch/cli';
import { parseReference } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  type AdmissionReview,
  createKyvernoEngine,
  handleAdmissionReview,
  type KyvernoEngine,
  notationImageVerifier,
  parsePolicies,
} from '@vouch/kyverno';
import { nodeOciLayout, undiciFetch } from '@vouch/node';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
import { admissionReviewFor, pushTestImage, seedPolicyYaml, selfSignedTls, signTestImage, workloads } from '@vouch/testing';
import { freePort, type RunningRegistry, requireTool, startRegistry } from '@vouch/testing/registry';
import { certificatesToPem, createTestPki, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const hasRegistry = requireTool('docker-registry', 'the Kyverno end-to-end test needs a real OCI registry (CNCF distribution)');

// biome-ignore lint/suspicious/noExplicitAny: JSON documents are inspected loosely
type Json = Record<string, any>;

const http = undiciFetch();
let registry: RunningRegistry | undefined;
let root: string;
let pki: TestPki;
let host: string;
let downHost: string;
const digests: Record<string, string> = {};
let policyText: string;
let engine: KyvernoEngine;

/** JSON pointer of the first container image of each workload kind. */
const IMAGE_POINTER: Record<string, string> = {
  Pod: '/spec/containers/0/image',
  Deployment: '/spec/template/spec/containers/0/image',
  CronJob: '/spec/jobTemplate/spec/template/spec/containers/0/image',
};
const RULE: Record<string, string> = {
  Pod: 'verify-signature',
  Deployment: 'autogen-verify-signature',
  CronJob: 'autogen-cronjob-verify-signature',
};

function patchOf(review: AdmissionReview): Json[] {
  return JSON.parse(fromUtf8(fromBase64(review.response!.patch!)));
}

afterAll(async () => {
  await registry?.stop();
  await http.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe.runIf(hasRegistry)('Kyverno verifyImages end to end (real registry)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vouch-kyverno-e2e-'));
    registry = await startRegistry();
    host = registry.host;
    downHost = `127.0.0.1:${await freePort()}`; // nothing listens there: "registry down"
    pki = await createTestPki({ keySpec: 'RSA-2048' });
    const client = createRegistryClient({ fetch: http, retry: { retries: 0 } });
    for (const [name, format] of [
      ['prod/signed-jws', 'jws'],
      ['prod/signed-cose', 'cose'],
      ['prod/unsigned', undefined],
      ['staging/unsigned', undefined],
    ] as const) {
      const repo = remoteRepository(client, `${host}/${name}`);
      digests[name] = (await pushTestImage(repo, 'v1', name)).digest;
      if (format) await signTestImage(repo, digests[name]!, pki, format);
    }
    const certPem = certificatesToPem([pki.root.certificate]);
    policyText = [
      seedPolicyYaml({ certPem, imageReferences: [`${host}/prod/*`] }),
      seedPolicyYaml({ certPem, name: 'audit-image-signature', action: 'Audit', imageReferences: [`${host}/staging/*`] }),
      seedPolicyYaml({ certPem, name: 'down-fail', failurePolicy: 'Fail', imageReferences: [`${downHost}/fail/*`] }),
      seedPolicyYaml({ certPem, name: 'down-ignore', failurePolicy: 'Ignore', imageReferences: [`${downHost}/ignore/*`] }),
    ].join('---\n');
    await mkdir(join(root, 'policies'), { recursive: true });
    await writeFile(join(root, 'policies', 'policies.yaml'), policyText);
    const verifierClient = createRegistryClient({ fetch: http, retry: { retries: 0 }, timeoutMs: 5000 });
    engine = createKyvernoEngine({
      policies: parsePolicies(policyText),
      verifier: notationImageVerifier({
        envelopes: [jws, cose],
        repositoryFor: (ref) => remoteRepository(verifierClient, `${ref.registry}/${ref.repository}`),
      }),
    });
  });

  /** Every scenario, run against an admission function (in-process or over HTTPS). */
  function scenarios(admit: (review: AdmissionReview) => Promise<AdmissionReview>) {
    for (const kind of ['Pod', 'Deployment', 'CronJob']) {
      it(`${kind}: signed images (JWS, COSE) are allowed with the digest patch and the verify-images annotation`, async () => {
        for (const name of ['prod/signed-jws', 'prod/signed-cose']) {
          const object = workloads(`${host}/${name}:v1`).find((w) => w.kind === kind)!;
          const review = await admit(admissionReviewFor(object));
          expect(review.response, JSON.stringify(review.response)).toMatchObject({ uid: 'uid-1', allowed: true, patchType: 'JSONPatch' });
          const patch = patchOf(review);
          expect(patch).toContainEqual({ op: 'replace', path: IMAGE_POINTER[kind], value: `${host}/${name}:v1@${digests[name]}` });
          const scoped = patch.find((p) => p.path === '/metadata/annotations/kyverno.io~1verify-images-scoped');
          expect(JSON.parse(scoped?.value).policies['/check-image-signature'][RULE[kind]!]).toEqual({
            [`${host}/${name}@${digests[name]}`]: 'pass',
          });
        }
      });

      it(`${kind}: an unsigned image is denied with Kyverno's message`, async () => {
        const object = workloads(`${host}/prod/unsigned:v1`).find((w) => w.kind === kind)!;
        const review = await admit(admissionReviewFor(object));
        expect(review.response!.allowed).toBe(false);
        const ref = `${host}/prod/unsigned@${digests['prod/unsigned']}`;
        const message = review.response!.status!.message;
        expect(
          message.startsWith(
            `\n\nresource ${kind}/default/app was blocked due to the following policies \n\ncheck-image-signature:\n  ${RULE[kind]}: `,
          ),
        ).toBe(true);
        expect(message.replace(/\s+/g, ' ')).toContain(
          `failed to verify image ${host}/prod/unsigned:v1: .attestors[0].entries[0]: failed to verify ${ref}: no signature is associated with "${ref}", make sure the artifact was signed successfully`.replace(
            /\s+/g,
            ' ',
          ),
        );
      });
    }

    it('Audit: an unsigned image is allowed with a warning', async () => {
      const review = await admit(admissionReviewFor(workloads(`${host}/staging/unsigned:v1`)[0]!));
      expect(review.response!.allowed).toBe(true);
      expect(review.response!.warnings?.join('\n')).toContain(
        `policy audit-image-signature.verify-signature: failed to verify image ${host}/staging/unsigned:v1: `,
      );
    });

    it('registry down: failurePolicy Fail denies, Ignore allows', async () => {
      const fail = await admit(admissionReviewFor(workloads(`${downHost}/fail/app:v1`)[0]!));
      expect(fail.response!.allowed).toBe(false);
      expect(fail.response!.status!.message).toContain(`failed to verify image ${downHost}/fail/app:v1`);
      const ignore = await admit(admissionReviewFor(workloads(`${downHost}/ignore/app:v1`)[0]!));
      expect(ignore.response!.allowed).toBe(true);
      expect(ignore.response!.warnings?.join('\n')).toContain(`failed to verify image ${downHost}/ignore/app:v1`);
    });
  }

  describe('handleAdmissionReview', () => {
    scenarios((review) => handleAdmissionReview(review, engine));
  });

  describe('vouch webhook over HTTPS', () => {
    let done: Promise<number> | undefined;
    let port = 0;
    let out = '';
    beforeAll(async () => {
      const tls = await selfSignedTls();
      await writeFile(join(root, 'tls.crt'), tls.cert);
      await writeFile(join(root, 'tls.key'), tls.key);
      done = runCli(
        ['webhook', '--policies', 'policies', '--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--address', '127.0.0.1', '--port', '0'],
        {
          stdout: { write: (s: string) => (out += s) },
          stderr: { write: (s: string) => (out += s) },
          cwd: root,
          env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') },
        },
      );
      for (let i = 0; i < 400 && !out.includes('"policies loaded"'); i++) await new Promise((r) => setTimeout(r, 25));
      const listening = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Json)
        .find((l) => l.msg === 'listening');
      if (!listening || !out.includes('"policies loaded"')) throw new Error(`vouch webhook did not start:\n${out}`);
      port = Number(new URL(listening.address).port);
    });
    afterAll(async () => {
      if (done) {
        process.emit('SIGTERM');
        expect(await done).toBe(0);
      }
    });

    scenarios(
      (review) =>
        new Promise((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              path: '/mutate?timeout=10s',
              method: 'POST',
              rejectUnauthorized: false,
              headers: { 'content-type': 'application/json' },
            },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c) => (text += c));
              res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode}: ${text}`))));
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify(review));
        }),
    );
  });

  describe('vouch kyverno apply', () => {
    async function apply(args: string[]): Promise<{ code: number; report: Json; err: string }> {
      let out = '';
      let err = '';
      const code = await runCli(['kyverno', 'apply', 'policies/policies.yaml', ...args, '--vouch-output', 'json'], {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (err += s) },
        cwd: root,
        env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') },
      });
      return { code, report: JSON.parse(out), err };
    }

    it('against the registry: signed workloads pass (exit 0), an unsigned Pod fails the Enforce rule (exit 1)', async () => {
      const docs = (image: string, name: string) =>
        workloads(image, name)
          .map((w) => JSON.stringify(w))
          .join('\n---\n');
      await writeFile(join(root, 'signed.yaml'), docs(`${host}/prod/signed-cose:v1`, 'good'));
      await writeFile(join(root, 'unsigned.yaml'), docs(`${host}/prod/unsigned:v1`, 'bad'));
      const ok = await apply(['--resource', 'signed.yaml', '--insecure-registry', host]);
      expect(ok.code, ok.err).toBe(0);
      expect(ok.report.summary).toMatchObject({ pass: 6, fail: 0, error: 0 });
      const bad = await apply(['--resource', 'signed.yaml', '--resource', 'unsigned.yaml']);
      expect(bad.code).toBe(1);
      const failures = bad.report.results.filter((r: Json) => r.result === 'fail');
      expect(failures.map((r: Json) => `${r.resources[0].kind}/${r.rule}`)).toContain('Pod/verify-signature');
      expect(failures[0]).toMatchObject({ policy: 'check-image-signature' });
      expect(failures[0].message).toContain('no signature is associated with');
    });

    it('against OCI layouts (--oci-layout-map) while the registry is unreachable', async () => {
      const layout = join(root, 'layouts', 'app');
      const repo = nodeOciLayout(layout);
      const digest = (await pushTestImage(repo, 'v1', 'layout app')).digest;
      await signTestImage(repo, digest, pki, 'jws');
      await writeFile(join(root, 'layout-app.yaml'), JSON.stringify(workloads(`${downHost}/fail/app:v1`, 'offline')[0]));
      const down = await apply(['--resource', 'layout-app.yaml']);
      expect(down.code).toBe(1);
      expect(down.report.results[0].result).toBe('error');
      const mapped = await apply(['--resource', 'layout-app.yaml', '--oci-layout-map', `${downHost}/fail/app=layouts/app`]);
      expect(mapped.code, mapped.err).toBe(0);
      expect(mapped.report.results.map((r: Json) => r.result)).toEqual(['pass', 'pass']);
      expect(mapped.report.results[0].message).toBe(`verified image signatures for ${downHost}/fail/app:v1`);
      expect(parseReference(`${downHost}/fail/app@${digest}`).digest).toBe(digest);
    });
  });
});
