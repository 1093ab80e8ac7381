/**
 * A Kubernetes API server fake for tests, written from the API conventions for the resources vouch's
 * controller uses (pods and pod controllers, Kyverno policies, wgpolicyk8s.io reports, Leases):
 *
 * - discovery (`/version`, `/api`, `/apis`, APIResourceLists) so that the official client and kubectl work;
 * - one global, monotonically increasing resourceVersion (etcd's revision); list snapshots at a
 *   resourceVersion, paginated with `limit`/`continue`; `410 Gone` (reason Expired) for a continue token or a
 *   watch resourceVersion older than the compacted history;
 * - watch streams (`?watch=true`) from a resourceVersion, with `ADDED`/`MODIFIED`/`DELETED` events,
 *   `BOOKMARK` events when `allowWatchBookmarks` is set, `timeoutSeconds`, and an `ERROR` event carrying
 *   a 410 Status for a compacted resourceVersion;
 * - create (409 AlreadyExists, generateName), replace with optimistic concurrency (409 Conflict on a stale
 *   `metadata.resourceVersion`), JSON merge / JSON patch, delete with preconditions;
 * - garbage collection of dependents by `ownerReferences` (background and orphan propagation), including
 *   objects created with owners that no longer exist;
 * - bearer-token authentication, and hooks for tests: history compaction, closing every watch, request
 *   records, injected failures.
 *
 * Leases get no special treatment, exactly as in Kubernetes: leader election is the clients' protocol on
 * top of optimistic concurrency. HTTPS on 127.0.0.1 with a self-signed certificate for 127.0.0.1/localhost.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { encodePem } from '@vouch/core';
import { createCertificate, exportPrivateKeyPkcs8, generateKeyPair } from '@vouch/x509';
import { jsonPatch, mergePatch } from './patch.js';
import { groupVersion, RESOURCE_TYPES, type ResourceType, resourceId } from './resources.js';
import { parseSelector, type Selector, selectableFields } from './selectors.js';

/** A stored Kubernetes object. */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
};

/** Options of {@link startFakeApiServer}. */
export interface FakeApiServerOptions {
  /** Serve HTTPS (default) or plain HTTP. */
  tls?: boolean;
  /** Bearer token clients must send (default: a random one); `null` turns authentication off. */
  token?: string | null;
  /** How often a watch with `allowWatchBookmarks` gets a BOOKMARK (default 1000 ms; Kubernetes: about a minute). */
  bookmarkIntervalMs?: number;
  /** Longest a watch stays open when the client sets no `timeoutSeconds` (default 5 minutes). */
  maxWatchMs?: number;
  /** Events kept for watches and consistent pagination; older ones are compacted away (default 200,000). */
  maxHistory?: number;
  /** Delay before the garbage collector deletes dependents (default 0: on the next tick). */
  gcDelayMs?: number;
  /** Reported by `/version` (default 1.32; kubectl's dispatcher picks its matching minor). */
  version?: { major: string; minor: string };
}

/** One request the server answered. */
export interface RequestRecord {
  time: number;
  method: string;
  path: string;
  query: string;
  /** list, watch, get, create, update, patch, delete, discovery, … */
  verb: string;
  /** `plural.group` (`pods`, `leases.coordination.k8s.io`) or '' for discovery. */
  resource: string;
  namespace?: string;
  name?: string;
  status: number;
  userAgent?: string;
}

/** What a test's interceptor sees, and may answer instead of the server. */
export interface InterceptedRequest {
  method: string;
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
}

