import type { Command } from 'commander';
import { act, collect } from '../command.js';
import type { CliContext } from '../context.js';
import { runCosignSignBlob, runCosignVerifyBlob } from '../cosign/blob.js';
import { runCosignSign } from '../cosign/sign.js';
import { runCosignVerify } from '../cosign/verify.js';

/** A pflag boolean flag: `--flag`, `--flag=true|false` (rewritten by run.ts), and a hidden `--no-flag`. */
function bool(cmd: Command, flag: string, description: string, defaultValue?: boolean): Command {
  cmd.option(`--${flag}`, description);
  if (defaultValue === true) cmd.option(`--no-${flag}`, `(${flag}=false)`);
  return cmd;
}

/** cosign's global flags, accepted on every cosign verb. */
function globals(cmd: Command): Command {
  return cmd
    .option('-t, --timeout <duration>', 'timeout for commands (accepted; vouch bounds each request itself)')
    .option('--output-file <file>', 'log output to a file (accepted; ignored)');
}

function registryFlags(cmd: Command): Command {
  bool(cmd, 'allow-http-registry', 'use plain HTTP for the registry (loopback registries always are)');
  bool(cmd, 'allow-insecure-registry', 'accepted for scripts; TLS certificates are always verified (use NODE_EXTRA_CA_CERTS)');
  bool(cmd, 'k8s-keychain', 'accepted; credentials come from the docker config');
  return cmd
    .option('--registry-username <user>', 'registry basic auth username')
    .option('--registry-password <password>', 'registry basic auth password')
    .option('--registry-token <token>', 'registry bearer auth token')
    .option('--registry-cacert <file>', 'not supported (use NODE_EXTRA_CA_CERTS)')
    .option('--registry-client-cert <file>', 'not supported')
    .option('--registry-client-key <file>', 'not supported')
    .option('--registry-server-name <name>', 'not supported')
    .option('--oci-layout', "the image is in an OCI image layout: <path>@<digest> or <path>:<tag> (vouch's addition)");
}

/** The verification flags of verify, verify-attestation and verify-blob. */
function verificationFlags(cmd: Command): Command {
  cmd
    .option('--key <key>', 'the public key (PEM file or env://VAR); cosign.key and PEM private keys work too (their public half)')
    .option('--certificate <file>', 'the signing certificate (PEM), verified against --certificate-chain / --trusted-root')
    .option('--certificate-chain <file>', 'CA certificates (PEM) the signing certificate must chain to: intermediates and root')
    .option('--ca-roots <file>', 'root CA certificates (PEM)')
    .option('--ca-intermediates <file>', 'intermediate CA certificates (PEM)')
    .option('--certificate-identity <identity>', 'the identity expected in the certificate (a SAN: email, URI, DNS name, IP)')
    .option('--certificate-identity-regexp <regexp>', 'a regular expression alternative to --certificate-identity')
    .option('--certificate-oidc-issuer <issuer>', 'the OIDC issuer expected in the certificate')
    .option('--certificate-oidc-issuer-regexp <regexp>', 'a regular expression alternative to --certificate-oidc-issuer')
    .option('--certificate-github-workflow-trigger <value>', 'expected GitHub workflow trigger (Fulcio extension)')
    .option('--certificate-github-workflow-sha <value>', 'expected GitHub workflow commit SHA (Fulcio extension)')
    .option('--certificate-github-workflow-name <value>', 'expected GitHub workflow name (Fulcio extension)')
    .option('--certificate-github-workflow-repository <value>', 'expected GitHub workflow repository (Fulcio extension)')
    .option('--certificate-github-workflow-ref <value>', 'expected GitHub workflow ref (Fulcio extension)')
    .option('--trusted-root <file>', 'a Sigstore trusted_root.json (Rekor, CT log, Fulcio and TSA keys)')
    .option('--timestamp-certificate-chain <file>', 'TSA certificate chain (PEM) for RFC 3161 timestamps')
    .option('--rekor-url <url>', 'accepted; vouch never queries Rekor (it verifies the SET or inclusion proof the signature carries)')
    .option('--signature-digest-algorithm <alg>', 'accepted (sha256)')
    .option('--max-workers <n>', 'accepted')
    .option('--sk', 'not supported (hardware keys)')
    .option('--slot <slot>', 'not supported (hardware keys)')
    .option('--sct <file>', 'not supported (detached SCT)');
  bool(cmd, 'insecure-ignore-tlog', 'do not require a transparency log entry (SET or bundle inclusion proof)');
  bool(cmd, 'insecure-ignore-sct', 'do not require an embedded SCT in the signing certificate');
  bool(cmd, 'private-infrastructure', 'same as --insecure-ignore-tlog');
  bool(cmd, 'offline', 'accepted; vouch always verifies offline');
  bool(cmd, 'use-signed-timestamps', 'accepted; RFC 3161 timestamps are verified when present');
  bool(cmd, 'experimental-oci11', 'accepted; OCI 1.1 referrers are always read');
  bool(cmd, 'new-bundle-format', 'accepted; every bundle format is read', true);
  return cmd;
}

