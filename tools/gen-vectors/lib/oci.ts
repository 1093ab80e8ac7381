/**
 * test-vectors/oci/: an OCI image layout with signed images (JWS current form, COSE legacy
 * form, a signed multi-arch index, signingAuthority), an unsigned image, tampered and mismatched
 * signatures, several signatures per image, and standalone signature manifests. Adds the
 * `verify`, `verify-signature`, `signature-manifest` and `oci-referrers` cases.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotation, type Descriptor, KEY_SPECS, MediaType } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { nodeOciLayout } from '@vouch/node';
import { sign } from '@vouch/notation';
import { buildSignatureManifest, type WritableRepository } from '@vouch/registry';
import { thumbprintAnnotation } from '@vouch/registry/internal';
import type { Certificate } from '@vouch/x509';
import { add, OUT, sha256hex, T, utf8, write, writeJson } from './common.js';
import { stdHeader } from './envelope-builder.js';
import { ARTIFACT, build, type EnvelopeIndex, FORMATS, type Format, packageSign, payloadFor } from './envelopes.js';
import type { Pkis } from './pki.js';
import { specSlug } from './pki.js';
import { VERIFY_SCOPES as V } from './policies.js';

const LAYOUT = 'oci/layout';
const MT = { jws: MediaType.JWS, cose: MediaType.COSE } as const;

async function pushImage(
  repo: WritableRepository,
  name: string,
  platform = { architecture: 'amd64', os: 'linux' },
  tag: string | undefined = name,
) {
  const config = await repo.pushBlob(
    'application/vnd.oci.image.config.v1+json',
    utf8(JSON.stringify({ ...platform, config: {}, rootfs: { type: 'layers', diff_ids: [] }, 'vouch.vectors': name })),
  );
  const layer = await repo.pushBlob('application/vnd.oci.image.layer.v1.tar', utf8(`vouch vectors layer of ${name}\n`));
  const m = { schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] };
  return repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(m)), tag ? { tag } : {});
}

async function attach(
  repo: WritableRepository,
  subject: Descriptor,
  envelope: Uint8Array,
  format: Format,
  chain: readonly Certificate[],
  form: 'current' | 'legacy' = 'current',
): Promise<{ manifest: Descriptor; envelope: Descriptor; bytes: Uint8Array }> {
  const env = await repo.pushBlob(MT[format], envelope);
  const built = buildSignatureManifest({
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    envelopeDescriptor: env,
    annotations: {
      [Annotation.THUMBPRINT_S256]: thumbprintAnnotation(chain.map((c) => c.der)),
      [Annotation.CREATED]: '2025-06-01T12:00:00Z',
    },
    form,
  });
  const manifest = await repo.pushManifest(MediaType.OCI_MANIFEST, built.bytes);
  return { manifest, envelope: env, bytes: built.bytes };
}

const art = (d: Descriptor) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });

export async function generateOci(pkis: Pkis, envs: EnvelopeIndex, vp: { policy: string; truststore: string }): Promise<void> {
  const repo = nodeOciLayout(join(OUT, LAYOUT));
  const ec = pkis.bySpec['EC-256'];
  const rsa3072 = pkis.bySpec['RSA-3072'];
  const ec384 = pkis.bySpec['EC-384'];
  await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));

  // signed-jws: signed with @vouch/notation's sign(), user metadata, plus an SBOM referrer.
  const signedJws = await pushImage(repo, 'signed-jws');
  await sign('signed-jws', {
    repository: repo,
    signer: localRawSigner(ec.leaf.privateKey, ec.chain),
    envelope: jws,
    userMetadata: { buildId: '123', team: 'vouch' },
    signingAgent: 'vouch-vectors/1.0',
    now: () => T.signingTime,
  });
  const sbom = await repo.pushBlob('application/spdx+json', utf8('{"spdxVersion":"SPDX-2.3"}'));
  await repo.pushManifest(
    MediaType.OCI_MANIFEST,
    utf8(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        artifactType: 'application/spdx+json',
        config: { mediaType: MediaType.OCI_EMPTY, digest: `sha256:${sha256hex(utf8('{}'))}`, size: 2 },
        layers: [sbom],
        subject: art(signedJws),
      }),
    ),
  );

  // signed-cose-legacy: COSE, RSA-3072, legacy manifest form.
  const coseLegacy = await pushImage(repo, 'signed-cose-legacy');
  await attach(
    repo,
    coseLegacy,
    await packageSign({ format: 'cose', chain: rsa3072.chain, privateKey: rsa3072.leaf.privateKey, artifact: art(coseLegacy) }),
    'cose',
    rsa3072.chain,
    'legacy',
  );

  // multiarch: index of two platform images, the index is signed (JWS, EC-384).
  const amd64 = await pushImage(repo, 'multiarch-amd64', { architecture: 'amd64', os: 'linux' }, undefined);
  const arm64 = await pushImage(repo, 'multiarch-arm64', { architecture: 'arm64', os: 'linux' }, undefined);
  const indexBytes = utf8(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_INDEX,
      manifests: [
        { ...art(amd64), platform: { architecture: 'amd64', os: 'linux' } },
        { ...art(arm64), platform: { architecture: 'arm64', os: 'linux' } },
      ],
    }),
  );
  const multiarch = await repo.pushManifest(MediaType.OCI_INDEX, indexBytes, { tag: 'multiarch' });
  await attach(
    repo,
    multiarch,
    await packageSign({ format: 'jws', chain: ec384.chain, privateKey: ec384.leaf.privateKey, artifact: art(multiarch) }),
    'jws',
    ec384.chain,
  );

  await pushImage(repo, 'unsigned');

  const ecSigned = (d: Descriptor, format: Format = 'jws', more: Partial<Parameters<typeof packageSign>[0]> = {}) =>
    packageSign({ format, chain: ec.chain, privateKey: ec.leaf.privateKey, artifact: art(d), ...more });

  // tampered-envelope: signature value altered (blob digest is that of the altered bytes).
  const tampered = await pushImage(repo, 'tampered-envelope');
  await attach(
    repo,
    tampered,
    await build('jws', {
      header: stdHeader({ alg: 'ES256', time: T.signingTime }),
      payload: payloadFor(art(tampered)),
      signer: { alg: 'ES256', privateKey: ec.leaf.privateKey, chain: ec.chain },
      tamper: 'signature',
    }),
    'jws',
    ec.chain,
  );

  // tampered-blob: a valid envelope whose blob file was changed after the manifest was written.
  const tamperedBlob = await pushImage(repo, 'tampered-blob');
  const tb = await attach(repo, tamperedBlob, await ecSigned(tamperedBlob, 'cose'), 'cose', ec.chain);
  {
    const p = join(OUT, LAYOUT, 'blobs', 'sha256', tb.envelope.digest.slice(7));
    const bytes = readFileSync(p);
    const last = bytes.at(-1);
    if (last === undefined) throw new Error(`${p} is empty`);
    bytes[bytes.length - 1] = last ^ 0x01;
    writeFileSync(p, bytes);
  }

  const expired = await pushImage(repo, 'expired-signature');
  await attach(repo, expired, await ecSigned(expired, 'jws', { expiry: T.expiryPast }), 'jws', ec.chain);

  const untrusted = await pushImage(repo, 'untrusted');
  await attach(
    repo,
    untrusted,
    await packageSign({ format: 'jws', chain: pkis.other.chain, privateKey: pkis.other.leaf.privateKey, artifact: art(untrusted) }),
    'jws',
    pkis.other.chain,
  );

  // artifact-mismatch: the manifest's subject is this image, the envelope signs signed-jws.
  const mismatch = await pushImage(repo, 'artifact-mismatch');
  await attach(repo, mismatch, await ecSigned(signedJws), 'jws', ec.chain);

  // many-signatures: two untrusted signatures, then a valid one.
  const many = await pushImage(repo, 'many-signatures');
  for (let i = 0; i < 2; i++) {
    await attach(
      repo,
      many,
      await packageSign({
        format: 'jws',
        chain: pkis.other.chain,
        privateKey: pkis.other.leaf.privateKey,
        artifact: art(many),
        time: new Date(T.signingTime.getTime() + i * 1000),
      }),
      'jws',
      pkis.other.chain,
    );
  }
  await attach(repo, many, await ecSigned(many, 'cose'), 'cose', ec.chain);

  const sa = await pushImage(repo, 'signing-authority');
  await attach(repo, sa, await ecSigned(sa, 'jws', { scheme: 'notary.x509.signingAuthority', expiry: T.expiryFuture }), 'jws', ec.chain);

  const certExpired = await pushImage(repo, 'cert-expired');
  const expiredChain = [pkis.extra['leaf-expired']!.certificate, ec.intermediate.certificate, ec.root.certificate];
  await attach(
    repo,
    certExpired,
    await packageSign({
      format: 'cose',
      chain: expiredChain,
      privateKey: ec.leaf.privateKey,
      artifact: art(certExpired),
      time: new Date('2020-06-01T00:00:00Z'),
    }),
    'cose',
    expiredChain,
  );

  const unknownCritical = await pushImage(repo, 'unknown-critical');
  await attach(
    repo,
    unknownCritical,
    await build('cose', {
      header: stdHeader({ alg: 'ES256', time: T.signingTime, extended: [['com.example.critical', 'must-understand', true]] }),
      payload: payloadFor(art(unknownCritical)),
      signer: { alg: 'ES256', privateKey: ec.leaf.privateKey, chain: ec.chain },
    }),
    'cose',
    ec.chain,
  );

  // mixed: a malformed signature manifest (two layers), a tampered signature, then a valid one.
  const mixed = await pushImage(repo, 'mixed');
  {
    const good = await ecSigned(mixed);
    const envDesc = await repo.pushBlob(MediaType.JWS, good);
    const built = buildSignatureManifest({ subject: art(mixed), envelopeDescriptor: envDesc, annotations: {} });
    const twoLayers = { ...built.manifest, layers: [...built.manifest.layers, built.manifest.layers[0]] };
    await repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(twoLayers)));
    await attach(
      repo,
      mixed,
      await build('jws', {
        header: stdHeader({ alg: 'ES256', time: T.signingTime }),
        payload: payloadFor(art(mixed)),
        signer: { alg: 'ES256', privateKey: ec.leaf.privateKey, chain: ec.chain },
        tamper: 'signature',
      }),
      'jws',
      ec.chain,
    );
    await attach(repo, mixed, good, 'jws', ec.chain);
  }

  // ---------------------------------------------------------------- verify cases
  const inputs = { layout: LAYOUT, policy: vp.policy, truststore: vp.truststore };
  type VExpect = { ok: true; level?: string; warnings?: string[]; outcomes?: string[] } | { code: string; outcomeCode?: string };
  const VF = (outcomeCode: string): VExpect => ({ code: 'ERR_VERIFICATION_FAILED', outcomeCode });
  const vcases: [string, string, Record<string, unknown>, VExpect, string][] = [
    [
      'signed-jws-strict',
      'JWS signature (current manifest form) made by notation.sign, strict',
      { reference: 'signed-jws', scope: V.strict },
      { ok: true, level: 'strict', warnings: [] },
      'verification: verify OCI layout',
    ],
    [
      'signed-jws-identity',
      'trusted identity matches the leaf',
      { reference: 'signed-jws', scope: V.identity },
      { ok: true },
      'verification: identity',
    ],
    [
      'signed-jws-identity-mismatch',
      'trusted identity does not match the leaf',
      { reference: 'signed-jws', scope: V.identityMismatch },
      VF('ERR_IDENTITY_UNTRUSTED'),
      'verification: identity',
    ],
    [
      'user-metadata-match',
      'required user metadata present in the payload',
      { reference: 'signed-jws', scope: V.strict, userMetadata: { buildId: '123' } },
      { ok: true },
      'verification: user metadata',
    ],
    [
      'user-metadata-mismatch',
      'required user metadata value differs',
      { reference: 'signed-jws', scope: V.strict, userMetadata: { buildId: '999' } },
      VF('ERR_USER_METADATA_MISMATCH'),
      'verification: user metadata',
    ],
    [
      'user-metadata-missing-key',
      'required user metadata key absent',
      { reference: 'signed-jws', scope: V.strict, userMetadata: { branch: 'main' } },
      VF('ERR_USER_METADATA_MISMATCH'),
      'verification: user metadata',
    ],
    [
      'user-metadata-reserved-key',
      'user metadata keys starting with io.cncf.notary are refused',
      { reference: 'signed-jws', scope: V.strict, userMetadata: { 'io.cncf.notary.buildId': '123' } },
      { code: 'ERR_INVALID_ARGUMENT' },
      'verification: user metadata',
    ],
    [
      'by-digest',
      'reference by digest inside the layout',
      { reference: `@${signedJws.digest}`, scope: V.strict },
      { ok: true },
      'OCI: resolve digest',
    ],
    [
      'digest-not-found',
      'digest that is not in the layout',
      { reference: `@sha256:${'0'.repeat(64)}`, scope: V.strict },
      { code: 'ERR_REGISTRY_NOT_FOUND' },
      'OCI: resolve digest',
    ],
    [
      'tag-not-found',
      'tag that is not in the layout',
      { reference: 'no-such-tag', scope: V.strict },
      { code: 'ERR_REGISTRY_NOT_FOUND' },
      'OCI: resolve tag',
    ],
    [
      'no-applicable-policy',
      'scope without a statement (and no "*")',
      { reference: 'signed-jws', scope: 'local/unlisted' },
      { code: 'ERR_NO_APPLICABLE_TRUST_POLICY' },
      'verification: select policy',
    ],
    [
      'envelope-over-size-limit',
      'envelope larger than maxEnvelopeBytes counts as a failed attempt',
      { reference: 'signed-jws', scope: V.strict, maxEnvelopeBytes: 100 },
      { code: 'ERR_VERIFICATION_INCONCLUSIVE', outcomeCode: 'ERR_SIZE_LIMIT_EXCEEDED' },
      'verification: size limit',
    ],
    [
      'manifest-over-size-limit',
      'signature manifest larger than maxManifestBytes counts as a failed attempt',
      { reference: 'signed-jws', scope: V.strict, maxManifestBytes: 100 },
      { code: 'ERR_VERIFICATION_INCONCLUSIVE', outcomeCode: 'ERR_SIZE_LIMIT_EXCEEDED' },
      'verification: size limit',
    ],
    [
      'signed-cose-legacy',
      'COSE signature (RSA-3072) in the legacy manifest form',
      { reference: 'signed-cose-legacy', scope: V.strict },
      { ok: true },
      'OCI: legacy signature manifest form',
    ],
    [
      'cose-untrusted-root',
      'RSA-3072 signer against a store holding only the EC-256 root',
      { reference: 'signed-cose-legacy', scope: V.ec256Only },
      VF('ERR_CERT_UNTRUSTED'),
      'verification: authenticity',
    ],
    ['multiarch-index', 'signed multi-arch index', { reference: 'multiarch', scope: V.strict }, { ok: true }, 'OCI: index'],
    [
      'multiarch-child-unsigned',
      'a platform manifest of the signed index has no signature of its own',
      { reference: `@${amd64.digest}`, scope: V.strict },
      { code: 'ERR_SIGNATURE_NOT_FOUND' },
      'verification: no signature',
    ],
    [
      'unsigned-strict',
      'unsigned image, strict',
      { reference: 'unsigned', scope: V.strict },
      { code: 'ERR_SIGNATURE_NOT_FOUND' },
      'verification: no signature',
    ],
    [
      'unsigned-skip',
      'unsigned image, level skip succeeds without a signature',
      { reference: 'unsigned', scope: V.skip },
      { ok: true, level: 'skip' },
      'verification: skip',
    ],
    [
      'tampered-envelope-strict',
      'signature value altered',
      { reference: 'tampered-envelope', scope: V.strict },
      VF('ERR_SIGNATURE_INTEGRITY'),
      'verification: integrity',
    ],
    [
      'tampered-envelope-audit',
      'integrity is enforced even under audit',
      { reference: 'tampered-envelope', scope: V.audit },
      VF('ERR_SIGNATURE_INTEGRITY'),
      'verification: integrity always enforced',
    ],
    [
      'tampered-blob',
      'envelope blob does not match its digest: retrieval fails',
      { reference: 'tampered-blob', scope: V.strict },
      { code: 'ERR_VERIFICATION_INCONCLUSIVE', outcomeCode: 'ERR_DIGEST_MISMATCH' },
      'OCI: digest verification',
    ],
    [
      'expired-signature-strict',
      'expiry in the past, strict',
      { reference: 'expired-signature', scope: V.strict },
      VF('ERR_SIGNATURE_EXPIRED'),
      'verification: expiry',
    ],
    [
      'expired-signature-permissive',
      'expiry in the past is only logged under permissive',
      { reference: 'expired-signature', scope: V.permissive },
      { ok: true, level: 'permissive', warnings: ['ERR_SIGNATURE_EXPIRED'] },
      'verification: permissive logging',
    ],
    [
      'expired-signature-override-log',
      'strict with override expiry: log',
      { reference: 'expired-signature', scope: V.expiryLog },
      { ok: true, warnings: ['ERR_SIGNATURE_EXPIRED'] },
      'verification: override',
    ],
    [
      'untrusted-strict',
      'signer from a PKI in no trust store',
      { reference: 'untrusted', scope: V.strict },
      VF('ERR_CERT_UNTRUSTED'),
      'verification: authenticity',
    ],
    [
      'untrusted-audit',
      'untrusted signer is only logged under audit',
      { reference: 'untrusted', scope: V.audit },
      { ok: true, level: 'audit', warnings: ['ERR_CERT_UNTRUSTED'] },
      'verification: audit logging',
    ],
    [
      'artifact-mismatch',
      'envelope signs another artifact than the manifest subject',
      { reference: 'artifact-mismatch', scope: V.strict },
      VF('ERR_ARTIFACT_MISMATCH'),
      'verification: payload binding',
    ],
    [
      'many-signatures',
      'two untrusted signatures then a valid one',
      { reference: 'many-signatures', scope: V.strict },
      { ok: true, outcomes: ['ERR_CERT_UNTRUSTED', 'ERR_CERT_UNTRUSTED', 'ok'] },
      'verification: any valid signature suffices',
    ],
    [
      'many-signatures-limit',
      'maxSignatureAttempts 2 stops before the valid signature',
      { reference: 'many-signatures', scope: V.strict, maxSignatureAttempts: 2 },
      { code: 'ERR_SIGNATURE_LIMIT_EXCEEDED', outcomeCode: 'ERR_CERT_UNTRUSTED' },
      'verification: max signatures',
    ],
    [
      'many-signatures-limit-enough',
      'maxSignatureAttempts 3 reaches the valid signature',
      { reference: 'many-signatures', scope: V.strict, maxSignatureAttempts: 3 },
      { ok: true },
      'verification: max signatures',
    ],
    [
      'max-signatures-invalid',
      'maxSignatureAttempts 0 is rejected',
      { reference: 'many-signatures', scope: V.strict, maxSignatureAttempts: 0 },
      { code: 'ERR_INVALID_ARGUMENT' },
      'verification: max signatures',
    ],
    [
      'signing-authority',
      'signingAuthority scheme against a signingAuthority store',
      { reference: 'signing-authority', scope: V.signingAuthority },
      { ok: true },
      'verification: signingAuthority',
    ],
    [
      'signing-authority-ca-store',
      'signingAuthority signature against a policy with ca stores only',
      { reference: 'signing-authority', scope: V.strict },
      VF('ERR_CERT_UNTRUSTED'),
      'verification: scheme/store separation',
    ],
    [
      'cert-expired-strict',
      'leaf expired before the verification time',
      { reference: 'cert-expired', scope: V.strict },
      VF('ERR_CERT_EXPIRED'),
      'verification: authentic timestamp / validity',
    ],
    [
      'cert-expired-permissive',
      'expired leaf is only logged under permissive',
      { reference: 'cert-expired', scope: V.permissive },
      { ok: true, warnings: ['ERR_CERT_EXPIRED'] },
      'verification: permissive logging',
    ],
    [
      'mixed',
      'malformed manifest and tampered signature are failed attempts; the valid one verifies',
      { reference: 'mixed', scope: V.strict },
      { ok: true, outcomes: ['ERR_MALFORMED_INPUT', 'ERR_SIGNATURE_INTEGRITY', 'ok'] },
      'verification: failed attempts move on',
    ],
    [
      'tsa-store-requires-timestamp',
      'a tsa store in the policy makes a timestamp mandatory',
      { reference: 'signed-jws', scope: V.tsa },
      VF('ERR_TIMESTAMP_INVALID'),
      'verification: authentic timestamp',
    ],
    [
      'tsa-after-cert-expiry',
      'verifyTimestamp afterCertExpiry with valid certificates needs no timestamp',
      { reference: 'signed-jws', scope: V.tsaAfterExpiry },
      { ok: true },
      'verification: authentic timestamp',
    ],
    [
      'missing-trust-store',
      'policy names a trust store that does not exist',
      { reference: 'signed-jws', scope: V.missingStore },
      VF('ERR_TRUST_STORE_NOT_FOUND'),
      'verification: authenticity',
    ],
    [
      'unknown-critical-attribute',
      'COSE signature with an unknown critical signed attribute',
      { reference: 'unknown-critical', scope: V.strict },
      VF('ERR_ENVELOPE_UNSUPPORTED'),
      'envelope/verification: unknown critical header fails',
    ],
  ];
  for (const [id, description, params, expect, rule] of vcases)
    add({ id: `verify-${id}`, kind: 'verify', description, rule, inputs, params, expect });

  // ---------------------------------------------------------------- verify-signature cases
  const vsInputs = (rel: string) => ({ envelope: rel, policy: vp.policy, truststore: vp.truststore });
  type VS = [
    id: string,
    description: string,
    env: string,
    statement: string,
    expect: VExpect,
    rule: string,
    extra?: Record<string, unknown>,
  ];
  const vs: VS[] = [];
  for (const spec of KEY_SPECS) {
    vs.push([
      `${specSlug(spec)}-x509`,
      `${spec} notary.x509`,
      `valid-${specSlug(spec)}-x509`,
      'strict',
      { ok: true, warnings: [] },
      'verification: six algorithms verify',
    ]);
    vs.push([
      `${specSlug(spec)}-signing-authority`,
      `${spec} signingAuthority`,
      `valid-${specSlug(spec)}-signing-authority`,
      'signing-authority',
      { ok: true, warnings: [] },
      'verification: six algorithms verify',
    ]);
  }
  const VSF = (code: string): VExpect => ({ code });
  vs.push(
    ['identity', 'trusted identity matches', 'valid-ec-256-x509', 'identity', { ok: true }, 'verification: identity'],
    [
      'identity-mismatch',
      'trusted identity does not match',
      'valid-ec-256-x509',
      'identity-mismatch',
      VSF('ERR_IDENTITY_UNTRUSTED'),
      'verification: identity',
    ],
    [
      'untrusted-root',
      'RSA-2048 signer, store holds the EC-256 root only',
      'valid-rsa-2048-x509',
      'ec256-only',
      VSF('ERR_CERT_UNTRUSTED'),
      'verification: authenticity',
    ],
    [
      'x509-against-signing-authority-store',
      'notary.x509 signature with only signingAuthority stores',
      'valid-ec-256-x509',
      'signing-authority',
      VSF('ERR_CERT_UNTRUSTED'),
      'verification: scheme/store separation',
    ],
    [
      'signing-authority-against-ca-store',
      'signingAuthority signature with only ca stores',
      'valid-ec-256-signing-authority',
      'strict',
      VSF('ERR_CERT_UNTRUSTED'),
      'verification: scheme/store separation',
    ],
    ['expired-signature-strict', 'expiry in the past', 'expired-signature', 'strict', VSF('ERR_SIGNATURE_EXPIRED'), 'verification: expiry'],
    [
      'expired-signature-permissive',
      'expiry in the past, logged',
      'expired-signature',
      'permissive',
      { ok: true, warnings: ['ERR_SIGNATURE_EXPIRED'] },
      'verification: permissive logging',
    ],
    [
      'leaf-expired-strict',
      'leaf expired at verification time',
      'leaf-expired',
      'strict',
      VSF('ERR_CERT_EXPIRED'),
      'verification: certificate validity at verification time',
    ],
    [
      'leaf-expired-permissive',
      'leaf expired, logged',
      'leaf-expired',
      'permissive',
      { ok: true, warnings: ['ERR_CERT_EXPIRED'] },
      'verification: permissive logging',
    ],
    [
      'leaf-not-yet-valid',
      'leaf not yet valid at verification time',
      'leaf-not-yet-valid',
      'strict',
      VSF('ERR_CERT_EXPIRED'),
      'verification: certificate validity at verification time',
    ],
    [
      'signing-authority-time-outside-validity',
      'authenticSigningTime before the chain was valid',
      'signing-authority-time-outside-validity',
      'signing-authority',
      VSF('ERR_CERT_EXPIRED'),
      'verification: authentic signing time',
    ],
    ['untrusted-strict', 'signer in no trust store', 'untrusted-signer', 'strict', VSF('ERR_CERT_UNTRUSTED'), 'verification: authenticity'],
    [
      'untrusted-audit',
      'signer in no trust store, logged under audit',
      'untrusted-signer',
      'audit',
      { ok: true, warnings: ['ERR_CERT_UNTRUSTED'] },
      'verification: audit logging',
    ],
    [
      'unknown-critical-header',
      'unknown critical signed attribute',
      'unknown-critical-header',
      'strict',
      VSF('ERR_ENVELOPE_UNSUPPORTED'),
      'envelope: unknown critical header fails',
    ],
    [
      'verification-plugin',
      'signature names a verification plugin that is not installed',
      'verification-plugin',
      'strict',
      VSF('ERR_PLUGIN_NOT_FOUND'),
      'verification: verification plugin',
    ],
    [
      'tampered-payload-audit',
      'integrity failure under audit',
      'tampered-payload',
      'audit',
      VSF('ERR_SIGNATURE_INTEGRITY'),
      'verification: integrity always enforced',
    ],
    [
      'chain-invalid-audit',
      'invalid chain under audit',
      'chain-out-of-order',
      'audit',
      VSF('ERR_CERT_CHAIN_INVALID'),
      'verification: integrity always enforced',
    ],
    [
      'user-metadata-match',
      'required annotations present',
      'valid-ec-256-annotations',
      'strict',
      { ok: true },
      'verification: user metadata',
      { userMetadata: { buildId: '123', team: 'vouch' } },
    ],
    [
      'user-metadata-mismatch',
      'required annotation differs',
      'valid-ec-256-annotations',
      'strict',
      VSF('ERR_USER_METADATA_MISMATCH'),
      'verification: user metadata',
      { userMetadata: { buildId: '124' } },
    ],
    [
      'artifact-mismatch',
      'payload describes another artifact',
      'valid-ec-256-x509',
      'strict',
      VSF('ERR_ARTIFACT_MISMATCH'),
      'verification: payload binding',
      { artifact: { ...ARTIFACT, digest: `sha256:${'1'.repeat(64)}` } },
    ],
    [
      'missing-trust-store',
      'policy names a store that does not exist',
      'valid-ec-256-x509',
      'missing-store',
      VSF('ERR_TRUST_STORE_NOT_FOUND'),
      'verification: authenticity',
    ],
    ['skip', 'level skip performs no check', 'tampered-signature', 'skip', { ok: true }, 'verification: skip'],
    [
      'tsa-store-requires-timestamp',
      'tsa store configured and no timestamp',
      'valid-ec-256-x509',
      'tsa',
      VSF('ERR_TIMESTAMP_INVALID'),
      'verification: authentic timestamp',
    ],
    [
      'self-signed',
      'self-signed signer whose certificate is in the store',
      'valid-self-signed',
      'self-signed',
      { ok: true },
      'verification: self-signed signer',
    ],
    [
      'self-signed-not-in-store',
      'self-signed signer not in the store',
      'valid-self-signed',
      'strict',
      VSF('ERR_CERT_UNTRUSTED'),
      'verification: authenticity',
    ],
    [
      'unsupported-media-type',
      'envelope media type application/json',
      'valid-ec-256-x509',
      'strict',
      VSF('ERR_ENVELOPE_UNSUPPORTED'),
      'verification: envelope media type',
      { envelopeMediaType: 'application/json' },
    ],
  );
  for (const [id, description, env, statement, expect, rule, extra] of vs) {
    for (const format of FORMATS) {
      const rel = envs.valid[env]?.[format] ?? envs.negative[env]?.[format];
      if (!rel) throw new Error(`no ${format} envelope ${env}`);
      add({
        id: `verify-signature-${format}-${id}`,
        kind: 'verify-signature',
        description: `${format.toUpperCase()}: ${description}`,
        rule,
        inputs: vsInputs(rel),
        params: { statement, artifact: ARTIFACT, ...(extra ?? {}) },
        expect,
      });
    }
  }

  // ---------------------------------------------------------------- referrers and signature manifests
  const refs: [string, string, number][] = [
    ['signed-jws', 'one signature; the SBOM referrer is not a signature', 1],
    ['many-signatures', 'three signatures', 3],
    ['mixed', 'three Notary referrers, one of them malformed', 3],
    ['multiarch', 'the signed index', 1],
    ['unsigned', 'no referrers', 0],
  ];
  for (const [tag, description, count] of refs) {
    add({
      id: `oci-referrers-${tag}`,
      kind: 'oci-referrers',
      description,
      rule: 'OCI: referrers by scanning the layout',
      inputs: { layout: LAYOUT },
      params: { reference: tag },
      expect: { ok: true, count },
    });
  }
  const envDesc = { mediaType: MediaType.JWS, digest: `sha256:${'b'.repeat(64)}`, size: 1000 };
  const subject = art(signedJws);
  const current = buildSignatureManifest({ subject, envelopeDescriptor: envDesc, annotations: { [Annotation.THUMBPRINT_S256]: '["00"]' } })
    .manifest as unknown as Record<string, unknown>;
  const legacy = buildSignatureManifest({ subject, envelopeDescriptor: envDesc, annotations: {}, form: 'legacy' })
    .manifest as unknown as Record<string, unknown>;
  const manifests: [string, string, unknown, { ok: true; form: string } | { code: string }][] = [
    ['current', 'artifactType + empty config', current, { ok: true, form: 'current' }],
    ['legacy', 'config media type application/vnd.cncf.notary.signature', legacy, { ok: true, form: 'legacy' }],
    [
      'cose-layer',
      'COSE envelope layer',
      { ...current, layers: [{ ...envDesc, mediaType: MediaType.COSE }] },
      { ok: true, form: 'current' },
    ],
    [
      'artifact-manifest',
      'old OCI artifact manifest form',
      { mediaType: MediaType.OCI_ARTIFACT_MANIFEST, artifactType: MediaType.NOTARY_SIGNATURE, blobs: [envDesc], subject },
      { ok: true, form: 'artifact' },
    ],
    ['two-layers', 'two layers', { ...current, layers: [envDesc, envDesc] }, { code: 'ERR_MALFORMED_INPUT' }],
    ['no-layers', 'no layers', { ...current, layers: [] }, { code: 'ERR_MALFORMED_INPUT' }],
    [
      'other-artifact-type',
      'artifactType of an SBOM',
      { ...current, artifactType: 'application/spdx+json' },
      { code: 'ERR_MALFORMED_INPUT' },
    ],
    [
      'non-empty-config',
      'Notary artifactType with a non-empty config',
      { ...current, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: envDesc.digest, size: 10 } },
      { code: 'ERR_MALFORMED_INPUT' },
    ],
    [
      'unsupported-envelope',
      'layer media type application/json',
      { ...current, layers: [{ ...envDesc, mediaType: 'application/json' }] },
      { code: 'ERR_ENVELOPE_UNSUPPORTED' },
    ],
    [
      'legacy-wrong-config',
      'no artifactType and an image config',
      { ...legacy, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: envDesc.digest, size: 10 } },
      { code: 'ERR_MALFORMED_INPUT' },
    ],
  ];
  for (const [id, description, value, expect] of manifests) {
    const rel = writeJson(`oci/signature-manifests/${id}.json`, value);
    add({
      id: `signature-manifest-${id}`,
      kind: 'signature-manifest',
      description,
      rule: 'OCI: both signature manifest forms',
      inputs: { manifest: rel },
      expect,
    });
  }
  write('oci/README', 'layout/ is an OCI image layout; see test-vectors/README.md for its images and tags.\n');
}