/** A running fake API server. */
export interface FakeApiServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The bearer token, or undefined when authentication is off. */
  readonly token: string | undefined;
  /** PEM of the self-signed serving certificate (the CA to trust); undefined over HTTP. */
  readonly caPem: string | undefined;
  /** A kubeconfig (YAML) for this server: cluster `fake`, user `fake` with the token, context `fake`. */
  kubeconfig(options?: { namespace?: string }): string;
  /** Every request answered so far. */
  readonly requests: RequestRecord[];
  /** Set to answer (or delay) requests instead of the server: return a status to fail the request with. */
  intercept:
    | ((
        req: InterceptedRequest,
      ) => { status: number; message?: string } | undefined | Promise<{ status: number; message?: string } | undefined>)
    | undefined;
  /** The current (latest) resourceVersion. */
  resourceVersion(): number;
  /** Drops history up to `rv` (default: everything): older continue tokens and watch resourceVersions get 410 Gone. */
  compact(rv?: number): void;
  /** Ends every open watch stream (as an API server restart or a proxy idle timeout would). */
  closeWatches(): void;
  /** Number of open watch streams. */
  openWatches(): number;
  /** In-process writes (no HTTP), with the same resourceVersions, events and garbage collection as the API. */
  create(obj: KubeObject): KubeObject;
  /** Create, or replace whatever is stored under the same name (unconditionally). */
  apply(obj: KubeObject): KubeObject;
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  /** Resolves once pending garbage collection has run. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

interface TypeStore {
  type: ResourceType;
  objects: Map<string, KubeObject>;
  /** Keys (`namespace/name`) in sorted order, for pagination. */
  keys: string[];
}

interface StoredEvent {
  rv: number;
  rid: string;
  key: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  prev?: KubeObject;
}

interface Watcher {
  rid: string;
  namespace?: string;
  labels: Selector;
  fields: Selector;
  send(type: string, object: unknown): void;
  end(): void;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function selfSigned(): Promise<{ cert: string; key: string }> {
  const kp = await generateKeyPair('EC-256');
  // subjectAltName: IP 127.0.0.1 and DNS localhost (Go clients ignore the CN)
  const name = new TextEncoder().encode('localhost');
  const san = new Uint8Array([0x30, 6 + 2 + name.length, 0x87, 4, 127, 0, 0, 1, 0x82, name.length, ...name]);
  const cert = await createCertificate({
    subject: 'CN=127.0.0.1,O=vouch fake API server',
    publicKey: kp.publicKey,
    privateKey: kp.privateKey,
    keyUsage: { usages: ['digitalSignature', 'keyCertSign'] },
    basicConstraints: { ca: true, critical: true },
    extKeyUsage: { usages: ['serverAuth'] },
    extensions: [{ oid: '2.5.29.17', critical: false, value: san }],
  });
  return { cert: encodePem('CERTIFICATE', cert.der), key: encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(kp.privateKey)) };
}

const BUILT_IN_GROUPS = new Set(['', 'apps', 'batch', 'coordination.k8s.io']);

