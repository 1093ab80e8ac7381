/**
 * What `vouch cosign verify*` trusts, from cosign's flags and environment: `--key` (a PEM public
 * key, or cosign's encrypted key / a PEM private key, whose public half is used), `--trusted-root`,
 * `--certificate-chain` / `--ca-roots` / `--ca-intermediates` (and `SIGSTORE_ROOT_FILE`),
 * `SIGSTORE_REKOR_PUBLIC_KEY`, `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`, `--timestamp-certificate-chain`
 * (and `SIGSTORE_TSA_CERTIFICATE_FILE`). Nothing is fetched: cosign's TUF lookup of the public
 * good instance's keys does not exist here (see docs/compatibility.md).
 */
import { readFile } from 'node:fs/promises';
import { decodePem, VouchError } from '@vouch/core';
import { isEncryptedCosignKey, loadSigner, publicKeyToPem } from '@vouch/cosign';
import {
  type CertificateIdentity,
  parseTrustedRoot,
  type TrustMaterial,
  trustMaterialFromPem,
  type VerifyPolicyOptions,
} from '@vouch/sigstore';
import type { Opts } from '../command.js';
import { type CliContext, UsageError } from '../context.js';

/** Key references cosign resolves through a service; none is reachable offline. */
const REMOTE_KEY = /^(gcpkms|awskms|azurekms|hashivault|k8s|gitlab|pkcs11):\/\//;

