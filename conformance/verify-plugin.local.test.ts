import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import type { CaseContext, VectorCase } from './types.js';
import { handlers } from './verify-facade.js';

const vectorsDir = join(resolve(process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '..', '..', 'shared')), 'vectors');
const cases: VectorCase[] = JSON.parse(readFileSync(join(vectorsDir, 'index.json'), 'utf8'));
for (const c of cases.filter((x) => x.id.includes('plugin') && x.id.startsWith('notation-go/verify'))) {
  it(c.id, async () => {
    const m = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/.exec(c.expect.verificationTime ?? '');
    const ctx: CaseContext = { vectorsDir, path: (p) => join(vectorsDir, p), readFile: async (p) => new Uint8Array(await readFile(join(vectorsDir, p))), verificationTime: m ? new Date(m[0]) : undefined };
    const out = await handlers['jws-envelope']!(c, ctx);
    console.log(c.id, JSON.stringify(out));
    expect(out.status).toBe('passed');
  });
}
