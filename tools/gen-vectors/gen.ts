/**
 * Generator of test-vectors/ (run with `node tools/gen-vectors/run.mjs [--new-keys]`).
 * Everything is regenerated except test-vectors/pki/keys/: the keys, reused so certificates keep
 * their keys (subjects, serials and dates are fixed), and the signature memo (lib/signatures.ts),
 * which makes the randomised ECDSA and RSA-PSS signatures reproducible. A run therefore rewrites
 * only the files of cases whose inputs changed; everything else stays byte-identical.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { manifest, OUT, writeJson } from './lib/common.js';
import { generateEnvelopes } from './lib/envelopes.js';
import { generateOci } from './lib/oci.js';
import { generatePki } from './lib/pki.js';
import { generatePolicies, generateVerifyPolicy } from './lib/policies.js';
import { installSignatureMemo, saveSignatureMemo } from './lib/signatures.js';

function clean(): void {
  if (!existsSync(OUT)) return;
  for (const name of readdirSync(OUT)) {
    if (name === 'README.md' || name === 'pki') continue;
    rmSync(join(OUT, name), { recursive: true, force: true });
  }
  const pki = join(OUT, 'pki');
  if (existsSync(pki)) for (const name of readdirSync(pki)) if (name !== 'keys') rmSync(join(pki, name), { recursive: true, force: true });
}

installSignatureMemo();
clean();
const pkis = await generatePki();
const envelopes = await generateEnvelopes(pkis);
generatePolicies();
const vp = generateVerifyPolicy(pkis);
await generateOci(pkis, envelopes, vp);
writeJson('manifest.json', manifest);
const signatures = saveSignatureMemo();
const counts = new Map<string, number>();
for (const e of manifest) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
console.log(`gen-vectors: ${manifest.length} cases (${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}); ${signatures}`);
