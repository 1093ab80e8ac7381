/**
 * verify-warm-<alg>-vs-crypto: warm `createVerifier().verify()` throughput on an OCI layout on
 * disk, with no result cache, divided by the throughput of the raw WebCrypto signature checks
 * that verification cannot avoid, measured in the same process. Target ≥ 0.5.
 *
 * What one verify call must redo every time: look the artifact and its referrers up in the
 * layout (index.json may change between calls), parse the envelope, verify the envelope
 * signature and every chain signature, validate the chain profile, the trust store match, the
 * identity, expiry and revocation (non-revokable chain: no request). What it may keep between
 * calls (DESIGN.md, "Performance principles"): content read by digest, parsed trust material,
 * imported keys, certificates parsed from the same DER bytes.
 *
 * The baseline is exactly the 4 WebCrypto `verify` calls of that work, on the same bytes: the
 * envelope's signing input and signature with the leaf key, and each certificate's TBS and
 * signature with its issuer's key and signature algorithm (leaf ← intermediate, intermediate ←
 * root, root ← root), with the keys imported once. It is measured both sequentially and with
 * the 4 checks in flight together (the verifier runs the envelope and chain checks
 * concurrently) and the faster of the two is the denominator, so concurrency cannot flatter
 * the ratio. Verifier and baseline are measured in interleaved rounds of about 50 ms each, so
 * that load from other processes affects both; the figure is the median of the per-round
 * ratios. The details also report what one verify call costs in WebCrypto and file
 * operations, so a regression (an extra digest, a re-import, an index re-read) shows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KeySpec, MediaType, type SignatureAlgorithm, utf8 } from '@vouch/core';
import { ecdsaDerToP1363 } from '@vouch/core/internal';
import { type EnvelopeCodec, localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { nodeLayoutFs } from '@vouch/node';
import { createVerifier, sign } from '@vouch/notation';
import { type LayoutFs, ociLayoutRepository, parseSignatureManifest, type Repository } from '@vouch/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { type Certificate, createTestPki } from '@vouch/x509';
import { OID } from '@vouch/x509/internal';
import { countWebCrypto, emitVsRawChecks, type RawCheck } from './util.js';

const SCOPE = 'bench.local/app';

const ab = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** Minimal DER walk: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
function splitCertificate(der: Uint8Array): { tbs: Uint8Array; signature: Uint8Array } {
  const tlv = (p: number) => {
    let len = der[p + 1]!;
    let h = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[p + 2 + i]!;
      h += n;
    }
    return { start: p, body: p + h, end: p + h + len };
  };
  const top = tlv(0);
  const tbs = tlv(top.body);
  const alg = tlv(tbs.end);
  const sig = tlv(alg.end);
  return { tbs: der.subarray(tbs.start, tbs.end), signature: der.subarray(sig.body + 1, sig.end) };
}

/** The WebCrypto verify a certificate signature needs (the algorithms the test PKI uses). */
function certificateCheck(
  cert: Certificate,
  issuer: Certificate,
): { importParams: RsaHashedImportParams | EcKeyImportParams; params: RsaPssParams | EcdsaParams | AlgorithmIdentifier; ecCoord?: number } {
  const rsa = { [OID.sha256WithRsa]: 'SHA-256', [OID.sha384WithRsa]: 'SHA-384', [OID.sha512WithRsa]: 'SHA-512' }[cert.signatureAlgorithm];
  if (rsa) return { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: rsa }, params: { name: 'RSASSA-PKCS1-v1_5' } };
  const ec = { [OID.ecdsaWithSha256]: 'SHA-256', [OID.ecdsaWithSha384]: 'SHA-384', [OID.ecdsaWithSha512]: 'SHA-512' }[
    cert.signatureAlgorithm
  ];
  if (ec) {
    return {
      importParams: { name: 'ECDSA', namedCurve: issuer.publicKey.curve! },
      params: { name: 'ECDSA', hash: ec },
      ecCoord: Math.ceil(issuer.publicKey.bits / 8),
    };
  }
  throw new Error(`bench: certificate signature algorithm ${cert.signatureAlgorithm} not handled`);
}

const ENVELOPE_PARAMS: Record<
  SignatureAlgorithm,
  { importParams: RsaHashedImportParams | EcKeyImportParams; params: RsaPssParams | EcdsaParams }
