/**
 * What the two tools print about the same signatures: `inspect` (JSON equal, text equal up to
 * the order notation takes from Go maps), `list`, and for the common failures of `verify`
 * (unsigned, wrong trust store, wrong identity, expired, tampered) the exit code and the first
 * line of the error.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalTree,
  expectExit,
  type Image,
  manifestOf,
  peersAvailable,
  pushImage,
  type Registries,
  referrersTagOf,
  signingWorkspace,
  startRegistries,
  trustPolicy,
  unorderedTable,
  type Workspace,
} from './harness.js';

const ready = peersAvailable(['notation', 'crane', 'oras'], 'interop output');

describe.skipIf(!ready)('inspect, list and verify failures print what notation 1.3.2 prints', () => {
  let regs: Registries;
  let ws: Workspace;
  let signed: Image;
  let unsigned: Image;

  beforeAll(async () => {
    regs = await startRegistries();
    ws = await signingWorkspace('out', 'interop.example');
    expectExit(await ws.notation(['cert', 'generate-test', 'other.example']), 0, 'cert generate-test other');
    signed = await pushImage(ws, regs.distribution, { format: 'docker' });
    unsigned = await pushImage(ws, regs.distribution);
    const s = (tool: 'notation' | 'vouch', args: string[]) =>
      (tool === 'vouch' ? ws.vouch.bind(ws) : ws.notation.bind(ws))(['sign', '--insecure-registry', ...args, signed.ref]);
    expectExit(await s('notation', []), 0, 'notation sign jws');
    expectExit(await s('vouch', ['--signature-format', 'cose', '-m', 'team=payments', '-e', '24h']), 0, 'vouch sign cose');
    expectExit(await s('notation', ['--signature-format', 'cose', '-m', 'a=1', '-m', 'b=2', '-e', '48h']), 0, 'notation sign cose');
    expectExit(await s('vouch', ['-m', 'purpose=interop']), 0, 'vouch sign jws');
  });
  afterAll(async () => {
    await regs?.stop();
    await ws?.dispose();
  });

  const both = async (args: string[]) => {
    const [n, v] = [await ws.notation(args), await ws.vouch(args)];
    expect(v.code).toBe(n.code);
    return { n, v };
  };

  it('inspect -o json: the same document for signatures made by both tools (JWS, COSE, metadata, expiry)', async () => {
    const { n, v } = await both(['inspect', '--insecure-registry', '-o', 'json', signed.ref]);
    expectExit(n, 0, 'notation inspect');
    const doc = JSON.parse(n.stdout) as { Signatures: unknown[] };
    expect(doc.Signatures).toHaveLength(4);
    const mine = JSON.parse(v.stdout) as unknown;
    expect(mine).toEqual(doc);
    // the same keys in the same order, too; docs/compatibility.md I12: indented with 2 spaces (notation 1.3.2: 4)
    expect(JSON.stringify(mine)).toBe(JSON.stringify(doc));
    expect(v.stdout).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    expect(n.stdout).toBe(`${JSON.stringify(doc, null, 4)}\n`);
  });

  it('inspect (text): the same tree, up to the order notation prints Go maps in', async () => {
    const { n, v } = await both(['inspect', '--insecure-registry', signed.ref]);
    expectExit(n, 0, 'notation inspect');
    expect(v.stdout.split('\n')[0]).toBe('Inspecting all signatures for signed artifact');
    expect(canonicalTree(v.stdout)).toBe(canonicalTree(n.stdout));
    // docs/compatibility.md I9: where notation's order is a Go map's (random), vouch sorts by key
    expect(canonicalTree(v.stdout)).toBe(canonicalTree(v.stdout, { keepOrder: true }));
  });

  it('inspect and list by tag: the same warning and output', async () => {
    for (const verb of ['inspect', 'list']) {
      const { n, v } = await both([verb, '--insecure-registry', signed.tagRef]);
      expectExit(n, 0, `notation ${verb}`);
      expect(v.stderr).toBe(n.stderr);
      expect(verb === 'list' ? v.stdout : canonicalTree(v.stdout)).toBe(verb === 'list' ? n.stdout : canonicalTree(n.stdout));
    }
  });

  it('list and ls: the same tree', async () => {
    for (const verb of ['list', 'ls']) {
      const { n, v } = await both([verb, '--insecure-registry', signed.ref]);
      expectExit(n, 0, `notation ${verb}`);
      expect(v.stdout).toBe(n.stdout);
    }
  });

  it('an unsigned artifact: inspect, inspect -o json and list say so the same way', async () => {
    for (const args of [['inspect'], ['inspect', '-o', 'json'], ['list']]) {
      const { n, v } = await both([...args, '--insecure-registry', unsigned.ref]);
      expectExit(n, 0, `notation ${args.join(' ')}`);
      expect(v.stdout).toBe(args.includes('json') ? v.stdout : n.stdout);
      if (args.includes('json')) expect(JSON.parse(v.stdout)).toEqual(JSON.parse(n.stdout));
    }
  });

  /** Both verifiers on the same input: the same exit code (`code`) and the same first error line. */
  async function failsAlike(args: string[], extra: { env?: Record<string, string> } = {}): Promise<string> {
    const [n, v] = [
      await ws.notation(['verify', '--insecure-registry', ...args], extra),
      await ws.vouch(['verify', '--insecure-registry', ...args], extra),
    ];
    expectExit(n, 1, `notation verify ${args.join(' ')}`);
    expectExit(v, 1, `vouch verify ${args.join(' ')}`);
    // the fix a message names is the same command of each tool: `notation cert add` / `vouch cert add`
    expect(v.error).toBe(n.error.replaceAll("command 'notation ", "command 'vouch "));
    expect(unorderedTable(v.stdout)).toBe(unorderedTable(n.stdout));
    return n.error;
  }

  it('verify, unsigned artifact: exit 1 and the same error', async () => {
    const error = await failsAlike([unsigned.ref]);
    expect(error).toBe(
      `Error: signature verification failed: no signature is associated with "${unsigned.ref}", make sure the artifact was signed successfully`,
    );
  });

  /** Run `body` with the trust policy replaced by `policy`, then restore the interop one. */
  async function withPolicy(policy: string, body: () => Promise<void>): Promise<void> {
    await ws.file('other-policy.json', policy);
    expectExit(await ws.notation(['policy', 'import', '--force', 'other-policy.json']), 0, 'policy import');
    try {
      await body();
    } finally {
      expectExit(await ws.notation(['policy', 'import', '--force', 'policy.json']), 0, 'policy import');
    }
  }

  it('verify, a trust store holding another CA: exit 1 and the same error', async () => {
    await withPolicy(trustPolicy({ stores: ['ca:other.example'] }), async () => {
      const error = await failsAlike([signed.ref]);
      expect(error).toBe(`Error: signature verification failed for all the signatures associated with ${signed.ref}`);
    });
  });

  it('verify, a trusted identity the signer does not have: exit 1 and the same error', async () => {
    const identity = 'x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=someone.else';
    await withPolicy(trustPolicy({ stores: ['ca:interop.example'], identities: [identity] }), async () => {
      const error = await failsAlike([signed.ref]);
      expect(error).toBe(`Error: signature verification failed for all the signatures associated with ${signed.ref}`);
    });
  });

  it('verify, a policy naming a trust store that does not exist: exit 1 and the same error', async () => {
    await withPolicy(trustPolicy({ stores: ['ca:no-such-store'] }), async () => {
      await failsAlike([signed.ref]);
    });
  });

  it('verify, no applicable trust policy statement: exit 1 and the same error', async () => {
    await withPolicy(trustPolicy({ scopes: ['elsewhere.example/app'], stores: ['ca:interop.example'] }), async () => {
      const error = await failsAlike([signed.ref]);
      expect(error).toContain('has no applicable trust policy statement');
    });
  });

  it('verify, an expired signature: exit 1 and the same error', async () => {
    const img = await pushImage(ws, regs.distribution);
    expectExit(await ws.vouch(['sign', '--insecure-registry', '-e', '1s', img.ref]), 0, 'vouch sign');
    await new Promise((r) => setTimeout(r, 1500));
    const error = await failsAlike([img.ref]);
    expect(error).toBe(`Error: signature verification failed for all the signatures associated with ${img.ref}`);
  });

  it('verify, a tampered signature envelope: exit 1 and the same error', async () => {
    const img = await pushImage(ws, regs.distribution);
    expectExit(await ws.notation(['sign', '--insecure-registry', img.ref]), 0, 'notation sign');
    const index = (await manifestOf(ws, `${img.repo}:${referrersTagOf(img.digest)}`)) as { manifests: { digest: string }[] };
    const sigRef = `${img.repo}@${index.manifests[0]!.digest}`;
    const manifest = (await manifestOf(ws, sigRef)) as { layers: { digest: string; size: number }[] } & Record<string, unknown>;
    // flip one character of the JWS signature value and push it as the signature blob
    const repo = img.repo.slice(regs.distribution.length + 1);
    const blob = await (await fetch(`http://${regs.distribution}/v2/${repo}/blobs/${manifest.layers[0]!.digest}`)).text();
    const jws = JSON.parse(blob) as { signature: string };
    jws.signature = (jws.signature[0] === 'A' ? 'B' : 'A') + jws.signature.slice(1);
    const forged = new TextEncoder().encode(JSON.stringify(jws));
    const digest = `sha256:${createHash('sha256').update(forged).digest('hex')}`;
    const start = await fetch(`http://${regs.distribution}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, `http://${regs.distribution}`);
    location.searchParams.set('digest', digest);
    expect((await fetch(location, { method: 'PUT', body: forged, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(
      201,
    );
    manifest.layers[0] = { ...manifest.layers[0]!, digest, size: forged.length };
    const body = JSON.stringify(manifest);
    const put = await fetch(`http://${regs.distribution}/v2/${repo}/manifests/${referrersTagOf(img.digest)}-forged`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.status).toBe(201);
    const forgedDigest = put.headers.get('docker-content-digest')!;
    // the referrers tag index now names only the forged signature
    const tagIndex = { ...(await manifestOf(ws, `${img.repo}:${referrersTagOf(img.digest)}`)) } as { manifests: Record<string, unknown>[] };
    tagIndex.manifests = [{ ...tagIndex.manifests[0]!, digest: forgedDigest, size: body.length }];
    const idx = await fetch(`http://${regs.distribution}/v2/${repo}/manifests/${referrersTagOf(img.digest)}`, {
      method: 'PUT',
      body: JSON.stringify(tagIndex),
      headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    });
    expect(idx.status).toBe(201);
    const error = await failsAlike([img.ref]);
    expect(error).toBe(`Error: signature verification failed for all the signatures associated with ${img.ref}`);
  });
  describe('the command line surface', () => {
    it('sign --expiry 1d: rejected by both (a Go duration has no days)', async () => {
      const img = await pushImage(ws, regs.distribution);
      const [n, v] = [
        await ws.notation(['sign', '--insecure-registry', '-e', '1d', img.ref]),
        await ws.vouch(['sign', '--insecure-registry', '-e', '1d', img.ref]),
      ];
      expectExit(n, 1, 'notation sign -e 1d');
      expectExit(v, 1, 'vouch sign -e 1d');
    });

    it('sign -m k=a -m k=b: accepted by both, the last value wins', async () => {
      for (const tool of ['notation', 'vouch'] as const) {
        const img = await pushImage(ws, regs.distribution);
        const run = tool === 'vouch' ? ws.vouch.bind(ws) : ws.notation.bind(ws);
        expectExit(await run(['sign', '--insecure-registry', '-m', 'k=a', '-m', 'k=b', img.ref]), 0, `${tool} sign -m k=a -m k=b`);
        expectExit(await ws.notation(['verify', '--insecure-registry', '-m', 'k=b', img.ref]), 0, 'notation verify -m k=b');
        expectExit(await ws.vouch(['verify', '--insecure-registry', '-m', 'k=b', img.ref]), 0, 'vouch verify -m k=b');
      }
    });

    it('cert, key, policy and plugin without a subcommand print their help and exit 0', async () => {
      for (const verb of ['cert', 'key', 'policy', 'plugin']) {
        const [n, v] = [await ws.notation([verb]), await ws.vouch([verb])];
        expect({ verb, code: v.code }).toEqual({ verb, code: n.code });
      }
    });

    it('version: exit 0 and a Version line', async () => {
      const [n, v] = [await ws.notation(['version']), await ws.vouch(['version'])];
      expectExit(n, 0, 'notation version');
      expectExit(v, 0, 'vouch version');
      expect(v.stdout).toMatch(/^Version: /m);
    });

    it('list --oci-layout without NOTATION_EXPERIMENTAL: vouch lists (no experimental gate), notation 1.3.2 refuses', async () => {
      const img = await pushImage(ws, regs.distribution);
      const layout = join(ws.work, `gate-${img.digest.slice(7, 15)}`);
      expectExit(await ws.peer('oras', ['cp', '--from-plain-http', img.tagRef, '--to-oci-layout', `${layout}:v1`]), 0, 'oras cp');
      const args = ['list', '--oci-layout', `${layout}:v1`];
      expectExit(await ws.notation(args), 1, 'notation list --oci-layout');
      const v = expectExit(await ws.vouch(args), 0, 'vouch list --oci-layout');
      expect(v.stderr).not.toContain('experimental');
    });
  });
});
