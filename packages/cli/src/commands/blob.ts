import type { Command } from 'commander';
import { runBlobInspect } from '../blob/inspect.js';
import { runBlobPolicyImport, runBlobPolicyInit, runBlobPolicyShow } from '../blob/policy.js';
import { runBlobSign } from '../blob/sign.js';
import { runBlobVerify } from '../blob/verify.js';
import { act, addSignerOptions, collect } from '../command.js';
import type { CliContext } from '../context.js';

/**
 * `vouch blob sign|verify|inspect|policy`: detached signatures for arbitrary files
 * (`<file>.<jws|cose>.sig`), verified against `trustpolicy.blob.json`, as `notation blob`.
 */
export function registerBlob(program: Command, ctx: CliContext): void {
  const blob = program
    .command('blob')
    .description('Sign, verify and inspect signatures associated with blobs')
    // notation (cobra) also accepts `blob --signature-format cose sign <file>`: the flag is read by `blob sign`
    .option('--signature-format <format>', 'signature envelope format for `blob sign`: jws or cose');

  const sign = blob
    .command('sign')
    .description('Produce a detached signature for a given blob')
    .argument('[blob]', 'path of the blob to sign')
    .option('-k, --key <name>', 'signing key name in signingkeys.json (default: the default key)')
    .option('--signature-directory <dir>', 'directory to write the signature file to (default: the current directory)')
    .option('--media-type <type>', 'media type of the blob', 'application/octet-stream')
    .option(
      '-e, --expiry <duration>',
      'how long the signature is valid, in hours, minutes and seconds: 24h, 30m, 1h30m (default: no expiry)',
    )
    .option('-m, --user-metadata <key=value>', 'user defined metadata to sign with the blob (repeatable)', collect);
  addSignerOptions(sign).option('--force', 'overwrite an existing signature file without prompt');
  act(sign, ctx, (args, opts, cmd) => runBlobSign(ctx, args[0], opts, cmd));

  const verify = blob
    .command('verify')
    .description('Verify a signature associated with a blob')
    .argument('[blob]', 'path of the blob to verify')
    .option('-s, --signature <file>', 'the detached signature file (<blob>.<jws|cose>.sig)')
    .option('--policy-name <name>', 'blob trust policy statement to verify against (default: the global statement)')
    .option('--media-type <type>', 'expected media type of the blob')
    .option('-m, --user-metadata <key=value>', 'user defined metadata that must be in the signature (repeatable)', collect)
    .option('--plugin-config <key=value>', 'verification plugin configuration (repeatable)', collect);
  act(verify, ctx, (args, opts) => runBlobVerify(ctx, args[0], opts));

  const inspect = blob
    .command('inspect')
    .description('Inspect a signature associated with a blob (tree, or JSON with --output json)')
    .argument('[signature]', 'path of the signature file (<blob>.<jws|cose>.sig)');
  act(inspect, ctx, (args) => runBlobInspect(ctx, args[0]));

  const policy = blob.command('policy').description('Manage the blob trust policy configuration (trustpolicy.blob.json)');
  const imp = policy
    .command('import')
    .description('Import blob trust policy configuration from a JSON file')
    .argument('[file...]', 'path of the blob trust policy JSON file')
    .option('--force', 'override the existing blob trust policy configuration without prompt');
  act(imp, ctx, (args, opts) => runBlobPolicyImport(ctx, (args[0] as string[] | undefined) ?? [], opts));

  const show = policy.command('show').description('Show the blob trust policy configuration');
  act(show, ctx, () => runBlobPolicyShow(ctx));

  const init = policy
    .command('init')
    .description('Initialize the blob trust policy configuration with one statement')
    .option('-n, --name <name>', 'name of the blob trust policy statement')
    .option('--trust-store <type:name>', 'trust store, "<store_type>:<store_name>" (repeatable)', collect)
    .option('--trusted-identity <identity>', 'trusted identity, e.g. "x509.subject: C=US, O=example" (repeatable)', collect)
    .option('--global', 'mark the statement as the global policy')
    .option('--force', 'override the existing blob trust policy configuration without prompt');
  act(init, ctx, (_args, opts) => runBlobPolicyInit(ctx, opts));
}
