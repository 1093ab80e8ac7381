import { type FetchLike, VouchError } from '@vouch/core';
import {
  dockerConfigPath,
  eraseDockerCredentials,
  loadNotationConfig,
  type NotationConfig,
  storeDockerCredentials,
} from '@vouch/node/config';
import type { Command } from 'commander';
import { act, positionalArgument } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { cliFetch, usesPlainHttp } from '../registry.js';

/** Where login/logout keep credentials: notation's config.json helper when it names one, else the docker config. */
function storeOptions(ctx: CliContext, config: NotationConfig, host: string) {
  const helper = config.credHelpers?.[host] || config.credsStore || undefined;
  return { configPath: dockerConfigPath(ctx.env), ...(helper ? { helper } : {}) };
}

function validHost(server: string): string {
  const host = server.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:.]+\](:\d+)?$/.test(host)) {
    throw new UsageError(`invalid registry "${server}": expected a host name with an optional port`);
  }
  return host;
}

function challengeParams(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = header.split(' ')[0]!.toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

/**
 * Check credentials against `GET /v2/` as `docker login` does: Basic challenge → retry with
 * Basic; Bearer challenge → fetch a token from the realm with Basic auth.
 */
async function checkCredentials(fetchFn: FetchLike, base: string, username: string, secret: string): Promise<void> {
  const unauthorized = (why: string): VouchError =>
    new VouchError(
      'ERR_REGISTRY_UNAUTHORIZED',
      `failed to validate the credential for ${base}: unauthorized (${why}); check the user name and password`,
      {
        details: { registry: base },
      },
    );
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetchFn(`${base}/v2/`, { method: 'GET', redirect: 'manual' });
  } catch (e) {
    throw new VouchError('ERR_NETWORK', `cannot reach registry ${base}: ${(e as Error).message}`, { cause: e });
  }
  if (res.status === 200) return;
  if (res.status !== 401) throw new VouchError('ERR_REGISTRY_HTTP', `registry ${base} answered ${res.status} to GET /v2/`);
  const { scheme, params } = challengeParams(res.headers.get('www-authenticate') ?? '');
  const basic = `Basic ${Buffer.from(`${username}:${secret}`, 'utf8').toString('base64')}`;
  if (scheme === 'basic') {
    const r = await fetchFn(`${base}/v2/`, { method: 'GET', headers: { authorization: basic }, redirect: 'manual' });
    if (r.status === 200) return;
    throw unauthorized(`registry answered ${r.status}`);
  }
  if (scheme === 'bearer' && params.realm) {
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    const headers: Record<string, string> = username ? { authorization: basic } : {};
    const r = username
      ? await fetchFn(url.toString(), { method: 'GET', headers, redirect: 'manual' })
      : await fetchFn(url.toString(), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: secret,
            service: params.service ?? '',
            client_id: 'vouch',
          }).toString(),
          redirect: 'manual',
        });
    if (r.status === 200) return;
    throw unauthorized(`token service answered ${r.status}`);
  }
  throw unauthorized('unsupported authentication challenge');
}

/** `vouch login` / `vouch logout`: manage registry credentials in the docker config. */
export function registerAuth(program: Command, ctx: CliContext): void {
  const login = program
    .command('login')
    .description('Log in to an OCI registry')
    .argument('<server>', 'registry host (host[:port])')
    .option('-u, --username <username>', 'username for registry operations')
    .option('-p, --password <password>', 'password or identity token for registry operations')
    .option('--password-stdin', 'take the password from stdin')
    .option('--insecure-registry', 'use HTTP for the registry');
  act(login, ctx, async ([server], opts) => {
    const host = validHost(positionalArgument(ctx, server));
    let username = (opts.username as string | undefined) ?? ctx.env.NOTATION_USERNAME;
    let password = opts.password as string | undefined;
    if (opts.passwordStdin) {
      if (password) throw new UsageError('--password and --password-stdin cannot be used together');
      password = (await ctx.readStdin()).replace(/\r?\n$/, '');
    } else if (password) {
      ctx.warn('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
    }
    password ??= ctx.env.NOTATION_PASSWORD;
    // Read once and forget, so child processes do not inherit them (ADA-NOT-23-5).
    delete ctx.env.NOTATION_USERNAME;
    delete ctx.env.NOTATION_PASSWORD;
    if (password === undefined && ctx.io.stdin) {
      // notation prompts for what is missing; answers come one per line
      const lines = (await ctx.readStdin()).split(/\r?\n/);
      if (username === undefined) {
        ctx.stderr.write('Username: ');
        username = lines.shift() ?? '';
      }
      ctx.stderr.write('Password: ');
      password = lines.shift() ?? '';
      ctx.stderr.write('\n');
    }
    username = (username ?? '').trim();
    if (!password) throw new UsageError('password is required: use --password-stdin (or -p)');
    const config = await loadNotationConfig(ctx.configDir());
    const plain = usesPlainHttp(host, !!opts.insecureRegistry, config);
    await checkCredentials(cliFetch(ctx), `${plain ? 'http' : 'https'}://${host}`, username, password);
    const saved = await storeDockerCredentials(host, username, password, storeOptions(ctx, config, host));
    ctx.line('Login Succeeded');
    ctx.result({ registry: host, status: 'Login Succeeded', store: saved.helper ?? saved.path });
  });

  const logout = program.command('logout').description('Log out from the logged in registries').argument('<server>', 'registry host');
  act(logout, ctx, async ([server]) => {
    const host = validHost(positionalArgument(ctx, server));
    const config = await loadNotationConfig(ctx.configDir());
    const r = await eraseDockerCredentials(host, storeOptions(ctx, config, host));
    ctx.line('Logout Succeeded');
    ctx.result({ registry: host, status: 'Logout Succeeded', removed: r.removed });
  });
}