/** The flags `sign` and `sign-blob` share: the key, the certificate, and cosign's online flags (accepted or refused). */
function signingFlags(cmd: Command): Command {
  cmd
    .option('--key <key>', 'cosign.key (password from COSIGN_PASSWORD) or a PEM private key; file or env://VAR')
    .option('--certificate <file>', 'the signing certificate (PEM) for the key, attached to the signature')
    .option('--signing-config <file>', 'accepted; vouch contacts no service')
    .option('--trusted-root <file>', 'accepted')
    .option('--rekor-url <url>', 'accepted; nothing is uploaded')
    .option('--fulcio-url <url>', 'not supported (keyless)')
    .option('--identity-token <token>', 'not supported (keyless)')
    .option('--oidc-issuer <url>', 'not supported (keyless)')
    .option('--timestamp-server-url <url>', 'not supported (offline)')
    .option('-y, --yes', 'skip confirmation prompts (vouch does not prompt)');
  bool(cmd, 'tlog-upload', 'accepted; vouch never uploads (verify with --insecure-ignore-tlog)', true);
  bool(cmd, 'use-signing-config', 'accepted', true);
  return cmd;
}

/**
 * `vouch cosign verify|verify-attestation|verify-blob|sign|sign-blob`: cosign's verbs and flags,
 * offline (see docs/cosign.md and docs/compatibility.md).
 */
export function registerCosign(program: Command, ctx: CliContext): void {
  const cosign = program
    .command('cosign')
    .description("Verify and sign cosign signatures and attestations offline, with cosign's verbs and flags");

  const verify = globals(registryFlags(verificationFlags(cosign.command('verify'))))
    .description('Verify the cosign signatures of images (bundle referrers, .sig tags, OCI 1.1 referrers)')
    .argument('[image...]', 'image references (registry/repository@digest or :tag)')
    .option('-a, --annotations <key=value>', 'annotations every accepted signature must carry (repeatable)', collect)
    .option('--payload <file>', 'not supported (detached payload)')
    .option('--attachment <name>', 'not supported')
    .option('--attachment-tag-prefix <prefix>', 'accepted')
    .option('--max-signatures <n>', 'maximum number of signatures to read', '100')
    .option('--local-image', 'not supported (a `cosign save` directory): use --oci-layout')
    .option('--signature <file>', 'not supported (detached signature)');
  bool(verify, 'check-claims', 'check the claims (digest, annotations); the digest is always checked', true);
  act(verify, ctx, (args, opts) => runCosignVerify(ctx, (args[0] as string[] | undefined) ?? [], opts, 'signature'));

  const attestation = globals(registryFlags(verificationFlags(cosign.command('verify-attestation'))))
    .description('Verify the cosign attestations (in-toto statements) of images')
    .argument('[image...]', 'image references')
    .option(
      '--type <type>',
      'predicate type: custom, slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex, or a URI',
      'custom',
    )
    .option('--policy <file>', 'not supported (CUE/Rego policies)', collect)
    .option('--max-signatures <n>', 'maximum number of attestations to read', '100')
    .option('--local-image', 'not supported (a `cosign save` directory): use --oci-layout')
    .option('--attachment-tag-prefix <prefix>', 'accepted');
  bool(attestation, 'check-claims', 'accepted; the statement subject is always checked', true);
  act(attestation, ctx, (args, opts) => runCosignVerify(ctx, (args[0] as string[] | undefined) ?? [], opts, 'attestation'));

  const blob = globals(verificationFlags(cosign.command('verify-blob')))
    .description('Verify a blob signature: a Sigstore bundle, a cosign bundle, or a signature with a key or certificate')
    .argument('[blob]', 'the file that was signed')
    .option('--bundle <file>', 'the bundle (Sigstore bundle, or cosign 2’s bundle JSON)')
    .option('--signature <file>', 'the signature (base64), with --key or --certificate')
    .option('--rfc3161-timestamp <file>', 'not supported (use a bundle)');
  act(blob, ctx, (args, opts) => runCosignVerifyBlob(ctx, args[0] as string | undefined, opts));

  const sign = signingFlags(globals(registryFlags(cosign.command('sign'))))
    .description('Sign images with a key, offline: a Sigstore bundle referrer (default) or the .sig tag (--new-bundle-format=false)')
    .argument('[image...]', 'image references (by digest)')
    .option('-a, --annotations <key=value>', 'annotations to sign (repeatable)', collect)
    .option('--certificate-chain <file>', 'the chain (PEM) of --certificate, attached to legacy signatures')
    .option('--oidc-provider <name>', 'not supported (keyless)')
    .option('--oidc-client-id <id>', 'accepted')
    .option('--registry-referrers-mode <mode>', 'only legacy is accepted')
    .option('--sk', 'not supported (hardware keys)')
    .option('--slot <slot>', 'not supported (hardware keys)')
    .option('--max-workers <n>', 'accepted');
  bool(sign, 'new-bundle-format', 'write a Sigstore bundle referrer (default); =false writes the legacy .sig tag', true);
  bool(sign, 'upload', 'push the signature (default true; false is not supported)', true);
  bool(sign, 'recursive', 'not supported');
  bool(sign, 'record-creation-timestamp', 'accepted');
  bool(sign, 'issue-certificate', 'not supported (keyless)');
  act(sign, ctx, (args, opts) => runCosignSign(ctx, (args[0] as string[] | undefined) ?? [], opts));

  const signBlob = signingFlags(globals(cosign.command('sign-blob')))
    .description('Sign a blob with a key, offline: a Sigstore bundle (--bundle) and/or the base64 signature')
    .argument('[blob]', 'the file to sign')
    .option('--bundle <file>', 'write the Sigstore bundle v0.3 to this file')
    .option('--output-signature <file>', 'write the base64 signature to this file (else it is printed)');
  bool(signBlob, 'new-bundle-format', 'accepted; the bundle is always v0.3', true);
  bool(signBlob, 'b64', 'accepted (the signature is base64)', true);
  act(signBlob, ctx, (args, opts) => runCosignSignBlob(ctx, args[0] as string | undefined, opts));
}
