/**
 * Generator of test-vectors/ (run with `node tools/gen-vectors/run.mjs [--new-keys]`).
 * Everything is regenerated except the keys in test-vectors/pki/keys/, which are reused so
 * certificates keep their keys (and subjects, serials and dates, which are fixed). ECDSA and
 * RSA-PSS signatures are randomised, so signature bytes (and digests) change on every run.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { manifest, OUT, writeJson } from './lib/common.js';
import { generateEnvelopes } from './lib/envelopes.js';
import { generateOci } from './lib/oci.js';
import { generatePki } from './lib/pki.js';
import { generatePolicies, generateVerifyPolicy } from './lib/policies.js';

function clean(): void {
  if (!existsSync(OUT)) return;
  for (const name of readdirSync(OUT)) {
    if (name === 'README.md' || name === 'pki') continue;
    rmSync(join(OUT, name), { recursive: true, force: true });
  }
  const pki = join(OUT, 'pki');
  if (existsSync(pki)) for (const name of readdirSync(pki)) if (name !== 'keys') rmSync(join(pki, name), { recursive: true, force: true });
}

clean();
const pkis = await generatePki();
const envelopes = await generateEnvelopes(pkis);
generatePolicies();
const vp = generateVerifyPolicy(pkis);
await generateOci(pkis, envelopes, vp);
writeJson('manifest.json', manifest);
const counts = new Map<string, number>();
for (const e of manifest) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
console.log(`gen-vectors: ${manifest.length} cases (${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')})`);
