/**
 * notation's own end-to-end suite (../shared/vectors/notation-e2e/scenarios.json) replayed
 * through `vouch`: every scenario that needs only a registry or an OCI layout runs, one `it`
 * each; every other scenario is skipped with one reason from a fixed list (printed with counts
 * by `pnpm e2e`). The registry is `E2E_REGISTRY`, else a docker-registry started here on
 * 127.0.0.1:5000 with htpasswd testuser/testpassword, as upstream's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { KNOWN_DEVIATIONS, skipReason } from './e2e/classify.js';
import { type E2eEnv, ScenarioRunner, ScenarioState } from './e2e/runner.js';
import { DOMAIN_REGISTRY, domainFetch, installCredentialHelper, startDomainProxy, startE2eRegistry } from './e2e/services.js';
import type { Scenario } from './e2e/types.js';
import { note } from './notes.js';

process.env.TZ = 'UTC';
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.VOUCH_SHARED_DIR ?? join(repoRoot, '..', 'shared');
const vectorsDir = join(shared, 'vectors', 'notation-e2e');
const scenariosPath = join(vectorsDir, 'scenarios.json');
const present = existsSync(scenariosPath);
if (!present) {
  if (process.env.CI === 'true') throw new Error(`notation e2e scenarios missing at ${scenariosPath} (required under CI=true)`);
  console.warn(`NOTICE: ${scenariosPath} not found (set VOUCH_SHARED_DIR); notation e2e scenarios skipped`);
}

const scenarios: Scenario[] = present ? (JSON.parse(readFileSync(scenariosPath, 'utf8')) as Scenario[]) : [];
const root = typeof process.getuid === 'function' && process.getuid() === 0;
const referrersApi = process.env.E2E_REFERRERS_API === '1';

// ordered groups (quickstart) run in their order and share one state
const ordered = [...scenarios].sort((a, b) => {
  if (a.ordered_group && a.ordered_group === b.ordered_group) return (a.order ?? 0) - (b.order ?? 0);
  return 0;
});

const plan = ordered.map((s) => ({ s, reason: skipReason(s, { root, referrersApi }) }));
const needsRegistry = plan.some((p) => !p.reason && p.s.needs.includes('registry'));
const needsDomain = plan.some((p) => !p.reason && p.s.needs.includes('tls-proxy'));
const needsHelper = plan.some((p) => !p.reason && p.s.needs.includes('credential-helper'));

const env: E2eEnv = { vectorsDir, registry: 'localhost:5000' };
const stops: (() => Promise<unknown>)[] = [];
const groups = new Map<string, ScenarioState>();
let setupError: Error | undefined;
let resetHelper: (() => Promise<void>) | undefined;

beforeAll(async () => {
  try {
    if (needsRegistry) {
      const reg = await startE2eRegistry();
      stops.push(reg.stop);
      env.registry = reg.host;
      if (needsDomain) {
        const proxy = await startDomainProxy(reg.upstream, join(vectorsDir, 'testdata', 'nginx'));
        stops.push(proxy.stop);
        env.domainFetch = domainFetch(proxy);
      }
    }
    if (needsHelper) {
      const dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-helper-'));
      stops.push(() => rm(dir, { recursive: true, force: true }));
      const h = await installCredentialHelper(dir);
      env.binDir = h.binDir;
      resetHelper = h.reset;
      // credential helpers run as child processes of this process: they see its PATH
      const oldPath = process.env.PATH;
      process.env.PATH = `${h.binDir}:${oldPath ?? ''}`;
      stops.push(async () => {
        process.env.PATH = oldPath;
      });
    }
  } catch (e) {
    setupError = e as Error;
  }
}, 120_000);

afterAll(async () => {
  for (const g of groups.values()) await g.dispose();
  for (const stop of stops.reverse()) await stop().catch(() => {});
});

describe.skipIf(!present)('notation e2e scenarios', () => {
  for (const { s, reason } of plan) {
    if (reason) {
      note('skip', s.id, reason);
      it.skip(`${s.id} [${reason}]`, () => {});
      continue;
    }
    it(s.id, async () => {
      if (setupError) throw setupError;
      if (s.needs.includes('tls-proxy') && !env.domainFetch) throw new Error(`${DOMAIN_REGISTRY} front end not started`);
      if (s.needs.includes('credential-helper')) await resetHelper?.();
      let state = s.ordered_group ? groups.get(s.ordered_group) : undefined;
      const own = !state;
      if (!state) {
        state = new ScenarioState();
        await state.init();
        if (s.ordered_group) groups.set(s.ordered_group, state);
      }
      try {
        const runner = new ScenarioRunner(s, env, state);
        await runner.setup();
        await runner.run();
      } catch (e) {
        const why = KNOWN_DEVIATIONS[s.id];
        if (why && e instanceof Error) e.message = `known deviation: ${why}\n${e.message}`;
        throw e;
      } finally {
        if (own && !s.ordered_group) await state.dispose();
      }
    }, 120_000);
  }
});
