/**
 * The Kubernetes API as the controller uses it, over the official client (@kubernetes/client-node):
 * paginated lists, watches, get/create/replace/delete. Objects are plain JSON (the client's typed
 * models are skipped: the engine reads objects as the API server wrote them), and every failure is a
 * VouchError ERR_KUBERNETES_API carrying the HTTP status and the Status reason.
 */
import { ApiException, KubeConfig, KubernetesObjectApi, type ResponseContext, Watch } from '@kubernetes/client-node';
import { isVouchError, VouchError } from '@vouch/core';
import type { KubeObject } from '@vouch/kyverno';

/** One page of a list. */
export interface KubeListPage {
  items: KubeObject[];
  /** The list's resourceVersion (the snapshot every page of one list reads). */
  resourceVersion: string;
  /** Token for the next page; absent on the last page. */
  continue?: string;
}

/** A watch event (`BOOKMARK` objects carry only `metadata.resourceVersion`; `ERROR` objects are Status). */
export interface KubeWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

/** The Kubernetes operations the controller needs (implemented over @kubernetes/client-node by {@link kubeClient}). */
export interface KubeClient {
  list(
    apiVersion: string,
    kind: string,
    options?: { namespace?: string; limit?: number; continue?: string; labelSelector?: string },
  ): Promise<KubeListPage>;
  /**
   * Watches a collection from `resourceVersion` (with bookmarks). `onEvent` gets each event; `onEnd`
   * is called once when the stream ends (error or not). Returns a function that stops the watch.
   */
  watch(
    apiVersion: string,
    plural: string,
    options: { namespace?: string; resourceVersion: string; labelSelector?: string; fieldSelector?: string; timeoutSeconds?: number },
    onEvent: (event: KubeWatchEvent) => void,
    onEnd: (error?: unknown) => void,
  ): Promise<() => void>;
  /** The object, or undefined when it does not exist. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  create(object: KubeObject): Promise<KubeObject>;
  /** Replace; `metadata.resourceVersion` makes it conditional (409 Conflict when stale). */
  replace(object: KubeObject): Promise<KubeObject>;
  /** Delete; false when it did not exist. */
  delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    preconditions?: { uid?: string; resourceVersion?: string },
  ): Promise<boolean>;
}

/** Status code of a Kubernetes API error (0 when it is not one). */
export function kubeStatus(e: unknown): number {
  return isVouchError(e) && e.code === 'ERR_KUBERNETES_API' ? Number(e.details?.status ?? 0) : 0;
}

function toError(e: unknown, what: string): VouchError {
  if (isVouchError(e)) return e;
  if (e instanceof ApiException) {
    const body = (typeof e.body === 'string' ? safeJson(e.body) : e.body) as { message?: string; reason?: string } | undefined;
    const reason = body?.reason ?? '';
    const hint =
      e.code === 403
        ? ' (the service account lacks an RBAC permission: apply the controller ClusterRole from deploy/)'
        : e.code === 401
          ? ' (the credentials were refused: check the kubeconfig or the service account token)'
          : '';
    return new VouchError('ERR_KUBERNETES_API', `${what}: ${e.code} ${reason || 'error'}: ${body?.message ?? e.message}${hint}`, {
      cause: e,
      details: { status: e.code, reason },
    });
  }
  const status = (e as { statusCode?: number })?.statusCode;
  return new VouchError('ERR_KUBERNETES_API', `${what}: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e,
    details: { status: typeof status === 'number' ? status : 0, reason: '' },
  });
}

function nameOf(o: KubeObject): string {
  return `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** KubernetesObjectApi answering with the JSON the server sent (no typed models). */
class RawObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): RawObjectApi {
    const api = kc.makeApiClient(RawObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }
  protected override async processResponse<T>(response: ResponseContext, _type?: string): Promise<T> {
    // the client's serializer would turn a list's ListMeta into an ObjectMeta (losing `continue`) and
    // dates into Date objects: keep the server's JSON
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return JSON.parse(await response.body.text()) as T;
    throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', await response.getBodyAsAny(), response.headers);
  }
}

/** Loads a kubeconfig: an explicit file, else in-cluster configuration, KUBECONFIG or ~/.kube/config (client-node's order). */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  if (!kc.getCurrentCluster())
    throw new VouchError(
      'ERR_CONFIG_INVALID',
      'no Kubernetes cluster is configured: run in a cluster, or pass --kubeconfig (or set KUBECONFIG)',
    );
  return kc;
}