/** Read a file named by a flag or variable, with the flag in the error. */
export async function readFlagFile(ctx: CliContext, path: string, what: string): Promise<string> {
  try {
    return await readFile(ctx.resolvePath(path), 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new VouchError('ERR_IO', `reading ${what} ${path}: ${why}`, { cause: e, details: { path } });
  }
}

/** The text of a `--key` value: a file, `env://NAME`, or a KMS/remote reference (refused: not available offline). */
export async function keyText(ctx: CliContext, key: string): Promise<string> {
  if (key.startsWith('env://')) {
    const v = ctx.env[key.slice('env://'.length)];
    if (!v) throw new VouchError('ERR_KEY_NOT_FOUND', `--key ${key}: the environment variable is not set`);
    return v;
  }
  if (REMOTE_KEY.test(key) || /^https?:\/\//.test(key)) {
    throw new VouchError(
      'ERR_UNSUPPORTED',
      `--key ${key}: keys in a KMS, a Kubernetes secret, GitLab or at a URL are not available offline; export the public key to a PEM file (cosign public-key --key ${key} > key.pub) and pass that file`,
    );
  }
  return readFlagFile(ctx, key, '--key');
}

/** The public key PEM of `--key`: a public key as is; a private key (cosign.key, PEM) by its public half. */
export async function verificationKeyPem(ctx: CliContext, key: string): Promise<string> {
  const text = await keyText(ctx, key);
  const labels = decodePem(text).map((b) => b.label);
  if (labels.some((l) => l === 'PUBLIC KEY' || l === 'RSA PUBLIC KEY')) return text;
  if (isEncryptedCosignKey(text) || labels.some((l) => /PRIVATE KEY$/.test(l))) {
    const signer = await loadSigner(text, { password: ctx.env.COSIGN_PASSWORD ?? (isEncryptedCosignKey(text) ? undefined : '') });
    return publicKeyToPem(signer.publicKey);
  }
  throw new VouchError('ERR_MALFORMED_INPUT', `--key ${key}: no PEM public key found`);
}

function concat(a: TrustMaterial | undefined, b: TrustMaterial): TrustMaterial {
  if (!a) return b;
  return {
    source: a.source === 'trusted-root' || b.source === 'trusted-root' ? 'trusted-root' : 'pem',
    tlogs: [...a.tlogs, ...b.tlogs],
    ctlogs: [...a.ctlogs, ...b.ctlogs],
    certificateAuthorities: [...a.certificateAuthorities, ...b.certificateAuthorities],
    timestampAuthorities: [...a.timestampAuthorities, ...b.timestampAuthorities],
    publicKeys: [...a.publicKeys, ...b.publicKeys],
  };
}

/** What the verify verbs were told to trust and check. */
export interface CosignPolicy {
  policy: VerifyPolicyOptions;
  /** `--certificate`: the signing certificate given on the command line (PEM). */
  certificate?: string;
  /** `--certificate-chain` text (for a bare blob signature with `--certificate`). */
  chain?: string;
  /** Whether a key (rather than certificates) is the signer. */
  keyed: boolean;
}

/** Build the verification policy of a verify verb from its flags and cosign's environment. */
export async function cosignPolicy(ctx: CliContext, opts: Opts): Promise<CosignPolicy> {
  const str = (k: string) => (typeof opts[k] === 'string' && opts[k] !== '' ? (opts[k] as string) : undefined);
  for (const [flag, why] of [
    ['sk', 'hardware security keys'],
    ['slot', 'hardware security keys'],
    ['payload', 'detached payloads'],
    ['sct', 'detached SCTs'],
    ['attachment', 'attachments'],
  ] as const) {
    if (opts[flag] !== undefined && opts[flag] !== false && opts[flag] !== '') {
      throw new VouchError('ERR_UNSUPPORTED', `--${flag} (${why}) is not supported by vouch cosign; nothing was verified`);
    }
  }
  if (!str('key')) {
    // as cosign: the identity flags are checked before anything is read
    if (!str('certificateIdentity') && !str('certificateIdentityRegexp')) {
      throw new UsageError('--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode');
    }
    if (!str('certificateOidcIssuer') && !str('certificateOidcIssuerRegexp')) {
      throw new UsageError('--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode');
    }
  }
  let trust: TrustMaterial | undefined;
  const trustedRoot = str('trustedRoot');
  if (trustedRoot) trust = parseTrustedRoot(await readFlagFile(ctx, trustedRoot, '--trusted-root'));
  const key = str('key');
  const certificate = str('certificate') ? await readFlagFile(ctx, str('certificate')!, '--certificate') : undefined;
  const chainParts: string[] = [];
  for (const flag of ['certificateChain', 'caIntermediates', 'caRoots'] as const) {
    const p = str(flag);
    if (p) chainParts.push(await readFlagFile(ctx, p, `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));
  }
  if (ctx.env.SIGSTORE_ROOT_FILE) chainParts.push(await readFlagFile(ctx, ctx.env.SIGSTORE_ROOT_FILE, 'SIGSTORE_ROOT_FILE'));
  const pem: Parameters<typeof trustMaterialFromPem>[0] = {};
  if (key) pem.publicKeys = await verificationKeyPem(ctx, key);
  if (chainParts.length > 0) pem.roots = chainParts.join('\n');
  if (ctx.env.SIGSTORE_REKOR_PUBLIC_KEY)
    pem.rekorPublicKeys = await readFlagFile(ctx, ctx.env.SIGSTORE_REKOR_PUBLIC_KEY, 'SIGSTORE_REKOR_PUBLIC_KEY');
  if (ctx.env.SIGSTORE_CT_LOG_PUBLIC_KEY_FILE) {
    pem.ctlogPublicKeys = await readFlagFile(ctx, ctx.env.SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE');
  }
  const tsa = str('timestampCertificateChain') ?? ctx.env.SIGSTORE_TSA_CERTIFICATE_FILE;
  if (tsa) pem.tsaCertChain = await readFlagFile(ctx, tsa, '--timestamp-certificate-chain');
  if (Object.keys(pem).length > 0 || !trust) trust = concat(trust, trustMaterialFromPem(pem));

  const ignoreTlog = opts.insecureIgnoreTlog === true || opts.privateInfrastructure === true;
  const policy: VerifyPolicyOptions = { trust: trust!, ignoreTlog, ignoreSct: opts.insecureIgnoreSct === true };
  if (ctx.io.now) policy.now = ctx.io.now();
  if (key) {
    // cosign ignores the identity flags with --key; vouch never drops a check silently
    const ignored = [
      'certificateIdentity',
      'certificateIdentityRegexp',
      'certificateOidcIssuer',
      'certificateOidcIssuerRegexp',
      'certificateGithubWorkflowTrigger',
      'certificateGithubWorkflowSha',
      'certificateGithubWorkflowName',
      'certificateGithubWorkflowRepository',
      'certificateGithubWorkflowRef',
    ].filter((f) => str(f));
    if (ignored.length > 0) {
      const flags = ignored.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
      throw new UsageError(
        `${flags} cannot be checked with --key (a key names no signer): drop them, or verify the certificate with --certificate / --trusted-root`,
      );
    }
    policy.key = pem.publicKeys!;
    return { policy, keyed: true };
  }
  const identity: CertificateIdentity = {
    ...(str('certificateIdentity') ? { subject: str('certificateIdentity')! } : {}),
    ...(str('certificateIdentityRegexp') ? { subjectRegExp: str('certificateIdentityRegexp')! } : {}),
    ...(str('certificateOidcIssuer') ? { issuer: str('certificateOidcIssuer')! } : {}),
    ...(str('certificateOidcIssuerRegexp') ? { issuerRegExp: str('certificateOidcIssuerRegexp')! } : {}),
  };
  const extensions: Record<string, string> = {};
  for (const [flag, field] of [
    ['certificateGithubWorkflowTrigger', 'githubWorkflowTrigger'],
    ['certificateGithubWorkflowSha', 'githubWorkflowSha'],
    ['certificateGithubWorkflowName', 'githubWorkflowName'],
    ['certificateGithubWorkflowRepository', 'githubWorkflowRepository'],
    ['certificateGithubWorkflowRef', 'githubWorkflowRef'],
  ] as const) {
    const v = str(flag);
    if (v) extensions[field] = v;
  }
  policy.identity = Object.keys(extensions).length > 0 ? { ...identity, extensions } : identity;
  return {
    policy,
    keyed: false,
    ...(certificate ? { certificate } : {}),
    ...(chainParts.length > 0 ? { chain: chainParts.join('\n') } : {}),
  };
}
