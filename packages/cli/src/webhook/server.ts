/**
 * The admission webhook behind `vouch webhook`: AdmissionReview v1 over HTTPS (node:https),
 * answered by @vouch/kyverno's `handleAdmissionReview` within a deadline below the API
 * server's webhook timeout, with health endpoints, bounded input, JSON decision logs, policy
 * and certificate reload, Prometheus metrics and graceful shutdown.
 */

import { setMaxListeners } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { dirname } from 'node:path';
import { isVouchError, VouchError, type VouchErrorCode } from '@vouch/core';
import {
  type AdmissionOptions,
  type AdmissionReview,
  createKyvernoEngine,
  createVerificationCache,
  type KyvernoEngine,
  type KyvernoEngineOptions,
  type KyvernoPolicy,
  type NotaryImageVerifier,
  type VerificationCache,
} from '@vouch/kyverno';
import { admissionAnswer, assertSupported, isInconclusive, policyFailurePolicy } from '@vouch/kyverno/internal';
import type { PolicySource } from '@vouch/node/controller';
import { goDurationMs } from '../duration.js';
import { loadPolicyDir } from '../kyverno/load.js';
import type { FailurePolicyReason, ReviewOutcome, WebhookMetrics } from './metrics.js';
import { checkTlsPair, loadTlsFiles, type TlsPair } from './tls.js';

/** Default deadline for answering one review (below Kubernetes' default webhook timeout of 10 s). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 8000;
/** Default cap on a request body: an AdmissionReview carries `object` and `oldObject` (etcd caps objects at ~1.5 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Default limit of reviews evaluated at once; more are answered by failurePolicy at once. */
export const DEFAULT_MAX_IN_FLIGHT = 1024;
/** Default time a client has to send a request's headers and body. */
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** Deepest JSON nesting accepted in a review (Kubernetes objects nest a few dozen levels). */
export const MAX_JSON_DEPTH = 1000;
/** Default limit of distinct images in one review (a Pod lists a handful). */
export const DEFAULT_MAX_IMAGES_PER_REVIEW = 200;
/** Longest `request.uid` accepted (Kubernetes UIDs have 36 characters). */
const MAX_UID_LENGTH = 256;

/** One structured log entry (printed as a JSON line by the CLI). */
export type WebhookLogEntry = { level: 'debug' | 'info' | 'warn' | 'error'; msg: string } & Record<string, unknown>;

/** PEM material given directly (never reloaded). */
export interface TlsMaterial {
  cert: string | Uint8Array;
  key: string | Uint8Array;
}

/** PEM files, re-read when they change on disk (cert-manager rotation). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Options of {@link startWebhookServer}. Exactly one of `policyDir`, `loadPolicies` and `policySource` is required. */
export interface WebhookServerOptions {
  /** Directory of ClusterPolicy/Policy YAML (read recursively; other kinds ignored). */
  policyDir?: string;
  /** Custom policy loader, instead of `policyDir`. */
  loadPolicies?: () => Promise<readonly KyvernoPolicy[]>;
  /**
   * Live policies, instead of `policyDir`: the cluster's ClusterPolicies and Policies
   * (`clusterPolicySource` of `@vouch/node/controller`). The server listens at once and is not
   * ready until the first complete read; each change is applied as a whole (`watch` is implied).
   * It fails closed: while a ClusterPolicy in the source cannot be used (invalid, or a construct
   * vouch does not evaluate) the server is not ready and answers every review by failurePolicy
   * `Fail`; a namespaced Policy that cannot be used does that for the reviews of its namespace only.
   * `close()` closes the source.
   */
  policySource?: PolicySource;
  /**
   * Reload the policies when `policyDir` changes (debounced); a failed reload keeps the previous
   * policies. With `watch`, a failed first load does not stop the server: it runs not ready until
   * a good set appears. Without it, a failed first load is thrown.
   */
  watch?: boolean;
  /** Accept a policy set with no policy (every request would be admitted). Default false: not ready. */
  allowEmptyPolicies?: boolean;
  /** The Notary verifier the engine calls (see `notationImageVerifier`). */
  verifier: NotaryImageVerifier;
  /** The serving certificate and key: PEM material, or files that are reloaded when they change. */
  tls: TlsMaterial | TlsFiles;
  /** How often the TLS files are checked for changes, in ms (default 10 s; file events also trigger a check). */
  tlsReloadIntervalMs?: number;
  /** Default 9443; 0 picks a free port. */
  port?: number;
  /** Default `0.0.0.0`. */
  address?: string;
  /**
   * Deadline for answering one review in ms (default 8000). When the API server passes its own
   * budget (`?timeout=10s`), the deadline is the smaller of this and 90% of that budget. Shortly
   * before it the review stops waiting for verification (the engine answers, applying each
   * policy's failurePolicy); at it, the review is answered by failurePolicy.
   */
  timeoutMs?: number;
  /** Request body cap in bytes (default 8 MiB); larger bodies get 413. */
  maxBodyBytes?: number;
  /** Time a client has to send the request headers and body, in ms (default 10 s); slower ones get 408. */
  readTimeoutMs?: number;
  /** Reviews evaluated at once (default 1024); more are answered by failurePolicy at once. */
  maxInFlight?: number;
  /**
   * Distinct images one review may carry (default 200): evaluation cost grows faster than the
   * image count, so a request with more is denied, never admitted.
   */
  maxImagesPerReview?: number;
  /** Engine options besides policies and verifier (cache, imageConfig, contextLoader, …). */
  engine?: Omit<KyvernoEngineOptions, 'policies' | 'verifier'>;
  /** Namespace labels and RBAC roles for match blocks (see `handleAdmissionReview`). */
  admission?: Omit<AdmissionOptions, 'signal'>;
  /** Structured log sink (decisions, reloads, errors); default: none. */
  log?: (entry: WebhookLogEntry) => void;
  /** Prometheus instruments (see `registerWebhookMetrics`); default: none. */
  metrics?: WebhookMetrics;
  /**
   * How long `close()` keeps serving after readiness turned false, so that endpoints stop routing
   * here before the listener closes (default 0).
   */
  shutdownDelayMs?: number;
  /**
   * How long `close()` lets in-flight reviews run once the listener closed (default `timeoutMs`);
   * those still running then are answered by failurePolicy.
   */
  shutdownTimeoutMs?: number;
}

/** Readiness and the state behind it. */
export interface WebhookStatus {
  ready: boolean;
  /** Why not ready, or what is wrong while still serving (a failed reload). */
  reason?: string;
  policies: number;
  /** Successful policy loads so far (the set in use is this generation). */
  generation: number;
  /** Error of the last policy load or reload when it failed. */
  lastLoadError?: string;
  /** Namespaces whose reviews are denied because a Policy there cannot be used (`policySource`), with the reason. */
  deniedNamespaces?: Record<string, string>;
  shuttingDown: boolean;
}

