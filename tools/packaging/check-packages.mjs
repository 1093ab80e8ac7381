#!/usr/bin/env node
// Packaging checks for every published workspace package (packages/*, not private):
//  1. package.json: "type": "module", an "exports" map whose conditions list "types" first and
//     include "./package.json", "sideEffects": false, "engines.node", "files", license,
//     description, repository, and no install scripts (preinstall/install/postinstall/prepare);
//     every file the exports map and "bin" name exists (build first: pnpm build); a README.md
//     that "files" does not exclude (tools/test/readmes.test.ts checks what it says).
//  2. `pnpm pack` into a temp dir, then `publint run --strict` and `attw --profile esm-only` on
//     the tarball.
//  3. Browser bundles (esbuild, platform browser, minified, no Node built-ins):
//     - the verify path (createVerifier + jws + cose codecs + memoryRepository +
//       memoryTrustStore), built from dist/: its size against tools/packaging/size-budget.json;
//     - bleed checks, built from sources so each module shows up: @vouch/envelope/jws alone
//       must not pull cbor-x; the verify path must not pull @vouch/plugin/cli, Node-only code
//       or signing-only modules;
//     - the same for the Sigstore verify path (verifyBundle, verifyCosignSignature and the two
//       trust constructors of @vouch/sigstore), which must not pull the Notary stack either.
// Prints one block per package and a closing line; exits 1 when anything failed.
//
//   node tools/packaging/check-packages.mjs [--no-pack] [--no-size] [NAME…]
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleForBrowser } from './bundle.mjs';
import { repoRoot } from './modules.mjs';

const run = promisify(execFile);
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];
const REQUIRED_FIELDS = ['description', 'license', 'repository'];

/** The verify path users bundle for browsers and edge runtimes. */
export const VERIFY_PATH_ENTRY = `export { createVerifier } from '@vouch/notation';
export { jws } from '@vouch/envelope/jws';
export { cose } from '@vouch/envelope/cose';
export { memoryRepository } from '@vouch/registry';
export { memoryTrustStore } from '@vouch/trust-policy';
`;

