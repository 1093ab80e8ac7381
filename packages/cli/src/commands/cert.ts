import { createHash } from 'node:crypto';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodePem, hasCode, isVouchError, VouchError, type VouchErrorCode } from '@vouch/core';
import {
  addSigningKey,
  addTrustStoreCertificate,
  deleteTrustStore,
  deleteTrustStoreCertificate,
  listTrustStoreCertificates,
  loadSigningKeys,
  localKeyPaths,
  removeSigningKeys,
  showTrustStoreCertificate,
} from '@vouch/node/config';
import { assertStoreAddress, writeFileAtomic } from '@vouch/node/internal';
import { isValidTrustStoreName } from '@vouch/trust-policy';
import type { Command } from 'commander';
import { act, positionalArgument, positiveInt, required } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { generateTestCertificateAndKey } from '../deps.js';
import { renderTable } from '../format/table.js';
import { formatGoTime, formatRfc3339 } from '../format/time.js';

const SEPARATOR = '-'.repeat(80);

/**
 * Delete one certificate file from a named store, then the store directory when it is left
 * empty (as notation does); a failure to check or remove the directory is only a warning.
 */
async function deleteCertificate(ctx: CliContext, type: string, store: string, file: string): Promise<string> {
  let path: string;
  try {
    path = await deleteTrustStoreCertificate(ctx.configDir(), type, store, file);
  } catch (e) {
    if (hasCode(e, 'ERR_TRUST_STORE_NOT_FOUND')) {
      throw new VouchError('ERR_TRUST_STORE_NOT_FOUND', `failed to delete the certificate file from trust store: ${e.message}`, {
        cause: e,
        ...(e.details ? { details: e.details } : {}),
      });
    }
    throw e;
  }
  const dir = dirname(path);
  try {
    if ((await readdir(dir)).length === 0) await rmdir(dir);
  } catch (e) {
    ctx.warn(`Warning: failed to check if the trust store directory ${dir} is empty: ${(e as Error).message}`);
  }
  return path;
}