/**
 * Makes the client reuse connections: client-node 1.x builds a new https.Agent for every request, so
 * every request pays a TLS handshake (about 100 requests per second on a busy core). One keep-alive
 * agent per distinct TLS configuration (a rotated client certificate gets a new one).
 */
function keepAlive(kc: KubeConfig): void {
  const target = kc as unknown as { createAgent(cluster: unknown, options: Record<string, unknown>): unknown };
  const create = target.createAgent?.bind(kc);
  if (!create) return;
  const agents = new Map<string, unknown>();
  target.createAgent = (cluster, options) => {
    const key = JSON.stringify([
      (cluster as { server?: string } | null)?.server,
      ...['ca', 'cert', 'key', 'pfx', 'servername', 'rejectUnauthorized'].map((k) => String(options[k] ?? '')),
    ]);
    let agent = agents.get(key);
    if (!agent) {
      if (agents.size >= 8) {
        const [oldest, old] = agents.entries().next().value as [string, unknown];
        agents.delete(oldest);
        retire(old);
      }
      agent = create(cluster, { ...options, keepAlive: true, maxSockets: 32 });
      agents.set(key, agent);
    }
    return agent;
  };
}

/**
 * Lets an agent no request will get again go: its idle connections are closed now, the ones in use
 * when their request ends (an agent without keep-alive closes a socket once it is free).
 */
function retire(agent: unknown): void {
  const a = agent as { keepAlive?: boolean; freeSockets?: Record<string, { destroy(): void }[] | undefined> };
  if (typeof a !== 'object' || a === null) return;
  a.keepAlive = false;
  for (const list of Object.values(a.freeSockets ?? {})) for (const s of list ?? []) s.destroy();
}

/** A {@link KubeClient} over @kubernetes/client-node. */
export function kubeClient(kc: KubeConfig): KubeClient {
  keepAlive(kc);
  const api = RawObjectApi.forConfig(kc);
  const watcher = new Watch(kc);
  const header = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => ({
    apiVersion,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
  });
  return {
    async list(apiVersion, kind, o = {}) {
      try {
        const r = (await api.list(
          apiVersion,
          kind,
          o.namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          o.labelSelector,
          o.limit,
          o.continue,
        )) as unknown as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
        // built-in list items carry no apiVersion/kind; the engine matches on them
        const items = (r.items ?? []).map((i) => (i.kind ? i : { apiVersion, kind, ...i }));
        return {
          items,
          resourceVersion: r.metadata?.resourceVersion ?? '',
          ...(r.metadata?.continue ? { continue: r.metadata.continue } : {}),
        };
      } catch (e) {
        throw toError(e, `list ${kind} ${o.namespace ? `in ${o.namespace}` : 'in all namespaces'}`);
      }
    },
    async watch(apiVersion, plural, o, onEvent, onEnd) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const path = `${base}${o.namespace ? `/namespaces/${o.namespace}` : ''}/${plural}`;
      let ended = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        onEnd(err ? toError(err, `watch ${plural}`) : undefined);
      };
      const controller = await watcher.watch(
        path,
        {
          resourceVersion: o.resourceVersion,
          allowWatchBookmarks: true,
          ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
          ...(o.fieldSelector ? { fieldSelector: o.fieldSelector } : {}),
          ...(o.timeoutSeconds ? { timeoutSeconds: o.timeoutSeconds } : {}),
        },
        (type, object) => {
          if (!ended) onEvent({ type: type as KubeWatchEvent['type'], object });
        },
        (err) => end(err ?? undefined),
      );
      return () => {
        ended = true;
        controller.abort();
      };
    },
    async get(apiVersion, kind, namespace, name) {
      try {
        return (await api.read(header(apiVersion, kind, namespace, name))) as KubeObject;
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw toError(e, `get ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
      }
    },
    async create(object) {
      try {
        return (await api.create(object as never)) as KubeObject;
      } catch (e) {
        throw toError(e, `create ${nameOf(object)}`);
      }
    },
    async replace(object) {
      try {
        return (await api.replace(object as never)) as KubeObject;
      } catch (e) {
        throw toError(e, `replace ${nameOf(object)}`);
      }
    },
    async delete(apiVersion, kind, namespace, name, preconditions) {
      try {
        await api.delete(
          header(apiVersion, kind, namespace, name) as never,
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
          preconditions ? { preconditions } : undefined,
        );
        return true;
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return false;
        throw toError(e, `delete ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
      }
    },
  };
}
