import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { utf8 } from '@vouch/core';
import { fromBase64, toBase64 } from '@vouch/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateErrorBody } from '../codec.js';
import { fromErrorBody } from '../errors.js';
import {
  createPluginClient,
  definePlugin,
  type PluginClient,
  type PluginErrorBody,
  type PluginTransport,
  pluginConformance,
} from '../index.js';
import { makeTestKey, requireOpenssl, type TestKey } from '../test/certs.js';
import { runPluginCli } from './index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../../../..');

class Sink {
  text = '';
  write(chunk: string, cb?: () => void) {
    this.text += chunk;
    cb?.();
    return true;
  }
}

const plugin = definePlugin({
  metadata: {
    name: 'com.example.cli',
    description: 'cli test',
    version: '0.0.1',
    url: 'https://example.com',
    supportedContractVersions: ['1.0'],
    capabilities: ['SIGNATURE_GENERATOR.RAW'],
  },
  describeKey: (r) => ({ keyId: r.keyId, keySpec: 'RSA-3072' }),
  generateSignature: (r) => ({
    keyId: r.keyId,
    signature: r.payload,
    signingAlgorithm: 'RSASSA-PSS-SHA-384',
    certificateChain: [r.payload],
  }),
});

async function run(argv: string[], stdin: string) {
  const stdout = new Sink();
  const stderr = new Sink();
  let exitCode: number | undefined;
  const code = await runPluginCli(plugin, {
    argv: ['node', 'notation-com.example.cli', ...argv],
    stdin: (async function* () {
      if (stdin) yield utf8(stdin);
    })(),
    stdout,
    stderr,
    exit: (c) => {
      exitCode = c;
    },
  });
  expect(exitCode).toBe(code);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('runPluginCli (in-process streams)', () => {
  it('answers get-plugin-metadata with empty stdin', async () => {
    const r = await run(['get-plugin-metadata'], '');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).name).toBe('com.example.cli');
    expect(r.stderr).toBe('');
  });

  it('answers generate-signature with base64 fields', async () => {
    const r = await run(
      ['generate-signature'],
      JSON.stringify({ contractVersion: '1.0', keyId: 'k', keySpec: 'RSA-3072', hashAlgorithm: 'SHA-384', payload: toBase64(utf8('x')) }),
    );
    expect(r.code).toBe(0);
    expect(fromBase64(JSON.parse(r.stdout).signature)).toEqual(utf8('x'));
  });

  it.each([
    ['no command', [], '{}'],
    ['unknown command', ['sign-everything'], '{}'],
    ['bad JSON', ['describe-key'], '{"contractVersion": '],
    ['empty stdin', ['describe-key'], ''],
    ['failed validation', ['describe-key'], '{"contractVersion":"1.0","keyId":5}'],
    ['unimplemented command', ['verify-signature'], '{"contractVersion":"1.0"}'],
  ])('%s → exit 1 with a VALIDATION_ERROR body on stderr', async (_what, argv, stdin) => {
    const r = await run(argv, stdin);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(validateErrorBody(JSON.parse(r.stderr)).errorCode).toBe('VALIDATION_ERROR');
  });

  it('reports another major contract version as UNSUPPORTED_CONTRACT_VERSION', async () => {
    const r = await run(['describe-key'], '{"contractVersion":"2.0","keyId":"k"}');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).errorCode).toBe('UNSUPPORTED_CONTRACT_VERSION');
  });

  it('prints a version line for the non-spec version command', async () => {
    const r = await run(['version'], '');
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('Version: 0.0.1') });
  });
});

// ------------------------------------------------------------------ real child process

const haveOpenssl = requireOpenssl();
const esbuild = join(repo, 'node_modules', '.bin', 'esbuild');

describe.skipIf(!haveOpenssl || !existsSync(esbuild))('runPluginCli as a real executable', () => {
  let dir: string;
  let bin: string;
  let key: TestKey;
  let client: PluginClient;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vouch-plugin-cli-'));
    bin = join(dir, 'notation-io.vouch.test.sdk.mjs');
    execFileSync(
      esbuild,
      [join(here, '../test/sdk-plugin-bin.ts'), '--bundle', '--platform=node', '--format=esm', `--outfile=${bin}`, '--log-level=error'],
      {
        cwd: repo,
      },
    );
    key = makeTestKey('EC-384');
    const env = {
      ...process.env,
      VOUCH_TEST_KEY_SPEC: key.keySpec,
      VOUCH_TEST_KEY_PEM: key.keyPem,
      VOUCH_TEST_CERT_B64: toBase64(key.certDer),
    };
    // A minimal host transport (the real one, with limits and timeouts, is @vouch/node's executablePlugin).
    const transport: PluginTransport = (command, request) =>
      new Promise((resolveCall, reject) => {
        const child = execFile(process.execPath, [bin, command], { env, timeout: 20_000 }, (err, stdout, stderr) => {
          if (!err) return resolveCall(JSON.parse(stdout));
          try {
            const body = validateErrorBody(JSON.parse(stderr));
            reject(Object.assign(new Error(body.errorMessage), { body }));
          } catch (e) {
            reject(e);
          }
        });
        child.stdin?.end(JSON.stringify(request));
      });
    client = createPluginClient(async (command, request, opts) => {
      try {
        return await transport(command, request, opts);
      } catch (e) {
        const body = (e as { body?: PluginErrorBody }).body;
        throw body ? fromErrorBody(body) : e;
      }
    });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('speaks the contract over argv, stdin, stdout, stderr and exit codes', async () => {
    expect((await client.metadata()).name).toBe('io.vouch.test.sdk');
    const e = await client.describeKey({ keyId: 'denied' }).catch((x) => x);
    expect(e).toBeVouchError('ERR_PLUGIN_FAILED');
    expect(e.pluginErrorCode).toBe('ACCESS_DENIED');
  });

  it('passes the conformance checks as an executable', async () => {
    const checks = await pluginConformance(client, { keyId: 'test-key', expectedName: 'io.vouch.test.sdk' });
    expect(checks.filter((c) => c.status !== 'passed')).toEqual([]);
  });
});