/** Source modules that only signing (or only Node) needs: none may reach the verify path. */
export const VERIFY_PATH_FORBIDDEN = [
  { pattern: /^packages\/plugin\/src\/cli\//, why: '@vouch/plugin/cli (Node-only plugin executable)' },
  { pattern: /^packages\/node\//, why: '@vouch/node (Node-only)' },
  { pattern: /^packages\/cli\//, why: '@vouch/cli (Node-only)' },
  { pattern: /^packages\/notation\/src\/sign\.ts$/, why: 'signing-only module notation/src/sign.ts' },
  { pattern: /^packages\/notation\/src\/blob\/sign\.ts$/, why: 'signing-only module notation/src/blob/sign.ts' },
  { pattern: /^packages\/x509\/src\/builder\.ts$/, why: 'certificate builder (test PKI generation, signing-only)' },
  { pattern: /\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?undici\//, why: 'undici (Node-only HTTP client)' },
];

/** The Sigstore verify path (bundles and cosign signatures, trust from a trusted root or PEM). */
export const SIGSTORE_PATH_ENTRY = `export { verifyBundle, verifyCosignSignature, parseTrustedRoot, trustMaterialFromPem } from '@vouch/sigstore';
`;

/** What the Sigstore verify path must not pull: Node code, signing-only code, the Notary stack, test support. */
export const SIGSTORE_PATH_FORBIDDEN = [
  ...VERIFY_PATH_FORBIDDEN,
  {
    pattern: /^packages\/(notation|envelope|registry|trust-policy|plugin|kyverno)\//,
    why: 'the Notary stack (not needed to verify Sigstore signatures)',
  },
  { pattern: /^packages\/testing\//, why: '@vouch/testing (test support)' },
];

/** Check one package.json; returns problems (strings). */
export function checkManifest(pkg, dir) {
  const problems = [];
  const bad = (m) => problems.push(m);
  if (pkg.type !== 'module') bad(`"type" is ${JSON.stringify(pkg.type)}, expected "module"`);
  if (pkg.sideEffects !== false) bad(`"sideEffects" is ${JSON.stringify(pkg.sideEffects)}, expected false`);
  if (!pkg.engines?.node) bad('no "engines.node"');
  if (!Array.isArray(pkg.files) || !pkg.files.length) bad('no "files" list');
  else if (!pkg.files.some((f) => f === 'dist' || f.startsWith('dist/') || f.startsWith('./dist'))) bad('"files" does not include dist');
  for (const f of REQUIRED_FIELDS) {
    const v = pkg[f];
    if (v === undefined || v === '' || (typeof v === 'object' && !Object.keys(v).length)) bad(`"${f}" is missing or empty`);
  }
  if (typeof pkg.repository === 'object' && pkg.repository && !pkg.repository.directory)
    bad('"repository.directory" is missing (monorepo packages name their folder)');
  for (const s of INSTALL_SCRIPTS) if (pkg.scripts?.[s]) bad(`install-time script "${s}": ${pkg.scripts[s]}`);
  if ('main' in pkg || 'module' in pkg) bad('"main"/"module" beside "exports" (ESM-only packages use exports alone)');
  const exp = pkg.exports;
  if (!exp || typeof exp !== 'object' || Array.isArray(exp)) {
    bad('no "exports" map');
  } else {
    if (exp['./package.json'] !== './package.json') bad('"exports" lacks "./package.json": "./package.json"');
    if (!exp['.']) bad('"exports" has no "." entry');
    for (const [sub, target] of Object.entries(exp)) {
      if (sub === './package.json') continue;
      if (typeof target !== 'object' || target === null) {
        bad(`exports["${sub}"] is not a conditions object with "types" first`);
        continue;
      }
      const keys = Object.keys(target);
      if (keys[0] !== 'types') bad(`exports["${sub}"]: "types" is not the first condition (${keys.join(', ')})`);
      if (!('default' in target) && !('import' in target)) bad(`exports["${sub}"]: no "default"/"import" condition`);
      if ('require' in target) bad(`exports["${sub}"]: a "require" condition in an ESM-only package`);
      for (const [cond, file] of Object.entries(target)) {
        if (typeof file !== 'string') bad(`exports["${sub}"].${cond} is not a path`);
        else if (!existsSync(join(dir, file))) bad(`exports["${sub}"].${cond}: ${file} does not exist (run pnpm build)`);
      }
    }
  }
  const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
  for (const [name, file] of Object.entries(bins))
    if (!existsSync(join(dir, file))) bad(`bin "${name}": ${file} does not exist (run pnpm build)`);
  if (!readdirSync(dir).some((f) => /^licen[cs]e/i.test(f)))
    bad('no LICENSE file in the package folder (the tarball ships without the licence text)');
  if (!readdirSync(dir).includes('README.md')) bad('no README.md in the package folder (the npm page would be empty)');
  if (Array.isArray(pkg.files) && pkg.files.some((f) => f.startsWith('!') && /readme/i.test(f))) bad('"files" excludes the README');
  return problems;
}

/** Run a tool, returning { ok, out } (stdout + stderr). */
async function tool(cmd, args, cwd) {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    return { ok: true, out: `${stdout}${stderr}`.trim() };
  } catch (e) {
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || String(e.message) };
  }
}

/** Pack with pnpm, then publint --strict and attw --profile esm-only on the tarball. */
async function checkTarball(dir, tmp) {
  const problems = [];
  const packed = await tool('pnpm', ['pack', '--pack-destination', tmp], dir);
  const tarball = packed.ok ? readdirSync(tmp).find((f) => f.endsWith('.tgz')) : undefined;
  if (!tarball) return [`pnpm pack failed: ${packed.out.split('\n').slice(-3).join(' ')}`];
  const tgz = join(tmp, tarball);
  const listing = await tool('tar', ['-tzf', tgz], dir);
  if (!listing.ok || !listing.out.split('\n').includes('package/README.md')) problems.push('the tarball has no README.md');
  const bin = (n) => join(repoRoot, 'node_modules', '.bin', n);
  const publint = await tool(bin('publint'), ['run', tgz, '--strict'], dir);
  if (!publint.ok) problems.push(`publint --strict:\n${indent(publint.out)}`);
  const attw = await tool(bin('attw'), [tgz, '--profile', 'esm-only', '--format', 'ascii', '--no-emoji', '--no-color'], dir);
  if (!attw.ok) problems.push(`attw --profile esm-only:\n${indent(attw.out)}`);
  return problems;
}

const indent = (s) =>
  s
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => `      ${l}`)
    .join('\n');

const kib = (n) => (n / 1024).toFixed(1);

/** Size budget of a bundle path (from dist) and its bleed check (from sources). */
async function checkPath(name, entry, forbidden, budget, size, problems, lines) {
  if (size) {
    const dist = await bundleForBrowser({ contents: entry, mode: 'dist' });
    if (dist.errors.length || !dist.ok) {
      problems.push(
        `${name} bundle (dist) failed:\n${indent([...dist.errors, ...dist.nodeImports.map((n) => `Node built-in ${n.path} from ${n.importer}`)].join('\n'))}`,
      );
    } else {
      lines.push(
        `size: ${name} ${kib(dist.bytes)} KiB min, ${kib(dist.gzipBytes)} KiB gzip (budget ${budget.minKiB} KiB min, ${budget.gzipKiB} KiB gzip)`,
      );
      if (dist.bytes > budget.minKiB * 1024)
        problems.push(`${name} is ${kib(dist.bytes)} KiB minified, over its budget of ${budget.minKiB} KiB`);
      if (dist.gzipBytes > budget.gzipKiB * 1024)
        problems.push(`${name} is ${kib(dist.gzipBytes)} KiB gzipped, over its budget of ${budget.gzipKiB} KiB`);
    }
  }
  const src = await bundleForBrowser({ contents: entry, mode: 'sources' });
  if (src.errors.length) problems.push(`${name} bundle (sources) failed:\n${indent(src.errors.join('\n'))}`);
  for (const n of src.nodeImports) problems.push(`${name} imports Node built-in ${n.path} (from ${n.importer})`);
  for (const input of src.inputs) {
    for (const f of forbidden) if (f.pattern.test(input)) problems.push(`bleed: the ${name} pulls ${f.why} (${input})`);
  }
  if (!src.errors.length) lines.push(`bleed: ${name} ${kib(src.bytes)} KiB min from sources, nothing forbidden`);
}

/** Size budgets of the verify paths (from dist) and the bleed checks (from sources). */
export async function checkBundles({ size = true } = {}) {
  const problems = [];
  const lines = [];
  const budgets = JSON.parse(readFileSync(new URL('./size-budget.json', import.meta.url), 'utf8'));
  await checkPath('verify-path', VERIFY_PATH_ENTRY, VERIFY_PATH_FORBIDDEN, budgets['verify-path'], size, problems, lines);
  await checkPath(
    'sigstore-verify-path',
    SIGSTORE_PATH_ENTRY,
    SIGSTORE_PATH_FORBIDDEN,
    budgets['sigstore-verify-path'],
    size,
    problems,
    lines,
  );
  const jwsOnly = await bundleForBrowser({ contents: "export { jws } from '@vouch/envelope/jws';", mode: 'sources' });
  if (jwsOnly.errors.length) problems.push(`@vouch/envelope/jws bundle failed:\n${indent(jwsOnly.errors.join('\n'))}`);
  const cbor = jwsOnly.inputs.filter((i) => /\/(cbor-x|cbor-extract)\//.test(i) || /envelope\/src\/cose\//.test(i));
  if (cbor.length) problems.push(`bleed: @vouch/envelope/jws pulls the COSE/CBOR code (${cbor.slice(0, 3).join(', ')})`);
  else if (!jwsOnly.errors.length) lines.push(`bleed: @vouch/envelope/jws ${kib(jwsOnly.bytes)} KiB min, no cbor-x`);
  return { problems, lines };
}

async function main(argv) {
  const pack = !argv.includes('--no-pack');
  const size = !argv.includes('--no-size');
  const only = argv.filter((a) => !a.startsWith('--'));
  const dirs = readdirSync(join(repoRoot, 'packages'))
    .map((d) => join(repoRoot, 'packages', d))
    .filter((d) => existsSync(join(d, 'package.json')));
  let failed = 0;
  let checked = 0;
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    if (only.length && !only.some((n) => pkg.name === n || pkg.name === `@vouch/${n}`)) continue;
    checked++;
    const problems = checkManifest(pkg, dir);
    const hasDist = existsSync(join(dir, 'dist'));
    if (!hasDist) problems.push('dist/ is missing: run pnpm build before the packaging check');
    if (pack && hasDist) {
      const tmp = mkdtempSync(join(tmpdir(), 'vouch-pack-'));
      try {
        problems.push(...(await checkTarball(dir, tmp)));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    console.log(
      `${problems.length ? 'FAIL' : 'ok  '} ${pkg.name}${problems.length ? '' : pack ? ' (manifest, publint --strict, attw esm-only)' : ' (manifest)'}`,
    );
    for (const p of problems) console.log(`    - ${p}`);
    if (problems.length) failed++;
  }
  let bundleProblems = 0;
  if (!only.length) {
    const { problems, lines } = await checkBundles({ size });
    for (const l of lines) console.log(l);
    for (const p of problems) console.log(`FAIL ${p}`);
    bundleProblems = problems.length;
  }
  console.log(`packaging: ${checked - failed} of ${checked} packages clean, ${bundleProblems} bundle problem(s)`);
  return failed || bundleProblems ? 1 : 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await main(process.argv.slice(2));
}
