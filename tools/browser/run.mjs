#!/usr/bin/env node
// Runs the browser bundle (tools/browser/build.mjs) in headless Chromium: Debian's chromium
// driven by playwright-core with executablePath (no browser download), a fresh profile, the
// page served by a node HTTP server on 127.0.0.1 (a secure context, so WebCrypto is there).
// Collects window.__results. Everything started here is stopped here, also on failure.
//
//   node tools/browser/run.mjs            prints a summary; exit 1 when a smoke scenario fails
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importModule } from '../packaging/modules.mjs';
import { buildBrowserRun } from './build.mjs';

/** Debian's Chromium. */
export const CHROMIUM = process.env.VOUCH_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** playwright-core's chromium launcher, or undefined when the package is not installed. */
export async function loadPlaywright() {
  const mod = await importModule('playwright-core');
  return mod ? (mod.chromium ?? mod.default?.chromium) : undefined;
}

/**
 * Build, serve and run the page; resolves with the page's results plus what the build found
 * (`included` / `excluded` handler modules, bundle size) and the browser console's errors.
 */
export async function runInBrowser({ executablePath = CHROMIUM, timeoutMs = 300_000 } = {}) {
  const chromium = await loadPlaywright();
  if (!chromium) throw new Error('playwright-core is not installed');
  const build = await buildBrowserRun();
  const server = createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(build.html);
    } else if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(build.code);
    } else {
      res.writeHead(404).end();
    }
  });
  const userDataDir = mkdtempSync(join(tmpdir(), 'vouch-chromium-'));
  let context;
  try {
    await new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', ok);
    });
    const { port } = server.address();
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60_000,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e?.stack ?? e)));
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => globalThis.__results?.done === true, null, { timeout: timeoutMs, polling: 250 });
    const results = await page.evaluate(() => globalThis.__results);
    return {
      ...results,
      consoleErrors,
      build: { bytes: build.bytes, included: build.included, excluded: build.excluded, vectors: build.vectors },
    };
  } finally {
    if (context) await context.close().catch(() => {});
    await new Promise((ok) => server.close(() => ok()));
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runInBrowser();
  console.log(`browser: ${r.userAgent}`);
  console.log(
    `bundle: ${(r.build.bytes / 1024).toFixed(0)} KiB; handler modules: ${r.build.included.map((m) => m.name).join(', ') || 'none'}`,
  );
  for (const x of r.build.excluded) console.log(`  not runtime-agnostic: conformance/${x.name}.ts: ${x.reason}`);
  if (r.error) console.log(`page error: ${r.error}`);
  for (const s of r.smoke) console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name}${s.detail ? `: ${s.detail}` : ''}`);
  const by = {};
  for (const c of r.cases) by[c.status] = (by[c.status] ?? 0) + 1;
  console.log(
    `conformance in browser: ${
      Object.entries(by)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'no cases'
    }`,
  );
  for (const c of r.cases.filter((x) => x.status === 'failed' || x.status === 'threw')) console.log(`  ${c.status} ${c.id}: ${c.detail}`);
  process.exitCode = r.error || r.smoke.some((s) => !s.ok) ? 1 : 0;
}
