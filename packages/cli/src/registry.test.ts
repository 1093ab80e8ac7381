/**
 * The remote-registry verbs against a real registry (CNCF distribution, Debian
 * `docker-registry`, htpasswd auth) on 127.0.0.1: sign (JWS, COSE, tag warning, user metadata,
 * expiry, --force-referrers-tag), verify, list, inspect, multi-arch index, and the credential
 * order (flags, NOTATION_* env, docker config, none).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Descriptor, MediaType, utf8 } from '@vouch/core';
import { undiciFetch } from '@vouch/node';
import { createRegistryClient, type RemoteRepository, remoteRepository, staticCredentials } from '@vouch/registry';
import { type RunningRegistry, requireTool, startRegistry } from '@vouch/testing/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './index.js';
import { type CliRun, runVouch } from './testing/run-cli.js';

const USER = 'alice';
const PASS = 'secret-pass';
const hasRegistry =
  requireTool('docker-registry', 'the CLI registry tests need CNCF distribution') &&
  requireTool('htpasswd', 'the CLI registry tests need htpasswd');

let reg: RunningRegistry;
let root: string;
let cfg: string;
const http = undiciFetch();
let repo: RemoteRepository;
const digests: Record<string, Descriptor> = {};

async function vouch(args: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  const env = {
    HOME: join(root, 'home'),
    DOCKER_CONFIG: join(root, 'docker'),
    NOTATION_USERNAME: USER,
    NOTATION_PASSWORD: PASS,
    ...extra.env,
  };
  return runVouch(['--config-dir', cfg, ...args], { cwd: root, ...extra, env });
}

async function image(tag: string, salt: string): Promise<Descriptor> {
  const config = await repo.pushBlob(MediaType.OCI_CONFIG, utf8(JSON.stringify({ architecture: salt, os: 'linux' })));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(`layer ${salt}`));
  const m = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] }));
  return repo.pushManifest(MediaType.OCI_MANIFEST, m, { tag });
}

describe.skipIf(!hasRegistry)('vouch sign/verify/list/inspect against a real registry', () => {
  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: { user: USER, password: PASS } });
    root = await mkdtemp(join(tmpdir(), 'vouch-cli-reg-'));
    cfg = join(root, 'config');
    const client = createRegistryClient({
      fetch: http,
      credentials: staticCredentials({ [reg.host]: { username: USER, password: PASS } }),
    });
    repo = remoteRepository(client, `${reg.host}/app`);
    digests.one = await image('v1', 'one');
    digests.two = await image('v2', 'two');
    digests.three = await image('v3', 'three');
    const amd = await image('amd64', 'amd64');
    const arm = await image('arm64', 'arm64');
    const index = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [amd, arm] }));
    digests.index = await repo.pushManifest(MediaType.OCI_INDEX, index, { tag: 'multi' });
    // key, trust store and a policy for the registry
    const g = await vouch(['cert', 'generate-test', '--default', 'test.example']);
    expect(g.code).toBe(0);
    await mkdir(cfg, { recursive: true });
    // plain HTTP on 127.0.0.1: as with notation, only through config.json or --insecure-registry
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ insecureRegistries: [reg.host] }));
    await writeFile(
      join(cfg, 'trustpolicy.oci.json'),
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'app',
            registryScopes: [`${reg.host}/app`],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:test.example'],
            trustedIdentities: ['*'],
          },
        ],
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await reg?.stop();
    await http.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('signs by digest (JWS) and verifies with notation wording', async () => {
    const ref = `${reg.host}/app@${digests.one!.digest}`;
    const s = await vouch(['sign', ref, '-m', 'team=core']);
    expect(s.code).toBe(0);
    expect(s.err).toBe('');
    expect(s.out).toMatch(
      new RegExp(
        `^Successfully signed ${reg.host}/app@${digests.one!.digest}\nPushed the signature to ${reg.host}/app@sha256:[0-9a-f]{64}\n$`,
      ),
    );
    const v = await vouch(['verify', ref]);
    expect(v.code).toBe(0);
    expect(v.out).toContain(`Successfully verified signature for ${ref}`);
    expect(v.out).toContain('team');
    const j = await vouch(['verify', ref, '-o', 'json']);
    expect(j.json()).toMatchObject({ reference: ref, verified: true, userMetadata: { team: 'core' } });
  });

  it('signs a tag (COSE) by its digest, with the tag warning, and lists and inspects it', async () => {
    const s = await vouch(['sign', `${reg.host}/app:v2`, '--signature-format', 'cose', '--expiry', '48h']);
    expect(s.code).toBe(0);
    expect(s.err).toContain('Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v2)');
    expect(s.out).toContain(`Successfully signed ${reg.host}/app@${digests.two!.digest}`);
    const v = await vouch(['verify', `${reg.host}/app:v2`]);
    expect(v.code).toBe(0);
    expect(v.err).toContain('rather than a tag(:v2)');
    const ls = await vouch(['ls', `${reg.host}/app@${digests.two!.digest}`]);
    expect(ls.code).toBe(0);
    expect(ls.out).toMatch(
      new RegExp(`^${reg.host}/app@${digests.two!.digest}\n└── application/vnd.cncf.notary.signature\n    └── sha256:[0-9a-f]{64}\n$`),
    );
    const ins = await vouch(['inspect', `${reg.host}/app@${digests.two!.digest}`, '-o', 'json']);
    expect(ins.code).toBe(0);
    // notation 1.3's shape: `Signatures`, the envelope type as `mediaType` first
    const sig = ins.json().Signatures[0];
    expect(Object.keys(sig)[0]).toBe('mediaType');
    expect(sig.mediaType).toBe('application/cose');
    expect(sig.signedArtifact.digest).toBe(digests.two!.digest);
    expect(Date.parse(sig.signedAttributes.expiry) - Date.parse(sig.signedAttributes.signingTime)).toBe(2 * 86400 * 1000);
  });

  it('--force-referrers-tag=true writes the tag-schema index; a second signer keeps both signatures', async () => {
    const ref = `${reg.host}/app@${digests.three!.digest}`;
    expect((await vouch(['sign', ref, '--force-referrers-tag=true'])).code).toBe(0);
    expect((await vouch(['sign', ref, '--force-referrers-tag=false', '--signature-format', 'cose'])).code).toBe(0);
    const tagIndex = await repo.fetchManifest(`sha256-${digests.three!.digest.slice(7)}`);
    expect(JSON.parse(new TextDecoder().decode(tagIndex.bytes)).manifests).toHaveLength(2);
    const ls = await vouch(['ls', ref, '-o', 'json']);
    expect(ls.json().signatures).toHaveLength(2);
  });

  it('signs and verifies a multi-arch index like any manifest', async () => {
    const s = await vouch(['sign', `${reg.host}/app:multi`]);
    expect(s.code).toBe(0);
    expect(s.out).toContain(`Successfully signed ${reg.host}/app@${digests.index!.digest}`);
    const v = await vouch(['verify', `${reg.host}/app@${digests.index!.digest}`, '-o', 'json']);
    expect(v.code).toBe(0);
    expect(v.json().artifact.mediaType).toBe(MediaType.OCI_INDEX);
  });

  it('takes credentials from flags, NOTATION_* env or the docker config, and says when none were found', async () => {
    const ref = `${reg.host}/app@${digests.one!.digest}`;
    const none = await vouch(['verify', ref, '-o', 'json'], { env: { NOTATION_USERNAME: undefined, NOTATION_PASSWORD: undefined } });
    expect(none.code).toBe(1);
    expect(none.json().error.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect(none.err).toContain('credential required for basic auth');
    const bad = await vouch(['verify', ref, '-o', 'json'], { env: { NOTATION_PASSWORD: 'wrong' } });
    expect(bad.json().error.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect(bad.err).not.toContain('credential required');
    const flags = await vouch(['verify', ref, '-u', USER, '-p', PASS], {
      env: { NOTATION_USERNAME: undefined, NOTATION_PASSWORD: undefined },
    });
    expect(flags.code).toBe(0);
    // flags win over the environment
    const flagsFirst = await vouch(['verify', ref, '-u', USER, '-p', 'wrong']);
    expect(flagsFirst.code).toBe(1);
    const stdin = (async function* () {
      yield `${PASS}\n`;
    })();
    const pstdin = await vouch(['verify', ref, '-u', USER, '--password-stdin'], {
      stdin,
      env: { NOTATION_USERNAME: undefined, NOTATION_PASSWORD: undefined },
    });
    expect(pstdin.code).toBe(0);
    const login = await vouch(['login', '-u', USER, '-p', PASS, reg.host], {
      env: { NOTATION_USERNAME: undefined, NOTATION_PASSWORD: undefined },
    });
    expect(login.code).toBe(0);
    expect(login.out).toBe('Login Succeeded\n');
    const docker = await vouch(['verify', ref], { env: { NOTATION_USERNAME: undefined, NOTATION_PASSWORD: undefined } });
    expect(docker.code).toBe(0);
    const logout = await vouch(['logout', reg.host]);
    expect(logout.out).toBe('Logout Succeeded\n');
    const after = await vouch(['verify', ref], { env: { NOTATION_USERNAME: undefined, NOTATION_PASSWORD: undefined } });
    expect(after.code).toBe(1);
  });

  it('reports a missing signature, a digest mismatch and an unknown tag with exit 1', async () => {
    const unsigned = await image('v9', 'nine');
    const none = await vouch(['verify', `${reg.host}/app@${unsigned.digest}`, '-o', 'json']);
    expect(none.code).toBe(1);
    expect(none.json().error.code).toBe('ERR_SIGNATURE_NOT_FOUND');
    expect(none.err).toContain(`no signature is associated with "${reg.host}/app@${unsigned.digest}"`);
    const insp = await vouch(['inspect', `${reg.host}/app@${unsigned.digest}`]);
    expect(insp.out).toBe(`${reg.host}/app@${unsigned.digest} has no associated signature\n`);
    const missing = await vouch(['sign', `${reg.host}/app:nope`, '-o', 'json']);
    expect(missing.code).toBe(1);
    expect(missing.json().error.code).toBe('ERR_REGISTRY_NOT_FOUND');
    const noTag = await vouch(['verify', `${reg.host}/app`, '-o', 'json']);
    expect(noTag.json().error.code).toBe('ERR_INVALID_REFERENCE');
  });
});