/** Starts the fake API server on 127.0.0.1 (a free port). */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const useTls = options.tls !== false;
  const token = options.token === null ? undefined : (options.token ?? randomBytes(16).toString('hex'));
  const bookmarkMs = options.bookmarkIntervalMs ?? 1000;
  const maxWatchMs = options.maxWatchMs ?? 5 * 60_000;
  const maxHistory = options.maxHistory ?? 200_000;
  const gcDelayMs = options.gcDelayMs ?? 0;
  const version = options.version ?? { major: '1', minor: '32' };

  const stores = new Map<string, TypeStore>();
  const byGvk = new Map<string, TypeStore>();
  for (const t of RESOURCE_TYPES) {
    const s: TypeStore = { type: t, objects: new Map(), keys: [] };
    stores.set(resourceId(t), s);
    byGvk.set(`${groupVersion(t)}|${t.kind}`, s);
  }
  /** uid → where the object lives. */
  const uids = new Map<string, { rid: string; key: string }>();
  let rv = 1000;
  let compacted = rv;
  const history: StoredEvent[] = [];
  let historyStart = 0; // index of the first live event in `history` (compaction drops a prefix)
  const watchers = new Set<Watcher>();
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  let gcPending = 0;
  let gcIdle: (() => void)[] = [];

  const qualified = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);
  const notFound = (t: ResourceType, name: string | undefined) =>
    new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group, kind: t.plural });
  const keyOf = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

  function storeFor(apiVersion: string, kind: string): TypeStore {
    const s = byGvk.get(`${apiVersion}|${kind}`);
    if (!s) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${kind} ${apiVersion})`);
    return s;
  }

  function record(e: Omit<StoredEvent, 'rv'>): number {
    rv++;
    const ev: StoredEvent = { ...e, rv };
    history.push(ev);
    if (history.length - historyStart > maxHistory) compactTo(history[history.length - maxHistory]!.rv - 1);
    for (const w of watchers) {
      if (w.rid !== e.rid) continue;
      const o = e.object;
      if (w.namespace !== undefined && o.metadata?.namespace !== w.namespace) continue;
      if (!w.fields.matches(selectableFields(o))) continue;
      if (!w.labels.matches(o.metadata?.labels)) {
        // moved out of the selection: watchers that saw it get a DELETED
        if (e.type === 'MODIFIED' && e.prev && w.labels.matches(e.prev.metadata?.labels)) w.send('DELETED', o);
        continue;
      }
      w.send(e.type === 'MODIFIED' && e.prev && !w.labels.matches(e.prev.metadata?.labels) ? 'ADDED' : e.type, o);
    }
    return rv;
  }

  function compactTo(target: number): void {
    if (target <= compacted) return;
    compacted = Math.min(target, rv);
    while (historyStart < history.length && history[historyStart]!.rv <= compacted) historyStart++;
    if (historyStart > 4096 && historyStart * 2 > history.length) {
      history.splice(0, historyStart);
      historyStart = 0;
    }
  }

  function insertKey(s: TypeStore, key: string): void {
    const i = lowerBound(s.keys, key);
    if (s.keys[i] !== key) s.keys.splice(i, 0, key);
  }
  function removeKey(s: TypeStore, key: string): void {
    const i = lowerBound(s.keys, key);
    if (s.keys[i] === key) s.keys.splice(i, 1);
  }

  function checkNamespace(s: TypeStore, obj: KubeObject, urlNs: string | undefined): string | undefined {
    const t = s.type;
    if (!t.namespaced) {
      if (obj.metadata?.namespace) delete obj.metadata.namespace;
      return undefined;
    }
    const ns = obj.metadata?.namespace ?? urlNs;
    if (!ns) throw new ApiError(400, 'BadRequest', 'an empty namespace may not be set during creation');
    if (urlNs !== undefined && ns !== urlNs)
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    return ns;
  }

  function createIn(s: TypeStore, input: KubeObject, urlNs?: string): KubeObject {
    const t = s.type;
    const obj = structuredClone(input);
    obj.apiVersion = groupVersion(t);
    obj.kind = t.kind;
    const meta = (obj.metadata ??= {});
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    if (!meta.name)
      throw new ApiError(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, {
        kind: t.kind,
      });
    const ns = checkNamespace(s, obj, urlNs);
    if (ns) meta.namespace = ns;
    const key = keyOf(ns, meta.name);
    // convenience (a deviation from the NamespaceLifecycle admission plugin): a missing namespace is created
    const nsStore = stores.get('namespaces')!;
    if (ns && !nsStore.objects.has(keyOf(undefined, ns))) createIn(nsStore, { metadata: { name: ns } });
    if (s.objects.has(key))
      throw new ApiError(409, 'AlreadyExists', `${qualified(t)} "${meta.name}" already exists`, {
        name: meta.name,
        group: t.group,
        kind: t.plural,
      });
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    meta.resourceVersion = String(rv + 1);
    s.objects.set(key, obj);
    insertKey(s, key);
    uids.set(meta.uid, { rid: resourceId(t), key });
    record({ rid: resourceId(t), key, type: 'ADDED', object: obj });
    if (danglingOwners(obj)) scheduleGc([meta.uid], 'Background', true);
    return obj;
  }

  function replaceIn(s: TypeStore, input: KubeObject, urlNs: string | undefined, name: string, unconditional = false): KubeObject {
    const t = s.type;
    const obj = structuredClone(input);
    obj.apiVersion = groupVersion(t);
    obj.kind = t.kind;
    const meta = (obj.metadata ??= {});
    if (meta.name !== undefined && meta.name !== name)
      throw new ApiError(400, 'BadRequest', `the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    meta.name = name;
    const ns = checkNamespace(s, obj, urlNs);
    const key = keyOf(ns, name);
    const cur = s.objects.get(key);
    if (!cur) throw notFound(t, name);
    const cm = cur.metadata!;
    if (!unconditional && meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== cm.resourceVersion)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: t.group, kind: t.plural },
      );
    if (meta.uid !== undefined && meta.uid !== cm.uid)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(t)} "${name}": Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${cm.uid}`,
      );
    if (ns) meta.namespace = ns;
    meta.uid = cm.uid;
    meta.creationTimestamp = cm.creationTimestamp;
    const specChanged = JSON.stringify(obj.spec) !== JSON.stringify(cur.spec);
    meta.generation = (cm.generation as number) + (specChanged ? 1 : 0);
    meta.resourceVersion = String(rv + 1);
    s.objects.set(key, obj);
    record({ rid: resourceId(t), key, type: 'MODIFIED', object: obj, prev: cur });
    if (danglingOwners(obj)) scheduleGc([cm.uid as string], 'Background', true);
    return obj;
  }

  function deleteIn(
    s: TypeStore,
    ns: string | undefined,
    name: string,
    opts: { propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): KubeObject {
    const t = s.type;
    const key = keyOf(t.namespaced ? ns : undefined, name);
    const cur = s.objects.get(key);
    if (!cur) throw notFound(t, name);
    const p = opts.preconditions;
    if (p?.uid && p.uid !== cur.metadata?.uid)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(t)} "${name}": Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${cur.metadata?.uid}`,
      );
    if (p?.resourceVersion && p.resourceVersion !== cur.metadata?.resourceVersion)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(t)} "${name}": Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${cur.metadata?.resourceVersion}`,
      );
    s.objects.delete(key);
    removeKey(s, key);
    const uid = cur.metadata?.uid as string;
    uids.delete(uid);
    const gone = structuredClone(cur);
    gone.metadata!.resourceVersion = String(rv + 1);
    record({ rid: resourceId(t), key, type: 'DELETED', object: gone, prev: cur });
    scheduleGc([uid], opts.propagationPolicy ?? 'Background', false);
    if (t.kind === 'Namespace') {
      for (const other of stores.values()) {
        if (!other.type.namespaced) continue;
        for (const k of other.keys.filter((x) => x.startsWith(`${name}/`))) deleteIn(other, name, k.slice(name.length + 1));
      }
    }
    return gone;
  }

  /** True when the object has owners and none of them exists. */
  function danglingOwners(obj: KubeObject): boolean {
    const refs = obj.metadata?.ownerReferences ?? [];
    return refs.length > 0 && refs.every((r) => !uids.has(r.uid));
  }

  /** The garbage collector: deletes dependents whose owners are all gone (or orphans them). */
  function scheduleGc(uidsGone: string[], policy: string, selfCheck: boolean): void {
    gcPending++;
    const run = () => {
      try {
        for (const s of stores.values()) {
          for (const key of [...s.keys]) {
            const o = s.objects.get(key);
            const refs = o?.metadata?.ownerReferences;
            if (!o || !refs || refs.length === 0) continue;
            if (selfCheck) {
              if (uidsGone.includes(o.metadata?.uid as string) && danglingOwners(o)) deleteIn(s, o.metadata?.namespace, o.metadata!.name!);
              continue;
            }
            if (!refs.some((r) => uidsGone.includes(r.uid))) continue;
            if (policy === 'Orphan') {
              const copy = structuredClone(o);
              copy.metadata!.ownerReferences = refs.filter((r) => !uidsGone.includes(r.uid));
              if (copy.metadata!.ownerReferences.length === 0) delete copy.metadata!.ownerReferences;
              replaceIn(s, copy, o.metadata?.namespace, o.metadata!.name!, true);
            } else if (danglingOwners(o)) deleteIn(s, o.metadata?.namespace, o.metadata!.name!);
          }
        }
      } finally {
        gcPending--;
        if (gcPending === 0) {
          const idle = gcIdle;
          gcIdle = [];
          for (const f of idle) f();
        }
      }
    };
    setTimeout(run, gcDelayMs);
  }

  /** Objects of a type as of resourceVersion `at`, in key order, starting after `after`. */
  function* snapshot(s: TypeStore, at: number, after: string): Generator<[string, KubeObject]> {
    // undo the events newer than `at` (their prev is the state as of `at`)
    const rid = resourceId(s.type);
    let undo: Map<string, KubeObject | null> | undefined;
    for (let i = history.length - 1; i >= historyStart && history[i]!.rv > at; i--) {
      const e = history[i]!;
      if (e.rid !== rid) continue;
      (undo ??= new Map()).set(e.key, e.type === 'ADDED' ? null : (e.prev ?? null));
    }
    let keys = s.keys;
    if (undo) {
      const extra = [...undo.entries()].filter(([k, v]) => v !== null && !s.objects.has(k)).map(([k]) => k);
      if (extra.length > 0) keys = [...s.keys, ...extra].sort();
    }
    for (let i = after ? lowerBound(keys, after) : 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k <= after) continue;
      const o = undo?.has(k) ? undo.get(k) : s.objects.get(k);
      if (o) yield [k, o];
    }
  }

  function listObjects(s: TypeStore, q: URLSearchParams, ns: string | undefined): Record<string, unknown> {
    const labels = parseSelectorOr400(q.get('labelSelector'));
    const fields = parseSelectorOr400(q.get('fieldSelector'));
    const limit = Number(q.get('limit') ?? 0);
    let at = rv;
    let after = ns ? `${ns}/` : '';
    const cont = q.get('continue');
    if (cont) {
      let tok: { rv: number; start: string };
      try {
        tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8'));
      } catch {
        throw new ApiError(400, 'BadRequest', 'continue key is not valid: illegal base64 data');
      }
      if (tok.rv < compacted)
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      at = tok.rv;
      after = tok.start;
    }
    const items: KubeObject[] = [];
    let lastKey = '';
    let more = false;
    let remaining = 0;
    for (const [k, o] of snapshot(s, at, after)) {
      if (ns !== undefined && !k.startsWith(`${ns}/`)) break;
      if (!labels.matches(o.metadata?.labels) || !fields.matches(selectableFields(o))) continue;
      if (limit > 0 && items.length >= limit) {
        more = true;
        remaining++;
        continue;
      }
      items.push(o);
      lastKey = k;
    }
    const builtIn = BUILT_IN_GROUPS.has(s.type.group);
    const metadata: Record<string, unknown> = { resourceVersion: String(at) };
    if (more) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: at, start: lastKey })).toString('base64url');
      if (labels.empty && fields.empty) metadata.remainingItemCount = remaining;
    }
    return {
      kind: `${s.type.kind}List`,
      apiVersion: groupVersion(s.type),
      metadata,
      // built-in types' list items carry no apiVersion/kind; custom resources' do
      items: builtIn ? items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) : items,
    };
  }

  function parseSelectorOr400(text: string | null): Selector {
    try {
      return parseSelector(text);
    } catch (e) {
      throw new ApiError(400, 'BadRequest', (e as Error).message);
    }
  }

  function startWatch(s: TypeStore, q: URLSearchParams, ns: string | undefined, req: IncomingMessage, res: ServerResponse): void {
    const labels = parseSelectorOr400(q.get('labelSelector'));
    const fields = parseSelectorOr400(q.get('fieldSelector'));
    const rid = resourceId(s.type);
    const from = q.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
    let ended = false;
    const timers: NodeJS.Timeout[] = [];
    const w: Watcher = {
      rid,
      namespace: ns,
      labels,
      fields,
      send(type, object) {
        if (!ended) res.write(`${JSON.stringify({ type, object })}\n`);
      },
      end() {
        if (ended) return;
        ended = true;
        watchers.delete(w);
        for (const t of timers) clearTimeout(t);
        res.end();
      },
    };
    const matches = (o: KubeObject) =>
      (ns === undefined || o.metadata?.namespace === ns) && labels.matches(o.metadata?.labels) && fields.matches(selectableFields(o));
    if (from && from !== '0') {
      const n = Number(from);
      if (!Number.isInteger(n) || n < compacted) {
        w.send('ERROR', statusBody(410, 'Expired', `too old resource version: ${from} (${compacted})`));
        w.end();
        return;
      }
      for (let i = historyStart; i < history.length; i++) {
        const e = history[i]!;
        if (e.rv > n && e.rid === rid && matches(e.object)) w.send(e.type, e.object);
      }
    } else {
      for (const [, o] of snapshot(s, rv, ns ? `${ns}/` : '')) {
        if (ns !== undefined && o.metadata?.namespace !== ns) break;
        if (matches(o)) w.send('ADDED', o);
      }
    }
    watchers.add(w);
    if (q.get('allowWatchBookmarks') === 'true') {
      const tick = () => {
        w.send('BOOKMARK', { kind: s.type.kind, apiVersion: groupVersion(s.type), metadata: { resourceVersion: String(rv) } });
        timers.push(setTimeout(tick, bookmarkMs));
      };
      timers.push(setTimeout(tick, bookmarkMs));
    }
    const timeout = q.get('timeoutSeconds') ? Number(q.get('timeoutSeconds')) * 1000 : maxWatchMs;
    timers.push(setTimeout(() => w.end(), Math.min(timeout, maxWatchMs)));
    req.on('close', () => w.end());
  }

  // ------------------------------------------------------------------ HTTP

  function apiResourceList(gv: string) {
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: RESOURCE_TYPES.filter((t) => groupVersion(t) === gv).map((t) => ({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      })),
    };
  }

  function apiGroupList() {
    const groups = new Map<string, string[]>();
    for (const t of RESOURCE_TYPES) {
      if (!t.group) continue;
      const v = groups.get(t.group) ?? [];
      if (!v.includes(t.version)) v.push(t.version);
      groups.set(t.group, v);
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
      })),
    };
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ApiError(400, 'BadRequest', `the body of the request was in an unknown format: ${(e as Error).message}`);
    }
  }

  async function readObject(req: IncomingMessage): Promise<KubeObject> {
    const body = (await readJson(req)) as KubeObject;
    if (!body || typeof body !== 'object') throw new ApiError(400, 'BadRequest', 'the request body must be an object');
    return body;
  }

  interface Route {
    verb: string;
    store?: TypeStore;
    namespace?: string;
    name?: string;
    discovery?: unknown;
  }

  function route(method: string, path: string, q: URLSearchParams): Route {
    const segs = path.split('/').filter((x) => x !== '');
    if (path === '/version')
      return {
        verb: 'discovery',
        discovery: {
          major: version.major,
          minor: version.minor,
          gitVersion: `v${version.major}.${version.minor}.0`,
          gitCommit: 'fake',
          gitTreeState: 'clean',
          buildDate: '2026-01-01T00:00:00Z',
          goVersion: 'go1.23.0',
          compiler: 'gc',
          platform: 'linux/amd64',
        },
      };
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return { verb: 'discovery', discovery: 'ok' };
    if (path === '/api') return { verb: 'discovery', discovery: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (path === '/apis') return { verb: 'discovery', discovery: apiGroupList() };
    let gv: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') {
      gv = 'v1';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      gv = `${segs[1]}/${segs[2]}`;
      rest = segs.slice(3);
    } else if (segs[0] === 'apis' && segs.length === 2) {
      const g = apiGroupList().groups.find((x) => x.name === segs[1]);
      if (!g) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return { verb: 'discovery', discovery: { kind: 'APIGroup', apiVersion: 'v1', ...g } };
    } else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0) {
      if (!RESOURCE_TYPES.some((t) => groupVersion(t) === gv))
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return { verb: 'discovery', discovery: apiResourceList(gv) };
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const plural = rest[0]!;
    const store = [...stores.values()].find((s) => groupVersion(s.type) === gv && s.type.plural === plural);
    if (!store) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (namespace !== undefined && !store.type.namespaced)
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length > 2)
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource (subresource ${rest.slice(2).join('/')})`);
    const name = rest[1];
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    const verb =
      method === 'GET'
        ? name
          ? 'get'
          : watch
            ? 'watch'
            : 'list'
        : method === 'POST' && !name
          ? 'create'
          : method === 'PUT' && name
            ? 'update'
            : method === 'PATCH' && name
              ? 'patch'
              : method === 'DELETE' && name
                ? 'delete'
                : '';
    if (!verb) throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    return { verb, store, namespace, name };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const rec: RequestRecord = {
      time: Date.now(),
      method,
      path: url.pathname,
      query: url.search,
      verb: '',
      resource: '',
      status: 0,
      ...(req.headers['user-agent'] ? { userAgent: String(req.headers['user-agent']) } : {}),
    };
    requests.push(rec);
    const reply = (status: number, body: unknown) => {
      rec.status = status;
      send(res, status, body);
    };
    try {
      if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const r = route(method, url.pathname, url.searchParams);
      rec.verb = r.verb;
      if (r.store) rec.resource = resourceId(r.store.type);
      if (r.namespace) rec.namespace = r.namespace;
      if (r.name) rec.name = r.name;
      if (r.discovery !== undefined) {
        if (typeof r.discovery === 'string') {
          rec.status = 200;
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(r.discovery);
          return;
        }
        reply(200, r.discovery);
        return;
      }
      if (server.intercept) {
        const f = await server.intercept({ method, verb: r.verb, resource: rec.resource, namespace: r.namespace, name: r.name });
        if (f)
          throw new ApiError(
            f.status,
            f.status === 409 ? 'Conflict' : f.status >= 500 ? 'InternalError' : 'BadRequest',
            f.message ?? 'injected failure',
          );
      }
      const s = r.store!;
      const ns = s.type.namespaced ? r.namespace : undefined;
      switch (r.verb) {
        case 'list':
          reply(200, listObjects(s, url.searchParams, ns));
          return;
        case 'watch':
          rec.status = 200;
          startWatch(s, url.searchParams, ns, req, res);
          return;
        case 'get': {
          const o = s.objects.get(keyOf(ns, r.name!));
          if (!o) throw notFound(s.type, r.name);
          reply(200, o);
          return;
        }
        case 'create':
          reply(201, createIn(s, await readObject(req), ns));
          return;
        case 'update':
          reply(200, replaceIn(s, await readObject(req), ns, r.name!));
          return;
        case 'patch': {
          const body = await readJson(req);
          const ct = String(req.headers['content-type'] ?? '')
            .split(';')[0]!
            .trim();
          const cur = s.objects.get(keyOf(ns, r.name!));
          if (!cur) throw notFound(s.type, r.name);
          let next: unknown;
          try {
            if (ct === 'application/json-patch+json') next = jsonPatch(cur, body);
            else if (ct === 'application/merge-patch+json' || ct === 'application/strategic-merge-patch+json') next = mergePatch(cur, body);
            else
              throw new ApiError(
                415,
                'UnsupportedMediaType',
                `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`,
              );
          } catch (e) {
            if (e instanceof ApiError) throw e;
            throw new ApiError(422, 'Invalid', `the patch could not be applied: ${(e as Error).message}`);
          }
          const patched = next as KubeObject;
          // a patch carrying a resourceVersion is a precondition; otherwise it applies to the current object
          const sentRv = (body as KubeObject | undefined)?.metadata?.resourceVersion;
          patched.metadata = { ...(patched.metadata ?? {}), resourceVersion: sentRv ?? (cur.metadata?.resourceVersion as string) };
          reply(200, replaceIn(s, patched, ns, r.name!));
          return;
        }
        case 'delete': {
          const body = (await readJson(req)) as
            | { propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string } }
            | undefined;
          const policy = url.searchParams.get('propagationPolicy') ?? body?.propagationPolicy;
          const gone = deleteIn(s, ns, r.name!, {
            ...(policy ? { propagationPolicy: policy } : {}),
            ...(body?.preconditions ? { preconditions: body.preconditions } : {}),
          });
          reply(200, gone);
          return;
        }
      }
    } catch (e) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (e instanceof ApiError) reply(e.code, statusBody(e.code, e.reason, e.message, e.details));
      else reply(500, statusBody(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
    }
  }

  const tls = useTls ? await selfSigned() : undefined;
  const httpServer: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => void handle(req, res))
    : createHttpServer((req, res) => void handle(req, res));
  httpServer.on('connection', (sock: Socket) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  // TLS handshakes happen on the raw socket; count those too
  httpServer.on('secureConnection', () => undefined);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `${useTls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const server: FakeApiServer = {
    url,
    host: `127.0.0.1:${port}`,
    port,
    token,
    caPem: tls?.cert,
    requests,
    intercept: undefined,
    kubeconfig(o = {}) {
      const cluster = tls
        ? `    certificate-authority-data: ${Buffer.from(tls.cert).toString('base64')}\n    server: ${url}`
        : `    server: ${url}`;
      return `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
${cluster}
users:
- name: fake
  user:${token ? `\n    token: ${token}` : ' {}'}
contexts:
- name: fake
  context:
    cluster: fake
    user: fake${o.namespace ? `\n    namespace: ${o.namespace}` : ''}
current-context: fake
`;
    },
    resourceVersion: () => rv,
    compact(target) {
      compactTo(target ?? rv);
    },
    closeWatches() {
      for (const w of [...watchers]) w.end();
    },
    openWatches: () => watchers.size,
    create(obj) {
      const s = storeFor(String(obj.apiVersion), String(obj.kind));
      return structuredClone(createIn(s, obj));
    },
    apply(obj) {
      const s = storeFor(String(obj.apiVersion), String(obj.kind));
      const ns = s.type.namespaced ? (obj.metadata?.namespace ?? 'default') : undefined;
      const name = String(obj.metadata?.name);
      const copy = structuredClone(obj);
      if (ns) (copy.metadata ??= {}).namespace = ns;
      if (s.objects.has(keyOf(ns, name))) return structuredClone(replaceIn(s, copy, ns, name, true));
      return structuredClone(createIn(s, copy, ns));
    },
    remove(apiVersion, kind, namespace, name) {
      const s = storeFor(apiVersion, kind);
      try {
        return structuredClone(deleteIn(s, namespace, name));
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return undefined;
        throw e;
      }
    },
    get(apiVersion, kind, namespace, name) {
      const s = storeFor(apiVersion, kind);
      const o = s.objects.get(keyOf(s.type.namespaced ? namespace : undefined, name));
      return o ? structuredClone(o) : undefined;
    },
    list(apiVersion, kind, namespace) {
      const s = storeFor(apiVersion, kind);
      const out: KubeObject[] = [];
      for (const k of s.keys) if (namespace === undefined || k.startsWith(`${namespace}/`)) out.push(structuredClone(s.objects.get(k)!));
      return out;
    },
    settle() {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (gcPending === 0) resolve();
          else gcIdle.push(() => setImmediate(check));
        };
        setImmediate(check);
      });
    },
    async close() {
      for (const w of [...watchers]) w.end();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
  return server;
}