/** A running webhook server. */
export interface WebhookServer {
  /** Where it listens. */
  readonly address: { host: string; port: number; url: string };
  /** Resolves once a policy set is in use (at once when the first load succeeded). */
  readonly ready: Promise<void>;
  /** Whether a policy set is in use and the server is not shutting down. */
  isReady(): boolean;
  /** Readiness with its reason. */
  status(): WebhookStatus;
  /** Policies in use. */
  policies(): readonly KyvernoPolicy[];
  /** Reload policies now; on failure the previous policies stay in use and the error is thrown. */
  reload(): Promise<void>;
  /** Re-read the TLS files now (when given as files); on failure the previous pair stays and the error is thrown. */
  reloadTls(): Promise<void>;
  /** Reviews being answered right now. */
  inFlight(): number;
  /**
   * Turn readiness false, keep serving for `shutdownDelayMs`, stop accepting, let in-flight
   * reviews finish (bounded by `shutdownTimeoutMs`, then answered by failurePolicy), then close
   * every connection.
   */
  close(): Promise<void>;
}

const ADMISSION_PATHS = new Set(['/', '/mutate', '/validate']);
/** Width of a deadline group's window (see `deadlineGroup`), at most. */
const DEADLINE_WINDOW_MS = 8;

/** Metric label values of `request.operation` (anything else is `other`: labels stay few). */
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const KNOWN_PATHS = new Set([...ADMISSION_PATHS, '/healthz', '/livez', '/readyz']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The API server's budget for a review in ms: the Go duration of `timeout=` in the request's query
 * string (`timeout=10s`, `1m30s`, `500ms`); undefined when absent or invalid. The API server sends the
 * same query with every review, so the last one is remembered.
 */
export function apiServerBudgetMs(query: string): number | undefined {
  if (query === '') return undefined;
  if (query !== lastBudget.query) {
    const ms = goDurationMs(new URLSearchParams(query).get('timeout') ?? '');
    lastBudget = { query, ms: ms !== undefined && ms > 0 ? ms : undefined };
  }
  return lastBudget.ms;
}
let lastBudget: { query: string; ms: number | undefined } = { query: '', ms: undefined };

/** The deadline of one review: `timeoutMs`, or 90% of the API server's own budget when that is smaller. */
export function reviewDeadlineMs(timeoutMs: number, apiServerBudgetMs: number | undefined): number {
  if (apiServerBudgetMs === undefined) return timeoutMs;
  return Math.max(1, Math.min(timeoutMs, Math.floor(apiServerBudgetMs * 0.9)));
}

/** What {@link scanJson} found. */
export interface JsonScan {
  /** Nesting went deeper than the limit (the scan stopped there). */
  tooDeep: boolean;
  /** Strings equal to `image` (keys, mostly): an upper bound of the image fields. */
  imageStrings: number;
}

const IMAGE = [0x69, 0x6d, 0x61, 0x67, 0x65]; // "image"

/**
 * One pass over JSON text before anything is parsed: the nesting depth of arrays and objects
 * (strings skipped; stops once `maxDepth` is exceeded) and how many strings read `image`. Strings,
 * most of a Kubernetes object's bytes, are skipped with the native `indexOf` from quote to quote.
 */
export function scanJson(bytes: Uint8Array, maxDepth: number): JsonScan {
  let depth = 0;
  let images = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === 0x22) {
      // the closing quote: the next one not escaped (preceded by an odd run of backslashes)
      let end = bytes.indexOf(0x22, i + 1);
      while (end > 0 && escapedAt(bytes, end)) end = bytes.indexOf(0x22, end + 1);
      if (end < 0) break; // unterminated: JSON.parse says so
      const len = end - i - 1;
      // `image` as written, or maybe written with escapes (`\u0069mage`): counted, the bound stays an upper one
      if (len === 5 ? isImage(bytes, i + 1) : len > 5 && len <= 30 && hasBackslash(bytes, i + 1, end)) images++;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return { tooDeep: true, imageStrings: images };
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { tooDeep: false, imageStrings: images };
}

/** True when the byte at `at` is escaped: preceded by an odd number of backslashes. */
function escapedAt(bytes: Uint8Array, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && bytes[k] === 0x5c) k--;
  return (at - 1 - k) % 2 === 1;
}

function hasBackslash(bytes: Uint8Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (bytes[k] === 0x5c) return true;
  return false;
}

/**
 * {@link scanJson}'s answer without walking the text, for the common body that holds no backslash
 * (so no escapes: every string reads as written): fewer `{` and `[` than `maxDepth` cannot nest
 * deeper, and the strings reading `image` are the occurrences of `"image"`. Undefined when it cannot
 * tell (a backslash, or too many brackets): scan then.
 */
export function quickScan(text: string, maxDepth: number): JsonScan | undefined {
  if (text.includes('\\')) return undefined;
  let brackets = 0;
  for (const open of ['{', '[']) {
    for (let i = text.indexOf(open); i >= 0; i = text.indexOf(open, i + 1)) if (++brackets > maxDepth) return undefined;
  }
  let images = 0;
  for (let i = text.indexOf('"image"'); i >= 0; i = text.indexOf('"image"', i + 7)) images++;
  return { tooDeep: false, imageStrings: images };
}

function isImage(bytes: Uint8Array, at: number): boolean {
  for (let k = 0; k < 5; k++) if (bytes[at + k] !== IMAGE[k]) return false;
  return true;
}

const UTF8 = new TextDecoder();

/** A request body the webhook will evaluate. */
export interface DecodedReview {
  review: AdmissionReview & { request: NonNullable<AdmissionReview['request']> };
  /** Strings reading `image` in the body (see {@link scanJson}). */
  imageStrings: number;
}

/**
 * Decodes an AdmissionReview request body, refusing before evaluation what the webhook does not
 * evaluate: nesting deeper than {@link MAX_JSON_DEPTH}, invalid JSON, no `request`, a missing or
 * overlong `request.uid`, an `object`/`oldObject` that is not an object. Throws an Error saying why.
 */
