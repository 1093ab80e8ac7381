import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PkiHttpServer, requireOpenssl, startPkiServer } from '@vouch/testing/pki';
import { afterAll, describe, it } from 'vitest';
import { runChainsawDir, runKyvernoTestDir, SkipCase } from './kyverno/dirs.js';
import { type CaseWorld, type CaseWorldOptions, createCaseWorld, notRecreated } from './kyverno/recreated-images.js';
import { tableRows } from './kyverno/tables.js';
import { note } from './notes.js';

// Replays ../shared/kyverno-cases (Kyverno's own fixtures) through @vouch/kyverno. One `it` per case
// (engine tables: one per row); cases that need a registry or a Kyverno feature vouch does not
// implement are skipped with the reason. The cases whose images upstream pulls from ghcr.io run
// against images re-created and signed locally — Cosign and SigstoreBundle signatures and
// attestations, the Notary signature and attestations (payloads made for the cases) — see kyverno/recreated-images.ts
// for the substitutions: keys, certificates, public-good trust, TSA, digests.

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.VOUCH_SHARED_DIR ?? resolve(repo, '../shared');
const root = join(shared, 'kyverno-cases');
const indexPath = join(root, 'index.json');

interface CaseEntry {
  id: string;
  dir: string;
  files: string[];
  category: string;
  needsRegistry: boolean;
  harness: string;
  whatItTests: string;
}

if (!existsSync(indexPath)) {
  if (process.env.CI === 'true') {
    it('kyverno-cases data is present', () => {
      throw new Error(`missing ${indexPath} (set VOUCH_SHARED_DIR)`);
    });
  } else {
    console.warn(`NOTICE: ${indexPath} not found; kyverno-cases skipped (set VOUCH_SHARED_DIR)`);
    it.skip('kyverno-cases (shared data missing)', () => {});
  }
} else {
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as CaseEntry[];
  // The world of the re-created Cosign cases, made once on first use. Its TSA (openssl behind the test
  // PKI server on 127.0.0.1) only stamps one signature while the world is built, then stops.
  let world: Promise<{ world: CaseWorld; options: CaseWorldOptions }> | undefined;
  let pkiServer: PkiHttpServer | undefined;
  afterAll(async () => {
    await pkiServer?.stop();
  });
  const localWorld = () => {
    world ??= (async () => {
      const options: CaseWorldOptions = {};
      if (await requireOpenssl('the re-created keyed-tsa case (a local TSA)')) {
        pkiServer = await startPkiServer();
        const tsa = await pkiServer.addPki('tsa', 'p256');
        const chainPem = ['tsa', 'int', 'root'].map((n) => readFileSync(join(tsa.dir, `${n}.crt`), 'utf8')).join('');
        options.tsa = { url: `${pkiServer.url}/tsa/tsa`, chainPem };
      }
      try {
        return { world: await createCaseWorld(options), options };
      } finally {
        await pkiServer?.stop();
        pkiServer = undefined;
      }
    })();
    return world;
  };
  describe('kyverno-cases', () => {
    for (const c of index) {
      if (c.category === 'support') continue; // chainsaw step templates, not a case
      if (c.harness.startsWith('engine-table')) {
        const file = c.files[0]!;
        const table = JSON.parse(readFileSync(join(root, c.dir, file), 'utf8'));
        describe(c.id, () => {
          for (const row of tableRows(file, table, async () => (await localWorld()).world)) {
            it(row.name, async (ctx) => {
              if (row.skip) skipWith(ctx, 'engine-table', row.skip);
              await row.run!();
            });
          }
        });
        continue;
      }
      it(c.id, async (ctx) => {
        if (c.category === 'ivpol') skipWith(ctx, c.id, 'ImageValidatingPolicy (policies.kyverno.io) is not implemented by vouch');
        const dir = join(root, c.dir);
        // registry cases with Cosign (or no) attestors: against the locally re-created images
        const local = c.needsRegistry ? await localWorld() : undefined;
        const notHere = local ? notRecreated(local.options)[c.id] : undefined;
        if (notHere) skipWith(ctx, c.id, notHere);
        const w = local?.world;
        try {
          if (c.harness === 'kyverno-test') await runKyvernoTestDir(dir, w);
          else if (c.harness.startsWith('chainsaw')) await runChainsawDir(dir, w);
          else skipWith(ctx, c.id, `harness ${c.harness} has no offline runner`);
        } catch (e) {
          if (e instanceof SkipCase) skipWith(ctx, c.id, e.message);
          throw e;
        }
      });
    }
  });
}

function skipWith(ctx: { skip(reason: string): never }, id: string, reason: string): never {
  note('skip', id, reason);
  return ctx.skip(reason);
}
