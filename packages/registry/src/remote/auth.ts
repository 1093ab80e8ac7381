/** Credentials for one registry. */
export interface Credential {
  /** User name for Basic auth or the token service. */
  username?: string;
  password?: string;
  /** A refresh (identity) token for the token service's OAuth2 `refresh_token` grant. */
  identityToken?: string;
  /** A ready bearer access token, sent as is. */
  registryToken?: string;
}

/**
 * Where credentials come from (static map, docker config.json, a secret manager). `registry`
 * is the host as written in the reference (`docker.io`, `localhost:5000`). Resolve
 * `undefined` for anonymous access.
 */
export interface CredentialProvider {
  get(registry: string): Promise<Credential | undefined>;
}

/** A CredentialProvider over a fixed map from registry host to credential. */
export function staticCredentials(map: Readonly<Record<string, Credential>>): CredentialProvider {
  const copy = new Map(Object.entries(map).map(([k, v]) => [k, { ...v }]));
  return {
    async get(registry) {
      const c = copy.get(registry);
      return c ? { ...c } : undefined;
    },
  };
}

/** One parsed `WWW-Authenticate` challenge. */
export interface AuthChallenge {
  scheme: 'basic' | 'bearer' | string;
  params: Record<string, string>;
}

/**
 * Parse a `WWW-Authenticate` header value (RFC 7235: scheme then comma-separated
 * `key=value` / `key="quoted"` parameters; several challenges may follow each other).
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  let current: AuthChallenge | undefined;
  while (i < s.length) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i]!)) i++;
    const token = s.slice(start, i);
    if (token === '') {
      i++;
      continue;
    }
    skipWs();
    if (s[i] === '=') {
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        const vs = i;
        while (i < s.length && s[i] !== ',' && s[i] !== ' ') i++;
        value = s.slice(vs, i);
      }
      if (current) current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** A scope like `repository:org/app:pull,push`. */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${[...actions].join(',')}`;
}

/**
 * Merge scope strings: the same `type:name` joins its actions; result sorted, so that it can
 * key a token cache.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scopeList of scopes) {
    for (const scope of scopeList.split(' ')) {
      if (scope === '') continue;
      const last = scope.lastIndexOf(':');
      if (last <= 0) {
        if (!byResource.has(scope)) byResource.set(scope, new Set());
        continue;
      }
      const resource = scope.slice(0, last);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const a of scope.slice(last + 1).split(',')) if (a !== '') actions.add(a);
      byResource.set(resource, actions);
    }
  }
  return [...byResource.entries()].map(([r, a]) => (a.size > 0 ? `${r}:${[...a].sort().join(',')}` : r)).sort();
}