/** `vouch cert add|list|show|delete|generate-test`: manage the trust store. */
export function registerCert(program: Command, ctx: CliContext): void {
  const cert = program.command('certificate').alias('cert').description('Manage certificates in trust store');

  const addCmd = cert
    .command('add')
    .description('Add certificates to the trust store')
    .argument('<files...>', 'certificate files (PEM or DER)')
    .option('-t, --type <type>', 'trust store type: ca, signingAuthority or tsa')
    .option('-s, --store <name>', 'named store');
  act(addCmd, ctx, async ([files], opts) => {
    const type = required(opts.type, 'type');
    const store = required(opts.store, 'store');
    assertStoreAddress(type, store);
    const added: { path: string; source: string }[] = [];
    const failed: { source: string; error: { code: string; message: string } }[] = [];
    for (const f of files as string[]) {
      try {
        const entry = await addTrustStoreCertificate(ctx.configDir(), type, store, ctx.resolvePath(f));
        added.push({ path: entry.path, source: f });
      } catch (e) {
        failed.push({ source: f, error: { code: isVouchError(e) ? e.code : 'ERR_INTERNAL', message: (e as Error).message } });
      }
    }
    ctx.result({ type, store, added, failed });
    if (added.length > 0) {
      ctx.line(`Successfully added following certificates to named store ${store} of type ${type}:`);
      for (const a of added) ctx.line(a.source);
    }
    if (failed.length > 0) {
      const lines = failed.map((f) => `${f.source}, with error "${f.error.message}"`).join('\n');
      throw new VouchError(
        failed[0]!.error.code as VouchErrorCode,
        `Failed to add following certificates to named store ${store} of type ${type}:\n${lines}`,
        { details: { failed } },
      );
    }
  });

  const listCmd = cert
    .command('list')
    .alias('ls')
    .description('List certificates in the trust store')
    .option('-t, --type <type>', 'trust store type: ca, signingAuthority or tsa')
    .option('-s, --store <name>', 'named store');
  act(listCmd, ctx, async (_args, opts) => {
    const entries = await listTrustStoreCertificates(ctx.configDir(), {
      ...(opts.type ? { type: opts.type as string } : {}),
      ...(opts.store ? { store: opts.store as string } : {}),
    });
    ctx.result({ certificates: entries });
    if (entries.length > 0) {
      ctx.out(renderTable([['STORE TYPE', 'STORE NAME', 'CERTIFICATE'], ...entries.map((e) => [e.type, e.store, e.file])]));
    }
  });

  const showCmd = cert
    .command('show')
    .description('Show certificate details given trust store type, named store, and certificate file name')
    .argument('<file>', 'certificate file name in the store')
    .option('-t, --type <type>', 'trust store type: ca, signingAuthority or tsa')
    .option('-s, --store <name>', 'named store');
  act(showCmd, ctx, async ([file], opts) => {
    const type = required(opts.type, 'type');
    const store = required(opts.store, 'store');
    const name = positionalArgument(ctx, file, 'certificate fileName cannot be empty');
    const { entry, certificates } = await showTrustStoreCertificate(ctx.configDir(), type, store, name);
    const views = certificates.map((c) => ({
      subject: c.subject,
      issuer: c.issuer,
      serialNumber: c.serialNumber,
      notBefore: formatRfc3339(c.notBefore),
      notAfter: formatRfc3339(c.notAfter),
      isCA: !!c.basicConstraints?.ca,
      sha1Thumbprint: createHash('sha1').update(c.der).digest('hex'),
      sha256Thumbprint: c.sha256Fingerprint,
    }));
    ctx.result({ ...entry, certificates: views });
    ctx.line('Certificate details');
    ctx.line(SEPARATOR);
    certificates.forEach((c, i) => {
      ctx.line(`Issuer: ${c.issuer}`);
      ctx.line(`Subject: ${c.subject}`);
      ctx.line(`Valid from: ${formatGoTime(c.notBefore)}`);
      ctx.line(`Valid to: ${formatGoTime(c.notAfter)}`);
      ctx.line(`IsCA: ${views[i]!.isCA}`);
      // notation 1.3 prints the SHA-256 thumbprint (older releases printed SHA-1; the JSON view keeps both)
      ctx.line(`SHA256 Thumbprint: ${views[i]!.sha256Thumbprint}`);
      if (i !== certificates.length - 1) ctx.line(SEPARATOR);
    });
  });

  const delCmd = cert
    .command('delete')
    .description('Delete certificates from the trust store')
    .argument('[file]', 'certificate file name in the store')
    .option('-t, --type <type>', 'trust store type: ca, signingAuthority or tsa')
    .option('-s, --store <name>', 'named store')
    .option('-a, --all', 'delete all certificates in the named store')
    .option('-y, --yes', 'do not prompt for confirmation');
  act(delCmd, ctx, async ([file], opts) => {
    if (opts.all && file) {
      throw new UsageError('cannot delete a single certificate file when --all flag is set. use --help flag for more details');
    }
    if (!opts.all && !file) {
      throw new UsageError(
        'delete requires either the certificate file name that needs to be deleted or --all flag to delete all certificates in the given named trust store',
      );
    }
    const type = required(opts.type, 'type');
    const store = required(opts.store, 'store');
    const prompt = opts.all
      ? `Are you sure you want to delete all certificates in "${store}" of type "${type}"?`
      : `Are you sure you want to delete "${file}" in "${store}" of type "${type}"?`;
    if (!(await ctx.confirm(prompt, !!opts.yes))) {
      ctx.result({ deleted: null });
      return;
    }
    if (opts.all) {
      const path = await deleteTrustStore(ctx.configDir(), type, store);
      ctx.line(`Successfully deleted trust store ${store} of type ${type}`);
      ctx.result({ deleted: path });
      return;
    }
    const path = await deleteCertificate(ctx, type, store, file as string);
    ctx.line(`Successfully deleted ${file} from trust store ${store} of type ${type}`);
    ctx.result({ deleted: path });
  });

  const cleanupCmd = cert
    .command('cleanup-test')
    .description('Clean up a test RSA key and its corresponding certificate generated by "generate-test"')
    .argument('[name]', 'common name of the test certificate')
    .option('-y, --yes', 'do not prompt for confirmation');
  act(cleanupCmd, ctx, async ([name], opts) => {
    if (name === undefined) throw new UsageError('missing certificate common name');
    const n = name as string;
    if (!isValidTrustStoreName(n)) throw new UsageError('certificate common name must follow [a-zA-Z0-9_.-]+ format');
    const prompt = `Are you sure you want to clean up test key ${n} and its certificate?`;
    if (!(await ctx.confirm(prompt, !!opts.yes))) {
      ctx.result({ cleaned: false });
      return;
    }
    const configDir = ctx.configDir();
    const crt = `${n}.crt`;
    const report: Record<string, boolean> = {};
    // 1. the certificate in the ca store named after it
    try {
      await deleteCertificate(ctx, 'ca', n, crt);
      ctx.line(`Successfully deleted ${crt} from trust store ${n} of type ca`);
      report.certificateInStore = true;
    } catch (e) {
      if (!hasCode(e, 'ERR_TRUST_STORE_NOT_FOUND')) {
        throw new VouchError('ERR_IO', `failed to delete certificate ${crt} from trust store ${n} of type ca: ${(e as Error).message}`, {
          cause: e,
        });
      }
      ctx.line(`Certificate ${crt} does not exist in trust store ${n} of type ca`);
      report.certificateInStore = false;
    }
    // 2. the key entry in signingkeys.json
    let keys: Awaited<ReturnType<typeof loadSigningKeys>>;
    try {
      keys = await loadSigningKeys(configDir);
    } catch (e) {
      throw new VouchError('ERR_IO', `failed to remove key ${n} from the key list: ${(e as Error).message}`, { cause: e });
    }
    if (keys.keys.some((k) => k.name === n)) {
      await removeSigningKeys(configDir, [n]).catch((e: unknown) => {
        throw new VouchError('ERR_IO', `failed to remove key ${n} from the key list: ${(e as Error).message}`, { cause: e });
      });
      ctx.line(`Successfully removed key ${n} from the key list`);
      report.key = true;
    } else {
      ctx.line(`Key ${n} does not exist in the key list`);
      report.key = false;
    }
    // 3. the key and certificate files
    const { keyPath, certPath } = localKeyPaths(configDir, n);
    for (const [what, path, label] of [
      ['keyFile', keyPath, 'key file'],
      ['certificateFile', certPath, 'certificate file'],
    ] as const) {
      try {
        await rm(path);
        ctx.line(`Successfully deleted ${label}: ${path}`);
        report[what] = true;
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') {
          throw new VouchError('ERR_IO', `failed to delete ${label} ${path}: ${(e as Error).message}`, { cause: e });
        }
        ctx.line(`${label[0]!.toUpperCase()}${label.slice(1)} ${path} does not exist`);
        report[what] = false;
      }
    }
    ctx.line('Cleanup completed successfully');
    ctx.result({ cleaned: true, name: n, removed: report });
  });

  const genCmd = cert
    .command('generate-test')
    .description('Generate a test RSA key and a corresponding self-signed certificate')
    .argument('<name>', 'common name of the certificate, also the key and store name')
    .option('-b, --bits <n>', 'RSA key bits', '2048')
    .option('--default', 'mark as default signing key');
  act(genCmd, ctx, async ([name], opts) => {
    if (name === undefined) positionalArgument(ctx, name);
    const n = String(name);
    // an empty name is a name that breaks the format (notation's message), not a missing flag
    if (!isValidTrustStoreName(n)) throw new UsageError('name needs to follow [a-zA-Z0-9_.-]+ format');
    const bits = positiveInt(opts.bits, 'bits', '-b, --bits') ?? 2048;
    if (![2048, 3072, 4096].includes(bits)) throw new UsageError(`RSA key bits must be 2048, 3072 or 4096, got ${bits}`);
    const configDir = ctx.configDir();
    const keys = await loadSigningKeys(configDir);
    if (keys.keys.some((k) => k.name === n)) throw new VouchError('ERR_INVALID_ARGUMENT', `${n}: already exists`);
    ctx.line(`generating RSA Key with ${bits} bits`);
    const { certificate, privateKeyPkcs8 } = await generateTestCertificateAndKey(n, bits, ctx.now());
    ctx.line(`generated certificate expiring on ${formatRfc3339(certificate.notAfter)}`);
    const { keyPath, certPath } = localKeyPaths(configDir, n);
    await writeFileAtomic(keyPath, encodePem('PRIVATE KEY', privateKeyPkcs8), 0o600);
    ctx.line(`wrote key: ${keyPath}`);
    await writeFileAtomic(certPath, encodePem('CERTIFICATE', certificate.der), 0o644);
    ctx.line(`wrote certificate: ${certPath}`);
    const entry = await addTrustStoreCertificate(configDir, 'ca', n, certPath);
    ctx.line(`Successfully added ${entry.file} to named store ${n} of type ca`);
    await addSigningKey(configDir, { name: n, keyPath, certPath }, { makeDefault: !!opts.default });
    ctx.line(`${n}: added to the key list`);
    if (opts.default) ctx.line(`${n}: marked as default signing key`);
    ctx.result({
      name: n,
      keyPath,
      certPath,
      notAfter: formatRfc3339(certificate.notAfter),
      trustStore: { type: 'ca', name: n, path: entry.path },
      default: !!opts.default,
    });
  });
}
