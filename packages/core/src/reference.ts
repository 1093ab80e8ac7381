import { parseDigest } from './digest.js';
import { VouchError } from './errors.js';

/** A parsed artifact reference: `registry/repository[:tag][@digest]`. */
export interface Reference {
  /** Host, with port when given (`localhost:5000`, `docker.io`). */
  registry: string;
  /** Repository path (`library/nginx`, `org/app`). */
  repository: string;
  tag?: string;
  digest?: string;
}

export interface ParseReferenceOptions {
  /**
   * Apply Docker's normalization: a first component without `.` or `:` that is not `localhost`
   * is a repository on `docker.io`, and single-component repositories get `library/`.
   * notation does not normalize (the registry is always the first component); Kyverno does.
   */
  normalize?: boolean;
  /** Registry used when normalizing (default `docker.io`). */
  defaultRegistry?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME = 255;

function invalid(input: string, why: string): VouchError {
  return new VouchError('ERR_INVALID_REFERENCE', `invalid reference "${input}": ${why}`);
}

function isValidHost(host: string): boolean {
  let h = host;
  const ipv6 = /^\[[0-9a-fA-F:.]+\](?::(\d+))?$/.exec(h);
  if (ipv6) return true;
  const colon = h.lastIndexOf(':');
  if (colon >= 0) {
    const port = h.slice(colon + 1);
    if (!/^\d+$/.test(port) || Number(port) > 65535) return false;
    h = h.slice(0, colon);
  }
  return h.length > 0 && h.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/**
 * Parse an artifact reference. Throws ERR_INVALID_REFERENCE with the reason.
 *
 * - `registry.io/repo:tag`, `registry.io/repo@sha256:<hex>`, `localhost:5000/a/b:t@sha256:<hex>`
 * - with `normalize`: `nginx` → `docker.io/library/nginx`, `org/app` → `docker.io/org/app`.
 * @example
 * ```ts
 * import { parseReference } from '@vouch/core';
 *
 * parseReference('localhost:5000/team/app:v1'); // { registry: 'localhost:5000', repository: 'team/app', tag: 'v1' }
 * parseReference('nginx', { normalize: true }); // { registry: 'docker.io', repository: 'library/nginx' }
 * ```
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): Reference {
  if (typeof input !== 'string' || input === '') throw invalid(String(input), 'empty reference');
  if (input.length > 4096) throw invalid(input.slice(0, 64), 'reference too long');
  if (/\s/.test(input)) throw invalid(input, 'contains white space');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch (e) {
      throw invalid(input, (e as Error).message);
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(input, `invalid tag "${tag}"`);
  }
  const parts = rest.split('/');
  let registry: string;
  let pathParts: string[];
  const first = parts[0]!;
  const looksLikeHost = first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[');
  if (options.normalize) {
    if (parts.length > 1 && (looksLikeHost || first !== first.toLowerCase())) {
      registry = first;
      pathParts = parts.slice(1);
    } else {
      registry = options.defaultRegistry ?? 'docker.io';
      pathParts = parts;
    }
    if (registry === 'index.docker.io') registry = 'docker.io';
    if (registry === 'docker.io' && pathParts.length === 1) pathParts = ['library', ...pathParts];
  } else {
    if (parts.length < 2) throw invalid(input, 'missing registry or repository (expected <registry>/<repository>)');
    registry = first;
    pathParts = parts.slice(1);
  }
  if (!isValidHost(registry)) throw invalid(input, `invalid registry "${registry}"`);
  for (const p of pathParts) {
    if (!PATH_COMPONENT.test(p)) {
      throw invalid(
        input,
        p === ''
          ? 'empty repository path component'
          : `invalid repository path component "${p}" (lowercase letters, digits and separators only)`,
      );
    }
  }
  const repository = pathParts.join('/');
  if (registry.length + 1 + repository.length > MAX_NAME) throw invalid(input, `repository name longer than ${MAX_NAME} characters`);
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository` (the trust-policy scope of a reference). */
export function referenceScope(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Format back: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/**
 * What an artifact argument names. A full reference (`registry/repository[:tag][@digest]`: the
 * input contains a `/`) or, inside a repository the caller already holds (an OCI layout, a
 * repository object), a bare tag or digest (`v1`, `sha256:<hex>`, `@sha256:<hex>`).
 */
export interface ArtifactReference {
  /** The parsed reference, when the input named the repository. */
  reference?: Reference;
  /** What to resolve: the digest when one is named, else the tag. */
  target: string;
  /** The digest the input names (the resolved digest must equal it). */
  digest?: string;
  /** The tag the input names. */
  tag?: string;
}

/**
 * Split an artifact argument into what to resolve (the one splitter `sign`, `verify` and the
 * registry client share). An input containing `/` is parsed with {@link parseReference}
 * (`options` apply) and must name a tag or a digest; any other input is a tag or a digest,
 * with an optional leading `@`.
 *
 * @throws VouchError ERR_INVALID_REFERENCE for an empty input, an invalid reference or tag,
 *   or a reference without tag and digest; ERR_INVALID_DIGEST for a malformed bare digest.
 */
export function splitArtifactReference(input: string, options: ParseReferenceOptions = {}): ArtifactReference {
  if (typeof input !== 'string' || input === '') throw new VouchError('ERR_INVALID_REFERENCE', 'empty artifact reference');
  if (input.includes('/')) {
    const reference = parseReference(input, options);
    const target = reference.digest ?? reference.tag;
    if (target === undefined) {
      throw new VouchError('ERR_INVALID_REFERENCE', `reference "${input}" has no tag or digest: write ${input}@sha256:<digest>`);
    }
    const out: ArtifactReference = { reference, target };
    if (reference.digest !== undefined) out.digest = reference.digest;
    if (reference.tag !== undefined) out.tag = reference.tag;
    return out;
  }
  const bare = input.startsWith('@') ? input.slice(1) : input;
  if (bare.includes(':')) {
    parseDigest(bare);
    return { target: bare, digest: bare };
  }
  if (!TAG.test(bare)) throw new VouchError('ERR_INVALID_REFERENCE', `invalid tag "${bare}"`);
  return { target: bare, tag: bare };
}
