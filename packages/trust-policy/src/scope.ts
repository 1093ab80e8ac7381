import { VouchError } from '@vouch/core';

// Distribution's domain and repository grammar, as notation validates scopes. Written without
// nested unbounded quantifiers so that JavaScript's backtracking engine stays linear-ish
// (`(?:[._]|__|-*)` of the original becomes `(?:[._]|__|-+)`, which accepts the same language).
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?$`);
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Longest scope vouch accepts (characters). */
const MAX_SCOPE_LENGTH = 4096;

/**
 * True when `scope` is a fully qualified `registry/repository` (optionally `registry:port`),
 * with no scheme, tag, digest or wildcard — the form of a trust policy `registryScopes` value.
 * Repository path components are lowercase (`local/my-layout` is a valid local scope).
 */
export function isValidRegistryScope(scope: unknown): scope is string {
  if (typeof scope !== 'string' || scope.length > MAX_SCOPE_LENGTH) return false;
  const slash = scope.indexOf('/');
  if (slash <= 0 || slash === scope.length - 1) return false;
  return DOMAIN.test(scope.slice(0, slash)) && REPOSITORY.test(scope.slice(slash + 1));
}

/**
 * The trust policy scope of an artifact reference `registry/repository@<alg>:<encoded>`:
 * the text before the last `@`. As notation does, no tag is allowed and no normalisation is
 * applied (`docker.io/library/x`, never `x`). Throws ERR_INVALID_REFERENCE.
 */
export function scopeOfReference(reference: string): string {
  const shown = JSON.stringify(typeof reference === 'string' && reference.length > 300 ? `${reference.slice(0, 300)}…` : reference);
  const bad = () =>
    new VouchError(
      'ERR_INVALID_REFERENCE',
      `artifact URI ${shown} could not be parsed, make sure it is the fully qualified OCI artifact URI without the scheme/protocol. e.g domain.com:80/my/repository@sha256:digest`,
    );
  if (typeof reference !== 'string') throw bad();
  const at = reference.lastIndexOf('@');
  if (at < 0 || !DIGEST.test(reference.slice(at + 1))) throw bad();
  const scope = reference.slice(0, at);
  if (!isValidRegistryScope(scope)) throw bad();
  return scope;
}
