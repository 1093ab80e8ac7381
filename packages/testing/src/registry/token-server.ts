import { generateKeyPairSync, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { listenLocal, run, which } from './process.js';

/** Options of {@link startTokenServer}. */
export interface StartTokenServerOptions {
  /** Directory for the signing key and certificate (a test's temp dir). */
  dir: string;
  /** Accounts allowed to push; anonymous requests get pull-only tokens. */
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

/** A running token server (distribution "token" auth). */
export interface RunningTokenServer {
  /** Token endpoint, for the registry's `auth.token.realm`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the token signing key, for `auth.token.rootcertbundle`. */
  certPath: string;
  /** Requests received, with the scopes asked for and the user (empty for anonymous). */
  readonly requests: { scopes: string[]; user: string }[];
  stop(): Promise<void>;
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A minimal token server for a CNCF distribution registry on 127.0.0.1: Basic-authenticated
 * users get the actions they ask for, anonymous ones only `pull`; tokens are ES256 JWTs with
 * the signing certificate in `x5c`. Needs `openssl` to make the certificate.
 */
export async function startTokenServer(options: StartTokenServerOptions): Promise<RunningTokenServer> {
  const openssl = which('openssl');
  if (!openssl) throw new Error('openssl is not installed');
  const service = options.service ?? 'vouch-test-registry';
  const issuer = options.issuer ?? 'vouch-test-issuer';
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPath = join(options.dir, 'token.key');
  const certPath = join(options.dir, 'token.crt');
  await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await run(openssl, ['req', '-x509', '-new', '-key', keyPath, '-subj', '/CN=vouch-test-token-issuer', '-days', '30', '-out', certPath]);
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  const requests: { scopes: string[]; user: string }[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const auth = req.headers.authorization ?? '';
    let user = '';
    if (auth.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString();
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      if (colon < 0 || options.users[name] !== decoded.slice(colon + 1)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="token"' });
        res.end();
        return;
      }
      user = name;
    }
    const scopes = u.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    requests.push({ scopes, user });
    const access = scopes.map((s) => {
      const last = s.lastIndexOf(':');
      const first = s.indexOf(':');
      const actions = s.slice(last + 1).split(',');
      return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: user ? actions : actions.filter((a) => a === 'pull') };
    });
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = options.expiresIn ?? 300;
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: user,
      aud: u.searchParams.get('service'),
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const token = `${input}.${b64u(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() }));
  };
  const server = createServer(handler);
  const { url, stop } = await listenLocal(server);
  return {
    realm: `${url}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop,
  };
}