export function decodeReview(body: Uint8Array): DecodedReview {
  const text = UTF8.decode(body);
  const scan = quickScan(text, MAX_JSON_DEPTH) ?? scanJson(body, MAX_JSON_DEPTH);
  if (scan.tooDeep) throw new Error(`JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  const review = JSON.parse(text) as AdmissionReview;
  if (
    review?.kind !== 'AdmissionReview' ||
    typeof review.request !== 'object' ||
    review.request === null ||
    Array.isArray(review.request)
  ) {
    throw new Error('expected an AdmissionReview (admission.k8s.io/v1) with a request');
  }
  const uid = review.request.uid as unknown;
  if (typeof uid !== 'string' || uid === '') throw new Error('request.uid must be a non-empty string');
  if (uid.length > MAX_UID_LENGTH) throw new Error(`request.uid is longer than ${MAX_UID_LENGTH} characters`);
  for (const field of ['object', 'oldObject'] as const) {
    const obj = review.request[field] as unknown;
    if (obj !== undefined && obj !== null && (typeof obj !== 'object' || Array.isArray(obj))) {
      throw new Error(`request.${field} must be an object`);
    }
  }
  return { review: review as DecodedReview['review'], imageStrings: scan.imageStrings };
}

/** Distinct string values of `image` fields anywhere in `value` (iterative). */
export function distinctImages(value: unknown): number {
  const seen = new Set<string>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'image' && typeof x === 'string') seen.add(x);
        else if (x !== null && typeof x === 'object') stack.push(x);
      }
    }
  }
  return seen.size;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const EMPTY_PATCH = '"patch":""';
/** Bytes of patch strings known to be base64 (answers served from the engine's memo repeat the same string; never written to). */
const base64Patches = new Map<string, Buffer>();

/**
 * The UTF-8 bytes of `JSON.stringify(review)`, in parts: a base64 `response.patch` (tens of KB; no
 * character JSON escapes) is the same bytes every time an answer repeats it, kept from the first
 * time, so a repeated patch is neither scanned by `JSON.stringify`, copied into the text, encoded
 * again nor copied into a new buffer per answer (the parts are written one after the other).
 */
export function answerParts(review: AdmissionReview): Buffer[] {
  const patch = review.response?.patch;
  if (typeof patch !== 'string' || patch.length < 1024) return [Buffer.from(JSON.stringify(review))];
  let bytes = base64Patches.get(patch);
  if (!bytes) {
    if (!BASE64.test(patch)) return [Buffer.from(JSON.stringify(review))];
    if (base64Patches.size >= 64) base64Patches.clear(); // bounded: it holds the strings
    bytes = Buffer.from(patch, 'latin1');
    base64Patches.set(patch, bytes);
  }
  const text = JSON.stringify({ ...review, response: { ...review.response, patch: '' } });
  const at = text.indexOf(EMPTY_PATCH);
  // only where the text holds that pair once (an audit annotation could be named `patch`)
  if (at < 0 || text.indexOf(EMPTY_PATCH, at + 1) >= 0) return [Buffer.from(JSON.stringify(review))];
  return [Buffer.from(text.slice(0, at + 9)), bytes, Buffer.from(text.slice(at + 9))];
}

const pemText = (v: string | Uint8Array): string => (typeof v === 'string' ? v : Buffer.from(v).toString('utf8'));

function failurePolicyOf(engine: KyvernoEngine | undefined): 'Fail' | 'Ignore' {
  if (!engine || engine.policies.length === 0) return 'Fail';
  return engine.policies.every((p) => policyFailurePolicy(p) === 'Ignore') ? 'Ignore' : 'Fail';
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A string field for logs, cut to a sane length (reviews can carry megabytes). */
function short(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v.length > 256 ? `${v.slice(0, 256)}…` : v;
}

const KIND_OF_KEY: Record<string, string> = { sig: 'signature', att: 'attestation', digest: 'digest' };

/** What a verification cache key checks, for messages: `the signature of IMAGE`. */
function subjectOfKey(key: string): string {
  const [kind, image] = key.split('|');
  if (kind === 'digest') return `the digest of ${image}`;
  if (kind === 'att') return `the attestations of ${image}`;
  return `the signature of ${image}`;
}

/**
 * Wraps the engine's cross-review verification cache so that (1) a review stops waiting when its
 * own deadline passes while the shared, single-flight verification goes on for the other reviews
 * waiting on it and fills the cache, and (2) every use is counted (hit, miss, coalesced) with its
 * result.
 */
function reviewAwareCache(base: VerificationCache, metrics: WebhookMetrics | undefined): VerificationCache {
  const count = (key: string, result: 'verified' | 'failed' | 'error', cache: 'hit' | 'miss' | 'coalesced') => {
    metrics?.tally.verification(KIND_OF_KEY[key.slice(0, key.indexOf('|'))] ?? 'other', result, cache);
  };
  const wrapped: VerificationCache = {
    get misses() {
      return base.misses;
    },
    clear: () => base.clear(),
    prime: (key, value) => base.prime(key, value),
    peek(key, useCache) {
      const hit = base.peek?.(key, useCache);
      if (hit) count(key, hit.ok ? 'verified' : 'failed', 'hit');
      return hit;
    },
    run<T>(key: string, fn: () => Promise<T>, options?: { useCache?: boolean; signal?: AbortSignal }): Promise<T> {
      const decided = metrics && options?.useCache !== false ? base.peek?.(key, true) : undefined;
      let ran = false;
      const p = base.run(
        key,
        () => {
          ran = true;
          return fn();
        },
        options,
      );
      if (metrics) {
        const how = ran ? 'miss' : decided ? 'hit' : 'coalesced';
        p.then(
          () => count(key, 'verified', how),
          (e: unknown) => count(key, isInconclusive(e) ? 'error' : 'failed', how),
        );
      }
      // the review's deadline (passed by the engine's per-review cache) stops this review's wait only
      const signal = options?.signal;
      if (!signal) return p;
      const stopped = () =>
        new VouchError(
          'ERR_TIMEOUT',
          `${isVouchError(signal.reason) ? signal.reason.message : 'the review was stopped'} before ${subjectOfKey(key)} was checked`,
          { cause: signal.reason },
        );
      if (signal.aborted) {
        p.catch(() => {});
        return Promise.reject(stopped());
      }
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(stopped());
        signal.addEventListener('abort', onAbort, { once: true });
        p.then(
          (v) => {
            signal.removeEventListener('abort', onAbort);
            resolve(v);
          },
          (e: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(e);
          },
        );
      });
    },
  };
  return wrapped;
}

/**
 * The verifier as the webhook calls it: verifications are shared by every review waiting on them
 * (single-flight), so they run under the server's lifetime, not under the signal of the review
 * that happened to start them (see {@link reviewAwareCache}).
 */
function sharedVerifier(inner: NotaryImageVerifier, lifetime: AbortSignal, capMs: number): NotaryImageVerifier {
  // a verification nobody waits for any more still ends: at shutdown, or after capMs
  const signal = () => AbortSignal.any([lifetime, AbortSignal.timeout(capMs)]);
  const v: NotaryImageVerifier = {
    verifyImage: (req) => inner.verifyImage({ ...req, signal: signal() }),
  };
  if (inner.verifyAttestations) {
    const att = inner.verifyAttestations.bind(inner);
    v.verifyAttestations = (req) => att({ ...req, signal: signal() });
  }
  if (inner.resolveDigest) {
    const resolve = inner.resolveDigest.bind(inner);
    v.resolveDigest = (image) => resolve(image, signal());
  }
  return v;
}

/** A policy set to serve: the policies, and namespaces whose reviews are denied (see {@link usablePolicies}). */
interface PolicySet {
  policies: readonly KyvernoPolicy[];
  blocked?: ReadonlyMap<string, string>;
}

/**
 * The policies of `source` the webhook can serve. Policies that cannot be used (invalid, or with a
 * construct vouch does not evaluate) fail closed: a ClusterPolicy makes the whole set unusable
 * (thrown: ERR_KYVERNO_POLICY_INVALID or ERR_UNSUPPORTED), a namespaced Policy blocks its namespace.
 */
function usablePolicies(source: PolicySource): PolicySet {
  const clusterWide: { code: VouchErrorCode; message: string }[] = [];
  const byNamespace = new Map<string, string[]>();
  const note = (namespace: string | undefined, code: VouchErrorCode, message: string) => {
    if (namespace) byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), message]);
    else clusterWide.push({ code, message });
  };
  for (const p of source.problems()) {
    const slash = p.policy.indexOf('/');
    note(slash > 0 ? p.policy.slice(0, slash) : undefined, p.error.code, p.error.message);
  }
  const policies: KyvernoPolicy[] = [];
  for (const p of source.current()) {
    try {
      assertSupported([p]);
      policies.push(p);
    } catch (e) {
      note(p.kind === 'Policy' ? p.metadata.namespace : undefined, isVouchError(e) ? e.code : 'ERR_UNSUPPORTED', messageOf(e));
    }
  }
  if (clusterWide.length > 0) {
    const n = clusterWide.length;
    throw new VouchError(
      clusterWide[0]!.code,
      `${n === 1 ? 'a ClusterPolicy' : `${n} ClusterPolicies`} in the cluster cannot be used, so no review is admitted until ${n === 1 ? 'it is' : 'they are'} fixed or deleted: ${clusterWide.map((c) => c.message).join('; ')}`,
      { details: { problems: clusterWide.map((c) => c.message) } },
    );
  }
  return { policies, blocked: new Map([...byNamespace].map(([ns, m]) => [ns, m.join('; ')])) };
}

interface Decision {
  review: AdmissionReview;
  outcome: ReviewOutcome;
  /** Set when failurePolicy answered. */
  reason?: FailurePolicyReason;
  timedOut: boolean;
}

/**
 * Starts the webhook: loads the policies (a directory or loader before listening; a
 * `policySource` after, not ready until its first read), listens on HTTPS, and serves
 * AdmissionReview v1 at `/mutate` (verify images, digest patch), `/validate` (same evaluation,
 * answered without a patch) and `/`, with `/healthz` (alive) and `/readyz` (a policy set is in use).
 * Throws ERR_INVALID_ARGUMENT for bad options, ERR_CONFIG_INVALID for an unusable TLS pair or an
 * empty policy set, the policy loader's error when the first load fails (without `watch`), and
 * ERR_IO when it cannot listen; a `policySource` is closed when it throws.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  try {
    return await start(options);
  } catch (e) {
    options?.policySource?.close();
    throw e;
  }
}

async function start(options: WebhookServerOptions): Promise<WebhookServer> {
  if (!options?.verifier || !options.tls) throw new VouchError('ERR_INVALID_ARGUMENT', 'startWebhookServer needs verifier and tls');
  if ([options.policyDir, options.loadPolicies, options.policySource].filter((x) => x !== undefined).length !== 1) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'startWebhookServer needs exactly one of policyDir, loadPolicies and policySource');
  }
  const positive = (name: string, v: number | undefined, fallback: number, zeroOk = false): number => {
    const n = v ?? fallback;
    if (!Number.isFinite(n) || n < 0 || (!zeroOk && n === 0))
      throw new VouchError('ERR_INVALID_ARGUMENT', `${name} must be ${zeroOk ? 'zero or positive' : 'positive'}, got ${v}`);
    return n;
  };
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_WEBHOOK_TIMEOUT_MS);
  const maxBody = positive('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const readTimeoutMs = positive('readTimeoutMs', options.readTimeoutMs, DEFAULT_READ_TIMEOUT_MS);
  const maxInFlight = positive('maxInFlight', options.maxInFlight, DEFAULT_MAX_IN_FLIGHT);
  const maxImages = positive('maxImagesPerReview', options.maxImagesPerReview, DEFAULT_MAX_IMAGES_PER_REVIEW);
  const shutdownDelayMs = positive('shutdownDelayMs', options.shutdownDelayMs, 0, true);
  const shutdownTimeoutMs = positive('shutdownTimeoutMs', options.shutdownTimeoutMs, timeoutMs, true);
  const tlsReloadIntervalMs = positive('tlsReloadIntervalMs', options.tlsReloadIntervalMs, 10_000, true);
  const log = options.log ?? (() => {});
  const metrics = options.metrics;
  const source = options.policySource;
  const load: () => Promise<PolicySet> = source
    ? async () => usablePolicies(source)
    : async () => ({ policies: await (options.loadPolicies ?? (() => loadPolicyDir(options.policyDir!)))() });
  const policyOrigin = source ? 'the cluster' : (options.policyDir ?? 'the policy source');
  const tlsFiles = 'certFile' in options.tls ? options.tls : undefined;
  const lifetime = new AbortController();
  const verifier = sharedVerifier(options.verifier, lifetime.signal, Math.max(4 * timeoutMs, 30_000));

  // 1. TLS: checked before anything else, so that a bad pair is reported naming its files
  let tlsPair: TlsPair = tlsFiles
    ? await loadTlsFiles(tlsFiles.certFile, tlsFiles.keyFile)
    : checkTlsPair(pemText((options.tls as TlsMaterial).cert), pemText((options.tls as TlsMaterial).key), {
        cert: 'tls.cert',
        key: 'tls.key',
      });
  metrics?.tlsCertificateExpiry.set(Math.floor(tlsPair.notAfter.getTime() / 1000));

  // One verification cache for the server's lifetime, shared by every policy set: its keys name the
  // image and the attestor material (certificates, keys, trust policy), so a reload keeps what is valid.
  const cacheOption = options.engine?.cache;
  const verificationCache = reviewAwareCache(
    typeof cacheOption === 'object' && cacheOption !== null && 'run' in cacheOption
      ? cacheOption
      : createVerificationCache(cacheOption === false ? { ttlMs: 0, negativeTtlMs: 0 } : (cacheOption ?? {})),
    metrics,
  );

  // 2. policies: loaded before listening
  let engine: KyvernoEngine | undefined;
  /** Namespaces whose reviews are answered by failurePolicy Fail: a Policy there cannot be used (policySource only). */
  let blocked: ReadonlyMap<string, string> = new Map();
  let generation = 0;
  let lastLoadError: string | undefined;
  let closing = false;
  let stopping = false;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const readyNow = () => engine !== undefined && !closing;
  const updateReadyGauge = () => metrics?.ready.set(readyNow() ? 1 : 0);

  async function loadOnce(): Promise<void> {
    let policies: readonly KyvernoPolicy[];
    let nextBlocked: ReadonlyMap<string, string>;
    let created: KyvernoEngine;
    try {
      ({ policies, blocked: nextBlocked = new Map() } = await load());
      if (policies.length === 0 && !options.allowEmptyPolicies) {
        throw new VouchError(
          'ERR_CONFIG_INVALID',
          `no ClusterPolicy or Policy was found in ${policyOrigin}: with no policy every request would be admitted, so the webhook does not serve; ${source ? 'create the policies (kind ClusterPolicy or Policy, kyverno.io/v1)' : 'add the policies (YAML files with kind ClusterPolicy or Policy)'}`,
          { details: { path: policyOrigin } },
        );
      }
      // refuses a policy with a construct vouch does not evaluate (ERR_UNSUPPORTED): not served either
      created = createKyvernoEngine({ ...(options.engine ?? {}), policies, verifier, cache: verificationCache });
    } catch (e) {
      lastLoadError = messageOf(e);
      metrics?.policyLoads.inc({ result: 'error' });
      metrics?.policyLastLoadSuccess.set(0);
      if (source && engine) {
        // the cluster's policies are what is enforced: one that cannot be used fails closed, not the previous set
        engine = undefined;
        blocked = new Map();
        metrics?.policies.set(0);
        updateReadyGauge();
      }
      throw e;
    }
    engine = created;
    blocked = nextBlocked;
    generation++;
    lastLoadError = undefined;
    metrics?.policyLoads.inc({ result: 'success' });
    metrics?.policyLastLoadSuccess.set(1);
    metrics?.policySetGeneration.set(generation);
    metrics?.policies.set(policies.length);
    updateReadyGauge();
    markReady();
    log({
      level: 'info',
      msg: 'policies loaded',
      generation,
      count: policies.length,
      policies: policies.map((p) => (p.metadata.namespace ? `${p.metadata.namespace}/${p.metadata.name}` : p.metadata.name)),
    });
    for (const [namespace, why] of blocked) {
      log({ level: 'error', msg: 'a Policy cannot be used: reviews in its namespace are denied until it is fixed', namespace, error: why });
    }
  }

  // reloads run one at a time; a change during a reload schedules one more
  let reloading: Promise<void> | undefined;
  let again = false;
  function reload(): Promise<void> {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        do {
          again = false;
          await loadOnce();
        } while (again);
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  }

  if (source) {
    // read from the cluster: listen at once, not ready until the first complete read (wired after listening)
    lastLoadError = 'reading the policies from the cluster';
  } else {
    try {
      await loadOnce();
    } catch (e) {
      log({
        level: 'error',
        msg: options.watch
          ? 'policies could not be loaded; not ready until the policy directory holds a valid set'
          : 'policies could not be loaded; not serving',
        error: messageOf(e),
        code: isVouchError(e) ? e.code : undefined,
      });
      if (!options.watch) throw e;
    }
  }
  updateReadyGauge();

  // 3. the HTTPS server
  const inflight = new Set<Promise<unknown>>();
  const forceAnswers = new Set<(reason: string) => void>();
  let reviewsInFlight = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer(
    {
      cert: tlsPair.cert,
      key: tlsPair.key,
      minVersion: 'TLSv1.2',
      handshakeTimeout: readTimeoutMs,
      requestTimeout: readTimeoutMs,
      headersTimeout: readTimeoutMs,
      keepAliveTimeout: 30_000,
      connectionsCheckingInterval: Math.min(1000, readTimeoutMs),
    },
    onRequest,
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (e) => log({ level: 'warn', msg: 'TLS handshake failed', error: e.message }));
  // `Expect: 100-continue`: refuse an oversized body before the client sends it
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    if (ADMISSION_PATHS.has(path) && Number.isFinite(declared) && declared > maxBody) {
      const message = `request body of ${declared} bytes exceeds the limit of ${maxBody} bytes`;
      log({ level: 'warn', msg: 'bad request', path, status: 413, error: message });
      send(res, 413, { error: message }, { close: true, path });
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const p = handle(req, res).catch((e) => {
      log({ level: 'error', msg: 'request failed', error: messageOf(e) });
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  }

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    o: { close?: boolean; path?: string; extraHeaders?: Record<string, string> } = {},
  ): void {
    // text, JSON of a value, or the parts of a JSON answer (answerParts), written one after the other
    const parts = Array.isArray(body) ? (body as Uint8Array[]) : [typeof body === 'string' ? body : JSON.stringify(body)];
    let length = 0;
    for (const p of parts) length += typeof p === 'string' ? Buffer.byteLength(p) : p.length;
    const headers: Record<string, string | number> = {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'content-length': length,
      ...(o.extraHeaders ?? {}),
    };
    if (stopping || o.close) headers.connection = 'close';
    res.writeHead(status, headers);
    for (let i = 0; i < parts.length - 1; i++) res.write(parts[i]);
    res.end(parts[parts.length - 1]);
    if (metrics) {
      const path = o.path ?? new URL(res.req?.url ?? '/', 'https://webhook').pathname;
      metrics.tally.httpRequest(KNOWN_PATHS.has(path) ? path : 'other', status);
    }
  }

  /**
   * After an early 413, read and discard the rest of the body (bounded in bytes and time) so that
   * the client, still writing, gets to read the answer instead of a connection reset.
   */
  function discardRest(req: IncomingMessage): void {
    if (req.complete) return;
    const cap = Math.max(4 * maxBody, 64 * 1024 * 1024);
    let n = 0;
    const timer = setTimeout(() => req.socket.destroy(), readTimeoutMs);
    timer.unref();
    const done = () => clearTimeout(timer);
    req.on('data', (c: Uint8Array) => {
      n += c.length;
      if (n > cap) {
        done();
        req.socket.destroy();
      }
    });
    req.once('end', done);
    req.once('close', done);
    req.resume();
  }

  function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      const onData = (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          failed = true;
          req.off('data', onData);
          chunks.length = 0;
          reject(new HttpError(413, `request body exceeds the limit of ${maxBody} bytes`));
          return;
        }
        chunks.push(c);
      };
      req.on('data', onData);
      req.on('end', () => {
        if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      });
      req.on('error', (e) => {
        if (!failed) reject(e);
      });
    });
  }

  function status(): WebhookStatus {
    const ready = readyNow();
    const policies = engine?.policies.length ?? 0;
    let reason: string | undefined;
    if (closing) reason = 'shutting down';
    else if (!engine) reason = `policies are not loaded: ${lastLoadError ?? 'loading'}`;
    else if (lastLoadError) reason = `serving policy set ${generation}; the last reload failed and was not applied: ${lastLoadError}`;
    else if (blocked.size > 0) {
      reason = `serving policy set ${generation}; reviews in namespace ${[...blocked.keys()].join(', ')} are denied: ${[...blocked.values()].join('; ')}`;
    }
    return {
      ready,
      ...(reason ? { reason } : {}),
      policies,
      generation,
      ...(lastLoadError ? { lastLoadError } : {}),
      ...(blocked.size > 0 ? { deniedNamespaces: Object.fromEntries(blocked) } : {}),
      shuttingDown: closing,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const plainPath = q < 0 ? target : target.slice(0, q);
    // an admission path as the API server writes it (`/mutate?timeout=10s`) needs no URL parser
    const url = ADMISSION_PATHS.has(plainPath) ? undefined : new URL(target, 'https://webhook');
    const method = req.method ?? 'GET';
    const path = url ? url.pathname : plainPath;
    if (path === '/healthz' || path === '/livez') return send(res, 200, 'ok', { path });
    if (url && path === '/readyz') {
      const s = status();
      if (url.searchParams.has('verbose') || (req.headers.accept ?? '').includes('application/json')) {
        return send(res, s.ready ? 200 : 503, s, { path });
      }
      const text = s.ready
        ? `ok: ${s.policies} polic${s.policies === 1 ? 'y' : 'ies'}, set ${s.generation}${s.reason ? ` (${s.reason})` : ''}\n`
        : `not ready: ${s.reason}\n`;
      return send(res, s.ready ? 200 : 503, text, { path });
    }
    if (!ADMISSION_PATHS.has(path)) return send(res, 404, { error: `no such endpoint ${path}` }, { path });
    if (method !== 'POST') {
      return send(
        res,
        405,
        { error: `${method} is not allowed on ${path}: POST an AdmissionReview` },
        { path, extraHeaders: { allow: 'POST' } },
      );
    }
    const started = performance.now();
    const ctype = String(req.headers['content-type'] ?? 'application/json');
    let body: Buffer;
    try {
      if (!/^application\/(json|[\w.+-]*\+json)\b/i.test(ctype)) throw new HttpError(415, `content type ${ctype} is not JSON`);
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      if (Number.isFinite(declared) && declared > maxBody) {
        throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${maxBody} bytes`);
      }
      body = await readBody(req);
    } catch (e) {
      const code = e instanceof HttpError ? e.status : 400;
      log({ level: 'warn', msg: 'bad request', path, status: code, error: messageOf(e) });
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      const drainable = !Number.isFinite(declared) || declared <= Math.max(4 * maxBody, 64 * 1024 * 1024);
      send(res, code, { error: messageOf(e) }, { path, close: !drainable });
      if (drainable) discardRest(req);
      return;
    }
    let decoded: DecodedReview;
    try {
      decoded = decodeReview(body);
    } catch (e) {
      log({ level: 'warn', msg: 'bad request', path, status: 400, error: messageOf(e) });
      metrics?.reviewDuration.observe(
        { webhook: path, operation: 'unknown', outcome: 'rejected_input' },
        (performance.now() - started) / 1000,
      );
      return send(res, 400, { error: `malformed AdmissionReview: ${messageOf(e)}` }, { path });
    }
    const review = decoded.review;
    const r = review.request!;
    const deadline = reviewDeadlineMs(timeoutMs, apiServerBudgetMs(url ? url.search.slice(1) : q < 0 ? '' : target.slice(q + 1)));
    const images = decoded.imageStrings > maxImages ? distinctImages(r.object) : 0;
    let answer: Decision;
    if (images > maxImages) {
      answer = refuse(review, `the object lists ${images} distinct images; vouch evaluates at most ${maxImages} per request`);
    } else {
      const d = decide(review, engine, deadline);
      answer = d instanceof Promise ? await d : d;
    }
    const out = answer.review;
    if (path === '/validate' && out.response) {
      delete out.response.patch;
      delete out.response.patchType;
    }
    send(res, 200, answerParts(out), { path });
    const seconds = (performance.now() - started) / 1000;
    const operation = OPERATIONS.has(r.operation as string) ? (r.operation as string) : 'other';
    metrics?.reviewDuration.observe({ webhook: path, operation, outcome: answer.outcome }, seconds);
    // one entry per review: fields set in a fixed order (no spreads), the optional ones only when they apply
    const entry: WebhookLogEntry = {
      level: 'info',
      msg: 'admission decision',
      path,
      uid: r.uid,
      operation: short(r.operation),
      kind: short(r.kind?.kind ?? (r.object as { kind?: string } | null | undefined)?.kind),
      namespace: short(r.namespace),
      name: short(r.name || (r.object as { metadata?: { name?: string } } | null | undefined)?.metadata?.name),
      allowed: out.response?.allowed,
      patched: !!out.response?.patch,
      warnings: out.response?.warnings?.length ?? 0,
    };
    if (!out.response?.allowed) entry.message = out.response?.status?.message;
    if (answer.reason) entry.failurePolicy = answer.reason;
    if (answer.timedOut) {
      entry.timedOut = true;
      entry.deadlineMs = deadline;
    }
    entry.durationMs = Math.round(seconds * 1e4) / 10;
    entry.policySet = generation;
    log(entry);
  }

  /** A request vouch will not evaluate: denied whatever the failurePolicy (fail closed). */
  function refuse(review: AdmissionReview, why: string): Decision {
    return {
      review: {
        apiVersion: review.apiVersion || 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid: review.request!.uid,
          allowed: false,
          status: { status: 'Failure', message: `vouch does not admit the request: ${why}`, code: 400 },
        },
      },
      outcome: 'rejected_input',
      timedOut: false,
    };
  }

  /**
   * Deadline groups: the reviews whose moment to stop waiting falls in the same window of a few
   * milliseconds (with the same deadline) share one AbortController and one timer. A warm review never
   * waits, so it costs a map lookup instead of a controller and timers of its own; the window only
   * ever brings a review's stop earlier, by less than its width.
   */
  const deadlineGroups = new Map<string, AbortController>();
  function deadlineGroup(deadlineMs: number): AbortController {
    // stop waiting on verification a little before the deadline so the engine answers with its own messages
    const grace = Math.min(250, Math.floor(deadlineMs / 5));
    const width = Math.max(1, Math.min(DEADLINE_WINDOW_MS, Math.floor(deadlineMs / 20)));
    const now = performance.now();
    const at = Math.floor((now + deadlineMs - grace) / width) * width;
    const key = `${at}|${deadlineMs}`;
    const known = deadlineGroups.get(key);
    if (known) return known;
    const group = new AbortController();
    setMaxListeners(0, group.signal); // every review of the group may wait on it
    deadlineGroups.set(key, group);
    const timer = setTimeout(
      () => {
        deadlineGroups.delete(key);
        group.abort(new VouchError('ERR_TIMEOUT', `the review deadline of ${deadlineMs} ms was reached`));
      },
      Math.max(0, at - now),
    );
    timer.unref();
    return group;
  }

  /**
   * Evaluate within `deadlineMs`: waiting on verification stops shortly before it; at it, failurePolicy
   * answers. A warm review (nothing to wait for) is answered synchronously.
   */
  function decide(review: AdmissionReview, current: KyvernoEngine | undefined, deadlineMs: number): Decision | Promise<Decision> {
    if (!current)
      return byFailurePolicy(review, current, 'not_ready', `no policy set is in use (${lastLoadError ?? 'policies are loading'})`);
    const unusable = review.request!.namespace ? blocked.get(review.request!.namespace) : undefined;
    // the policy that cannot be used may have said Ignore or Fail: vouch cannot tell, so it fails closed
    if (unusable) {
      return byFailurePolicy(
        review,
        current,
        'policy_unusable',
        `a Policy in namespace ${review.request!.namespace} cannot be used: ${unusable}`,
        'Fail',
      );
    }
    if (reviewsInFlight >= maxInFlight) {
      return byFailurePolicy(review, current, 'overloaded', `${reviewsInFlight} reviews are being evaluated, the limit of this replica`);
    }
    reviewsInFlight++;
    metrics?.reviewsInFlight.inc();
    let waiting = false;
    try {
      const group = deadlineGroup(deadlineMs);
      const answer = admissionAnswer(review, current, { ...(options.admission ?? {}), signal: group.signal });
      if (!(answer instanceof Promise)) return decided(answer, group.signal.aborted);
      waiting = true;
      return waitForAnswer(answer, review, current, deadlineMs, group);
    } catch (e) {
      return internalError(review, e);
    } finally {
      if (!waiting) {
        reviewsInFlight--;
        metrics?.reviewsInFlight.dec();
      }
    }
  }

  /** The rest of {@link decide} for a review that waits (on verification): raced against its deadline and shutdown. */
  async function waitForAnswer(
    work: Promise<AdmissionReview>,
    review: AdmissionReview,
    current: KyvernoEngine,
    deadlineMs: number,
    group: AbortController,
  ): Promise<Decision> {
    work.catch(() => {});
    let hardTimer: ReturnType<typeof setTimeout> | undefined;
    let force: ((reason: string) => void) | undefined;
    const stop = new Promise<{ stop: 'deadline' | 'shutdown'; why: string }>((resolve) => {
      hardTimer = setTimeout(() => resolve({ stop: 'deadline', why: `the review deadline of ${deadlineMs} ms was reached` }), deadlineMs);
      force = (why) => resolve({ stop: 'shutdown', why });
      forceAnswers.add(force);
    });
    try {
      const r = await Promise.race([work, stop]);
      if ('stop' in r) {
        // the group's reviews share this deadline (a shutdown stops every group in close())
        if (r.stop === 'deadline') group.abort(new VouchError('ERR_TIMEOUT', r.why));
        return byFailurePolicy(review, current, r.stop, r.why);
      }
      return decided(r, group.signal.aborted);
    } catch (e) {
      return internalError(review, e);
    } finally {
      clearTimeout(hardTimer);
      if (force) forceAnswers.delete(force);
      reviewsInFlight--;
      metrics?.reviewsInFlight.dec();
    }
  }

  function decided(r: AdmissionReview, timedOut: boolean): Decision {
    return { review: r, outcome: r.response?.allowed === true ? 'allowed' : 'denied', timedOut };
  }

  function byFailurePolicy(
    review: AdmissionReview,
    current: KyvernoEngine | undefined,
    reason: FailurePolicyReason,
    why: string,
    fp = failurePolicyOf(current),
  ): Decision {
    const uid = review.request!.uid;
    metrics?.failurePolicyDecisions.inc({ failure_policy: fp, reason });
    const message = `vouch could not evaluate the request: ${why} (failurePolicy ${fp})`;
    return {
      review: {
        apiVersion: review.apiVersion || 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response:
          fp === 'Ignore' ? { uid, allowed: true, warnings: [message] } : { uid, allowed: false, status: { status: 'Failure', message } },
      },
      outcome: fp === 'Ignore' ? 'failure_policy_allowed' : 'failure_policy_denied',
      reason,
      timedOut: reason === 'deadline',
    };
  }

  /** Not an infrastructure error: a bug or input vouch cannot handle; never admitted. */
  function internalError(review: AdmissionReview, e: unknown): Decision {
    const uid = review.request!.uid;
    log({ level: 'error', msg: 'review failed', uid, error: messageOf(e) });
    metrics?.failurePolicyDecisions.inc({ failure_policy: 'Fail', reason: 'internal_error' });
    return {
      review: {
        apiVersion: review.apiVersion || 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid,
          allowed: false,
          status: { status: 'Failure', message: `vouch could not evaluate the request and does not admit it: ${messageOf(e)}` },
        },
      },
      outcome: 'denied',
      reason: 'internal_error',
      timedOut: false,
    };
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) =>
      reject(
        new VouchError('ERR_IO', `cannot listen on ${options.address ?? '0.0.0.0'}:${options.port ?? 9443}: ${e.message}`, { cause: e }),
      );
    server.once('error', onError);
    server.listen(options.port ?? 9443, options.address ?? '0.0.0.0', () => {
      server.off('error', onError);
      resolve();
    });
  }).catch((e) => {
    lifetime.abort();
    throw e;
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const address = { host: addr.address, port: addr.port, url: `https://${host}:${addr.port}` };
  log({
    level: 'info',
    msg: 'listening',
    address: address.url,
    ready: readyNow(),
    policies: engine?.policies.length ?? 0,
    timeoutMs,
    maxBodyBytes: maxBody,
    certificate: { subject: tlsPair.subject, notAfter: tlsPair.notAfter.toISOString() },
  });

  /**
   * Applies the policies once the current turn of the event loop is over: the events of one change
   * (the set changed and its problems changed) make one reload, not one each.
   */
  let reapplyScheduled = false;
  function scheduleReapply(): void {
    if (reapplyScheduled) return;
    reapplyScheduled = true;
    setImmediate(() => {
      reapplyScheduled = false;
      if (!closing) reapply();
    });
  }

  /** Applies the policies now; a failure is logged (the directory keeps the previous set, the cluster fails closed). */
  function reapply(): void {
    const had = engine !== undefined;
    reload().catch((e) =>
      log({
        level: 'error',
        msg: source
          ? "the cluster's policies cannot be served; not ready until they can"
          : had
            ? 'policy reload failed; keeping the previous policies'
            : 'policies could not be loaded; still not ready',
        error: messageOf(e),
        code: isVouchError(e) ? e.code : undefined,
        policySet: generation,
      }),
    );
  }

  // policies from the cluster: the first complete read, then every change (the source debounces)
  const unsubscribe: (() => void)[] = [];
  if (source) {
    unsubscribe.push(
      source.onChange(() => scheduleReapply()),
      source.onProblems(() => scheduleReapply()),
      source.onError((e) => log({ level: 'warn', msg: 'policy source', error: e.message, code: e.code })),
    );
    source.ready.then(
      () => {
        if (!closing) reapply();
      },
      (e: unknown) => {
        if (engine) return;
        lastLoadError = `cannot read the policies from the cluster (retrying): ${messageOf(e)}`;
        metrics?.policyLoads.inc({ result: 'error' });
        metrics?.policyLastLoadSuccess.set(0);
        log({
          level: 'error',
          msg: 'policies could not be read from the cluster; not ready, retrying',
          error: messageOf(e),
          code: isVouchError(e) ? e.code : undefined,
        });
      },
    );
  }

  // policy directory watch
  let watcher: FSWatcher | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  if (options.watch && options.policyDir) {
    try {
      watcher = watch(options.policyDir, { recursive: true }, () => {
        clearTimeout(debounce);
        debounce = setTimeout(reapply, 200);
      });
      watcher.on('error', (e) => log({ level: 'warn', msg: 'policy directory watch failed', error: e.message }));
    } catch (e) {
      log({ level: 'warn', msg: 'cannot watch the policy directory', error: messageOf(e) });
    }
  }

  // TLS files: checked on file events and every tlsReloadIntervalMs; a bad pair keeps the current one
  let lastTlsText = `${tlsPair.cert}\u0000${tlsPair.key}`;
  let lastBadTlsText: string | undefined;
  let tlsChecking: Promise<void> | undefined;
  async function checkTls(explicit: boolean): Promise<void> {
    if (!tlsFiles) return;
    let pair: TlsPair;
    try {
      pair = await loadTlsFiles(tlsFiles.certFile, tlsFiles.keyFile);
    } catch (e) {
      // report a given bad state once, not at every check
      const text = (await Promise.all([tlsFiles.certFile, tlsFiles.keyFile].map((f) => readFile(f, 'utf8').catch(() => '')))).join(
        '\u0000',
      );
      if (explicit || text !== lastBadTlsText) {
        lastBadTlsText = text;
        metrics?.tlsReloads.inc({ result: 'error' });
        log({
          level: 'error',
          msg: 'TLS certificate reload failed; the previous certificate stays in use',
          error: messageOf(e),
          certFile: tlsFiles.certFile,
          keyFile: tlsFiles.keyFile,
        });
      }
      if (explicit) throw e;
      return;
    }
    const text = `${pair.cert}\u0000${pair.key}`;
    if (text === lastTlsText) return;
    server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
    tlsPair = pair;
    lastTlsText = text;
    lastBadTlsText = undefined;
    metrics?.tlsReloads.inc({ result: 'success' });
    metrics?.tlsCertificateExpiry.set(Math.floor(pair.notAfter.getTime() / 1000));
    log({ level: 'info', msg: 'TLS certificate reloaded', subject: pair.subject, notAfter: pair.notAfter.toISOString() });
  }
  function reloadTls(explicit = false): Promise<void> {
    if (tlsChecking) return explicit ? tlsChecking.then(() => checkTls(true)) : tlsChecking;
    tlsChecking = checkTls(explicit).finally(() => {
      tlsChecking = undefined;
    });
    return tlsChecking;
  }
  const tlsWatchers: FSWatcher[] = [];
  let tlsDebounce: ReturnType<typeof setTimeout> | undefined;
  let tlsInterval: ReturnType<typeof setInterval> | undefined;
  if (tlsFiles) {
    const onChange = () => {
      clearTimeout(tlsDebounce);
      tlsDebounce = setTimeout(() => void reloadTls().catch(() => {}), 100);
    };
    // kubelet swaps a mounted Secret by renaming a directory symlink: watch the directories
    for (const dir of new Set([dirname(tlsFiles.certFile), dirname(tlsFiles.keyFile)])) {
      try {
        const w = watch(dir, onChange);
        w.on('error', () => {});
        tlsWatchers.push(w);
      } catch {
        // polling below still notices changes
      }
    }
    if (tlsReloadIntervalMs > 0) {
      tlsInterval = setInterval(() => void reloadTls().catch(() => {}), tlsReloadIntervalMs);
      tlsInterval.unref();
    }
  }

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= (async () => {
      closing = true;
      updateReadyGauge();
      watcher?.close();
      for (const u of unsubscribe) u();
      source?.close();
      clearTimeout(debounce);
      for (const w of tlsWatchers) w.close();
      clearTimeout(tlsDebounce);
      clearInterval(tlsInterval);
      log({ level: 'info', msg: 'not ready: shutting down', inFlight: reviewsInFlight, shutdownDelayMs });
      if (shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, shutdownDelayMs));
      stopping = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        Promise.allSettled([...inflight]).then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), shutdownTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      let forced = 0;
      if (!drained) {
        // answer what is still being evaluated by failurePolicy, then let those answers go out
        for (const f of [...forceAnswers]) {
          forced++;
          f(`the webhook is shutting down and the review did not finish within ${shutdownTimeoutMs} ms`);
        }
        await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 1000))]);
      }
      for (const group of deadlineGroups.values()) group.abort(new VouchError('ERR_TIMEOUT', 'the webhook is shutting down'));
      deadlineGroups.clear();
      lifetime.abort(new VouchError('ERR_ABORTED', 'the webhook is shutting down'));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await serverClosed;
      log({ level: 'info', msg: 'stopped', drained, answeredByFailurePolicy: forced });
    })();
    return closed;
  }

  return {
    address,
    ready,
    isReady: readyNow,
    status,
    policies: () => engine?.policies ?? [],
    reload,
    reloadTls: () => reloadTls(true),
    inFlight: () => reviewsInFlight,
    close,
  };
}