> = {
  PS256: { importParams: { name: 'RSA-PSS', hash: 'SHA-256' }, params: { name: 'RSA-PSS', saltLength: 32 } },
  PS384: { importParams: { name: 'RSA-PSS', hash: 'SHA-384' }, params: { name: 'RSA-PSS', saltLength: 48 } },
  PS512: { importParams: { name: 'RSA-PSS', hash: 'SHA-512' }, params: { name: 'RSA-PSS', saltLength: 64 } },
  ES256: { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, params: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { importParams: { name: 'ECDSA', namedCurve: 'P-384' }, params: { name: 'ECDSA', hash: 'SHA-384' } },
  ES512: { importParams: { name: 'ECDSA', namedCurve: 'P-521' }, params: { name: 'ECDSA', hash: 'SHA-512' } },
};

/**
 * The 4 raw checks of one verification, on the signature the layout holds: envelope by leaf,
 * leaf by intermediate, intermediate by root, root by itself.
 */
async function rawChecks(repo: Repository, target: string, codec: EnvelopeCodec): Promise<RawCheck[]> {
  const subtle = globalThis.crypto.subtle;
  const artifact = await repo.resolve(target);
  let sigDesc: Awaited<ReturnType<Repository['resolve']>> | undefined;
  for await (const page of repo.referrers(artifact, { artifactType: MediaType.NOTARY_SIGNATURE })) sigDesc ??= page[0];
  if (!sigDesc) throw new Error('bench: no signature in the layout');
  const sm = parseSignatureManifest((await repo.fetchManifest(sigDesc)).bytes, sigDesc.mediaType);
  const env = codec.parse(await repo.fetchBlob(sm.envelope));
  const chain = env.certificateChain;
  const spki = (c: Certificate) => ab(c.publicKey.spki);
  const e = ENVELOPE_PARAMS[env.algorithm];
  const checks: RawCheck[] = [
    {
      params: e.params,
      key: await subtle.importKey('spki', spki(chain[0]!), e.importParams, false, ['verify']),
      signature: ab(env.signature),
      data: ab(env.toBeSigned),
    },
  ];
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[Math.min(i + 1, chain.length - 1)]!;
    const c = certificateCheck(cert, issuer);
    const parts = splitCertificate(cert.der);
    checks.push({
      params: c.params,
      key: await subtle.importKey('spki', spki(issuer), c.importParams, false, ['verify']),
      signature: ab(c.ecCoord ? ecdsaDerToP1363(parts.signature, c.ecCoord) : parts.signature),
      data: ab(parts.tbs),
    });
  }
  for (const c of checks) if (!(await subtle.verify(c.params, c.key, c.signature, c.data))) throw new Error('bench: baseline check failed');
  return checks;
}

/** Counts calls to the WebCrypto and layout file operations while `op` runs once. */
async function countOperations(fsCounts: Map<string, number>, op: () => Promise<void>): Promise<string> {
  fsCounts.clear();
  const counts = await countWebCrypto(op);
  const fs = [...fsCounts].map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
  return `per call: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}; layout fs: ${fs}`;
}

function countingFs(fs: LayoutFs, counts: Map<string, number>): LayoutFs {
  const wrapped: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fs)) {
    wrapped[k] =
      typeof v === 'function'
        ? (...a: unknown[]) => {
            counts.set(k, (counts.get(k) ?? 0) + 1);
            return (v as (...x: unknown[]) => unknown).apply(fs, a);
          }
        : v;
  }
  return wrapped as unknown as LayoutFs;
}

export async function benchVerifyWarm(keySpec: KeySpec, alg: SignatureAlgorithm, name: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-'));
  try {
    const pki = await createTestPki({ keySpec });
    const setup = ociLayoutRepository(nodeLayoutFs(dir));
    const cfg = await setup.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
    const layer = await setup.pushBlob(MediaType.OCI_LAYER_TAR, utf8('bench layer'));
    const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
    const target = await setup.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' });
    const signer = localRawSigner(pki.leaf.privateKey, pki.chain);
    if (signer.algorithm !== alg) throw new Error(`bench: ${keySpec} signs with ${signer.algorithm}, not ${alg}`);
    await sign(target.digest, { repository: setup, signer, envelope: jws });
    const verifier = createVerifier({
      trustPolicy: {
        version: '1.0',
        trustPolicies: [
          {
            name: 'b',
            registryScopes: [SCOPE],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:b'],
            trustedIdentities: ['*'],
          },
        ],
      },
      trustStore: memoryTrustStore({ ca: { b: [pki.root.certificate] } }),
      envelopes: [jws, cose],
      // Default revocation checker: the test certificates have no OCSP/CRL URLs, so they are
      // non-revokable; the check still runs but makes no request.
      ...(process.env.BENCH_NO_REVOCATION ? { revocation: false as const } : {}),
    });
    // A repository object of its own, as a controller keeps one per layout: the verifier and
    // the repository keep only what the rules above allow.
    const fsCounts = new Map<string, number>();
    const repo = ociLayoutRepository(countingFs(nodeLayoutFs(dir), fsCounts));
    const once = async () => {
      await verifier.verify(target.digest, { repository: repo, scope: SCOPE });
    };
    await once();
    const counts = await countOperations(fsCounts, once);
    const checks = await rawChecks(ociLayoutRepository(nodeLayoutFs(dir)), target.digest, jws);
    await emitVsRawChecks(name, once, checks, counts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
