/**
 * One notation config dir, written by one CLI and used by the other (notation 1.3.2 and vouch):
 * test keys (`cert generate-test`), trust stores (`cert add|list|show|delete`), trust policies
 * (`policy import|show`, in notation 1.3's layout and notation 2's), and signing keys of a plugin
 * built with `@vouch/plugin` (installed by `notation plugin install`, named by `key add --plugin`).
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exec,
  expectExit,
  type Image,
  peersAvailable,
  pushImage,
  type Registries,
  runTool,
  startRegistries,
  type Tool,
  trustPolicy,
  Workspace,
} from './harness.js';

const ready = peersAvailable(['notation', 'crane'], 'interop config dir');
const repoRoot = join(import.meta.dirname, '..', '..');

describe.skipIf(!ready)('a notation config dir shared by notation 1.3.2 and vouch', () => {
  let regs: Registries;
  const spaces: Workspace[] = [];
  const workspace = async (name: string) => {
    const ws = await Workspace.create(name);
    spaces.push(ws);
    return ws;
  };

  beforeAll(async () => {
    regs = await startRegistries();
  });
  afterAll(async () => {
    await regs?.stop();
    for (const ws of spaces) await ws.dispose();
  });

  /** Both tools print the same for `args` (stdout and exit code). */
  async function sameOutput(ws: Workspace, args: string[]): Promise<string> {
    const [n, v] = [await ws.notation(args), await ws.vouch(args)];
    expect({ code: v.code, stdout: v.stdout }).toEqual({ code: n.code, stdout: n.stdout });
    return n.stdout;
  }

  for (const [maker, user] of [
    ['vouch', 'notation'],
    ['notation', 'vouch'],
  ] as const) {
    it(`cert generate-test by ${maker}: ${user} signs with the key, both verify with the trust store it wrote`, async () => {
      const ws = await workspace(`gen-${maker}`);
      const g = expectExit(
        await runTool(ws, maker, ['cert', 'generate-test', '--default', 'made.example']),
        0,
        `${maker} cert generate-test`,
      );
      // docs/compatibility.md I8: vouch words it as notation 2 does ("marked"), notation 1.3.2 says "mark"
      expect(g.stdout.trimEnd().split('\n').pop()).toBe(`made.example: ${maker === 'vouch' ? 'marked' : 'mark'} as default signing key`);
      expect(await sameOutput(ws, ['key', 'ls'])).toContain('* made.example');
      expect(await sameOutput(ws, ['cert', 'ls'])).toContain('made.example.crt');
      await sameOutput(ws, ['cert', 'show', '--type', 'ca', '--store', 'made.example', 'made.example.crt']);
      await ws.file('policy.json', trustPolicy({ stores: ['ca:made.example'] }));
      expectExit(await runTool(ws, maker, ['policy', 'import', '--force', 'policy.json']), 0, `${maker} policy import`);
      const img = await pushImage(ws, regs.distribution);
      expectExit(await runTool(ws, user, ['sign', '--insecure-registry', img.ref]), 0, `${user} sign`);
      for (const tool of ['notation', 'vouch'] as const) {
        expectExit(await runTool(ws, tool, ['verify', '--insecure-registry', img.ref]), 0, `${tool} verify`);
      }
    });

    it(`cert add by ${maker}: ${user} lists, shows, uses and deletes the certificate`, async () => {
      const ws = await workspace(`add-${maker}`);
      const source = await workspace(`add-src-${maker}`);
      expectExit(await source.notation(['cert', 'generate-test', '--default', 'imported.example']), 0, 'cert generate-test');
      const crt = join(source.configDir, 'localkeys', 'imported.example.crt');
      const add = (tool: Tool) => runTool(ws, tool, ['cert', 'add', '--type', 'ca', '--store', 'team', crt]);
      const added = expectExit(await add(maker), 0, `${maker} cert add`);
      expect(added.stdout).toBe(`Successfully added following certificates to named store team of type ca:\n${crt}\n`);
      await sameOutput(ws, ['cert', 'ls']);
      await sameOutput(ws, ['cert', 'ls', '--type', 'ca', '--store', 'team']);
      await sameOutput(ws, ['cert', 'show', '--type', 'ca', '--store', 'team', 'imported.example.crt']);
      // the store verifies a signature made with the source's key
      await ws.file('policy.json', trustPolicy({ stores: ['ca:team'] }));
      expectExit(await runTool(ws, maker, ['policy', 'import', '--force', 'policy.json']), 0, 'policy import');
      const img = await pushImage(ws, regs.distribution);
      expectExit(await source.notation(['sign', '--insecure-registry', img.ref]), 0, 'notation sign (source)');
      expectExit(await runTool(ws, user, ['verify', '--insecure-registry', img.ref]), 0, `${user} verify`);
      const del = expectExit(
        await runTool(ws, user, ['cert', 'delete', '--type', 'ca', '--store', 'team', '-y', 'imported.example.crt']),
        0,
        `${user} cert delete`,
      );
      // docs/compatibility.md I8: vouch names the store as notation 2 does
      expect(del.stdout).toBe(
        user === 'vouch'
          ? 'Successfully deleted imported.example.crt from trust store team of type ca\n'
          : 'Successfully deleted imported.example.crt\n',
      );
      expect(await sameOutput(ws, ['cert', 'ls'])).toBe('');
    });
  }

  describe('trust policies', () => {
    let ws: Workspace;
    let img: Image;
    const policyPath = () => join(ws.configDir, 'trustpolicy.json');
    const ociPath = () => join(ws.configDir, 'trustpolicy.oci.json');

    beforeAll(async () => {
      ws = await workspace('policy');
      expectExit(await ws.notation(['cert', 'generate-test', '--default', 'policy.example']), 0, 'cert generate-test');
      img = await pushImage(ws, regs.distribution);
      expectExit(await ws.notation(['sign', '--insecure-registry', img.ref]), 0, 'notation sign');
    });

    it('vouch policy import: notation 1.3.2 shows the same policy and verifies with it; nothing of notation is deleted', async () => {
      const text = trustPolicy({ stores: ['ca:policy.example'] });
      await ws.file('policy.json', text);
      const r = expectExit(await ws.vouch(['policy', 'import', 'policy.json']), 0, 'vouch policy import');
      expect(r.stdout).toBe(`Successfully imported OCI trust policy configuration to ${policyPath()}\n`);
      expect(await readFile(policyPath(), 'utf8')).toBe(text);
      expect(await sameOutput(ws, ['policy', 'show'])).toBe(text);
      expectExit(await ws.notation(['verify', '--insecure-registry', img.ref]), 0, 'notation verify');
      // --force over an existing policy keeps notation's file (it is the one rewritten)
      const audit = trustPolicy({ stores: ['ca:policy.example'], level: 'audit' });
      await ws.file('audit.json', audit);
      expectExit(await ws.vouch(['policy', 'import', '--force', 'audit.json']), 0, 'vouch policy import --force');
      expect(await readFile(policyPath(), 'utf8')).toBe(audit);
      expect(await sameOutput(ws, ['policy', 'show'])).toBe(audit);
      await expect(readFile(ociPath())).rejects.toThrow();
    });

    it('notation policy import: vouch shows and uses the same policy', async () => {
      const text = trustPolicy({ stores: ['ca:policy.example'], name: 'from-notation' });
      await ws.file('n.json', text);
      expectExit(await ws.notation(['policy', 'import', '--force', 'n.json']), 0, 'notation policy import');
      expect(await sameOutput(ws, ['policy', 'show'])).toBe(text);
      expect((await ws.vouch(['policy', 'show'])).stderr).toBe('');
      expectExit(await ws.vouch(['verify', '--insecure-registry', img.ref]), 0, 'vouch verify');
    });

    it('a notation 2 config dir (trustpolicy.oci.json): vouch uses it and says notation 1.3 does not; vouch policy import makes both versions read the same', async () => {
      await rm(policyPath(), { force: true });
      const stale = trustPolicy({ stores: ['ca:policy.example'], name: 'notation-2' });
      await writeFile(ociPath(), stale);
      expectExit(await ws.notation(['policy', 'show']), 1, 'notation policy show (no trustpolicy.json)');
      const show = expectExit(await ws.vouch(['policy', 'show']), 0, 'vouch policy show');
      expect(show.stdout).toBe(stale);
      expect(show.stderr).toContain(
        `Warning: only trustpolicy.oci.json exists, which notation 1.3 does not read (it reads trustpolicy.json).`,
      );
      const text = trustPolicy({ stores: ['ca:policy.example'], name: 'both' });
      await ws.file('both.json', text);
      expectExit(await ws.vouch(['policy', 'import', '--force', 'both.json']), 0, 'vouch policy import');
      expect(await readFile(ociPath(), 'utf8')).toBe(text);
      expect(await readFile(policyPath(), 'utf8')).toBe(text);
      expect(await sameOutput(ws, ['policy', 'show'])).toBe(text);
      expectExit(await ws.notation(['verify', '--insecure-registry', img.ref]), 0, 'notation verify');
    });

    it('trustpolicy.json and trustpolicy.oci.json disagree: vouch follows trustpolicy.json, as notation 1.3.2 does, and warns', async () => {
      await ws.file('good.json', trustPolicy({ stores: ['ca:policy.example'] }));
      expectExit(await ws.notation(['policy', 'import', '--force', 'good.json']), 0, 'notation policy import');
      // notation 2's file would reject the image (an identity the signer does not have)
      await writeFile(ociPath(), trustPolicy({ stores: ['ca:policy.example'], identities: ['x509.subject: CN=nobody'] }));
      for (const tool of ['notation', 'vouch'] as const) {
        expectExit(await runTool(ws, tool, ['verify', '--insecure-registry', img.ref]), 0, `${tool} verify`);
      }
      const show = await ws.vouch(['policy', 'show']);
      expect(show.stdout).toBe(await readFile(policyPath(), 'utf8'));
      expect(show.stderr).toContain(`Warning: ${ociPath()} differs from ${policyPath()}`);
      await rm(ociPath());
    });
  });

  describe('a signer plugin built with @vouch/plugin, installed by notation plugin install', () => {
    let ws: Workspace;
    let keyDir: string;
    let archive: string;

    beforeAll(async () => {
      ws = await workspace('plugin');
      const build = pathToFileURL(join(repoRoot, 'examples', 'signer-plugin', 'scripts', 'build.mjs')).href;
      const { buildPlugin } = (await import(build)) as { buildPlugin(dir: string): { bin: string; tarGz: string } };
      const { tarGz } = buildPlugin(join(ws.work, 'plugin-build'));
      archive = tarGz;
      const sum = expectExit(await exec('sha256sum', [tarGz]), 0, 'sha256sum').stdout.split(' ')[0]!;
      const install = expectExit(
        await ws.notation(['plugin', 'install', '--file', tarGz, '--sha256sum', sum]),
        0,
        'notation plugin install',
      );
      expect(install.stdout).toContain('Successfully installed plugin vouch-pkcs12');
      // a PEM key directory (key.pem + cert.pem) as the plugin's key id, its certificate in a trust store
      const keys = await workspace('plugin-keys');
      expectExit(await keys.notation(['cert', 'generate-test', 'plugin.example']), 0, 'cert generate-test');
      keyDir = join(ws.work, 'pem-key');
      await mkdir(keyDir);
      await cp(join(keys.configDir, 'localkeys', 'plugin.example.key'), join(keyDir, 'key.pem'));
      await cp(join(keys.configDir, 'localkeys', 'plugin.example.crt'), join(keyDir, 'cert.pem'));
      expectExit(await ws.vouch(['cert', 'add', '--type', 'ca', '--store', 'plugin', join(keyDir, 'cert.pem')]), 0, 'cert add');
      await ws.file('policy.json', trustPolicy({ stores: ['ca:plugin'] }));
      expectExit(await ws.vouch(['policy', 'import', 'policy.json']), 0, 'policy import');
    }, 120_000);

    it('plugin list: the same table', async () => {
      expect(await sameOutput(ws, ['plugin', 'ls'])).toMatch(/^NAME +DESCRIPTION +VERSION +CAPABILITIES +ERROR +\nvouch-pkcs12 /);
    });

    for (const [adder, signer] of [
      ['vouch', 'notation'],
      ['notation', 'vouch'],
    ] as const) {
      it(`key add --plugin by ${adder}: ${signer} signs through the plugin, both verify`, async () => {
        const name = `plugin-key-${adder}`;
        expectExit(await runTool(ws, adder, ['key', 'add', name, '--plugin', 'vouch-pkcs12', '--id', keyDir]), 0, `${adder} key add`);
        const ls = await sameOutput(ws, ['key', 'ls']);
        expect(ls).toContain(name);
        const img = await pushImage(ws, regs.distribution);
        expectExit(await runTool(ws, signer, ['sign', '--insecure-registry', '--key', name, img.ref]), 0, `${signer} sign --key`);
        for (const tool of ['notation', 'vouch'] as const) {
          expectExit(await runTool(ws, tool, ['verify', '--insecure-registry', img.ref]), 0, `${tool} verify`);
        }
        expectExit(await runTool(ws, signer, ['key', 'delete', name]), 0, `${signer} key delete`);
        expect(await sameOutput(ws, ['key', 'ls'])).not.toContain(name);
      });

      it(`${adder === 'vouch' ? 'notation' : 'vouch'} signs on demand (--plugin --id), ${adder} verifies`, async () => {
        const img = await pushImage(ws, regs.distribution);
        const onDemand: Tool = adder === 'vouch' ? 'notation' : 'vouch';
        expectExit(
          await runTool(ws, onDemand, ['sign', '--insecure-registry', '--plugin', 'vouch-pkcs12', '--id', keyDir, img.ref]),
          0,
          `${onDemand} sign --plugin`,
        );
        expectExit(await runTool(ws, adder, ['verify', '--insecure-registry', img.ref]), 0, `${adder} verify`);
      });
    }

    it('vouch plugin install of the same archive: notation lists it and signs through it', async () => {
      const other = await workspace('plugin-vouch');
      const sum = expectExit(await exec('sha256sum', [archive]), 0, 'sha256sum').stdout.split(' ')[0]!;
      expectExit(await other.vouch(['plugin', 'install', '--file', archive, '--sha256sum', sum]), 0, 'vouch plugin install');
      const [n, v] = [await other.notation(['plugin', 'ls']), await other.vouch(['plugin', 'ls'])];
      expect(v.stdout).toBe(n.stdout);
      expect(n.stdout).toContain('vouch-pkcs12');
      const img = await pushImage(other, regs.distribution);
      expectExit(
        await other.notation(['sign', '--insecure-registry', '--plugin', 'vouch-pkcs12', '--id', keyDir, img.ref]),
        0,
        'notation sign --plugin',
      );
    });

    it('vouch plugin uninstall removes what notation installed', async () => {
      expectExit(await ws.vouch(['plugin', 'uninstall', '--yes', 'vouch-pkcs12']), 0, 'vouch plugin uninstall');
      const ls = await sameOutput(ws, ['plugin', 'ls']);
      expect(ls).not.toContain('vouch-pkcs12');
      await writeFile(join(ws.work, 'done'), '');
    });
  });
});
