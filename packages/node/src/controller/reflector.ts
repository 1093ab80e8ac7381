/**
 * List-then-watch of one collection, without a cache: pages of a paginated list are handed over one
 * at a time (memory stays at one page whatever the cluster size), then a watch from the list's
 * resourceVersion delivers changes. Bookmarks advance the resourceVersion; a watch that ends is resumed
 * from the last one seen; `410 Gone` (an ERROR event or the HTTP status) starts a new list, as the API
 * conventions require.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeObject } from '@vouch/kyverno';
import { type KubeClient, kubeStatus } from './kube.js';

/** What a reflector reports to its owner. */
export interface ReflectorHandlers {
  /** A page of a (re)list; awaited before the next page is fetched. `first` is true for a list's first page. */
  onPage(items: KubeObject[], info: { first: boolean }): Promise<void>;
  /** A list finished (all pages handed over) at `resourceVersion`. */
  onListed?(resourceVersion: string, info: { relist: boolean }): Promise<void> | void;
  /** A watch event (not bookmarks). */
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void;
  /** A problem (logged by the owner); the reflector retries by itself. */
  onError?(error: unknown, info: { phase: 'list' | 'watch'; willRelist: boolean }): void;
  /** The watch ended and is resumed (`closed`), or a new list starts (`gone`). */
  onRestart?(reason: 'closed' | 'gone' | 'error'): void;
}

/** Options of {@link startReflector}. */
export interface ReflectorOptions {
  kube: KubeClient;
  apiVersion: string;
  kind: string;
  plural: string;
  namespace?: string;
  labelSelector?: string;
  /** Items per list page (default 500, kubectl's and client-go's chunk size). */
  pageSize?: number;
  /** Watch `timeoutSeconds` (default 300; the server may end it earlier). */
  watchTimeoutSeconds?: number;
  /** Delay before retrying after an error, doubled up to 30 s (default 500 ms). */
  backoffMs?: number;
}

/** A running reflector. */
export interface Reflector {
  /** Resolves after the first list was handed over completely. */
  readonly synced: Promise<void>;
  /** The last resourceVersion seen (list, event or bookmark). */
  resourceVersion(): string;
  stop(): void;
}

/** Pages through a list, handing each page over; returns the list's resourceVersion. */
export async function listPaged(
  kube: KubeClient,
  o: Pick<ReflectorOptions, 'apiVersion' | 'kind' | 'namespace' | 'labelSelector' | 'pageSize'>,
  onPage: (items: KubeObject[], info: { first: boolean }) => Promise<void>,
  signal?: AbortSignal,
): Promise<string> {
  let cont: string | undefined;
  let rv = '';
  let first = true;
  do {
    signal?.throwIfAborted();
    const page = await kube.list(o.apiVersion, o.kind, {
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
      limit: o.pageSize ?? 500,
      ...(cont ? { continue: cont } : {}),
    });
    rv = page.resourceVersion;
    cont = page.continue;
    await onPage(page.items, { first });
    first = false;
  } while (cont);
  return rv;
}

/** Starts list-then-watch; runs until stopped. */
export function startReflector(o: ReflectorOptions, h: ReflectorHandlers): Reflector {
  const stopCtl = new AbortController();
  let rv = '';
  let stopWatch: (() => void) | undefined;
  let resolveSynced!: () => void;
  const synced = new Promise<void>((r) => {
    resolveSynced = r;
  });
  const baseBackoff = o.backoffMs ?? 500;
  // resolves early on stop; no listener outlives its sleep (retries can run for as long as the API is down)
  const sleep = (ms: number): Promise<void> => delay(ms, undefined, { signal: stopCtl.signal }).catch(() => {});

  async function list(relist: boolean): Promise<void> {
    let backoff = baseBackoff;
    for (;;) {
      if (stopCtl.signal.aborted) return;
      try {
        rv = await listPaged(o.kube, o, h.onPage, stopCtl.signal);
        await h.onListed?.(rv, { relist });
        return;
      } catch (e) {
        if (stopCtl.signal.aborted) return;
        // a list continued from an expired snapshot starts again from the beginning
        h.onError?.(e, { phase: 'list', willRelist: true });
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** One watch stream; resolves with why it ended. */
  function watchOnce(): Promise<'closed' | 'gone' | 'error'> {
    return new Promise((resolve) => {
      let gone = false;
      o.kube
        .watch(
          o.apiVersion,
          o.plural,
          {
            resourceVersion: rv,
            ...(o.namespace ? { namespace: o.namespace } : {}),
            ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
            timeoutSeconds: o.watchTimeoutSeconds ?? 300,
          },
          (ev) => {
            const newRv = ev.object?.metadata?.resourceVersion;
            if (ev.type === 'ERROR') {
              if (ev.object?.code === 410) gone = true;
              else
                h.onError?.(new Error(`watch error event: ${ev.object?.message ?? JSON.stringify(ev.object)}`), {
                  phase: 'watch',
                  willRelist: false,
                });
              return;
            }
            if (typeof newRv === 'string' && newRv !== '') rv = newRv;
            if (ev.type === 'BOOKMARK') return;
            const obj = ev.object.kind ? ev.object : { apiVersion: o.apiVersion, kind: o.kind, ...ev.object };
            h.onEvent(ev.type, obj);
          },
          (err) => {
            if (gone || kubeStatus(err) === 410) resolve('gone');
            else if (err) {
              h.onError?.(err, { phase: 'watch', willRelist: false });
              resolve('error');
            } else resolve('closed');
          },
        )
        .then(
          (stop) => {
            stopWatch = stop;
            if (stopCtl.signal.aborted) stop();
          },
          (err) => {
            h.onError?.(err, { phase: 'watch', willRelist: false });
            resolve('error');
          },
        );
    });
  }

  void (async () => {
    await list(false);
    resolveSynced();
    let backoff = baseBackoff;
    while (!stopCtl.signal.aborted) {
      const why = await watchOnce();
      if (stopCtl.signal.aborted) break;
      h.onRestart?.(why);
      if (why === 'gone') {
        await list(true);
        backoff = baseBackoff;
      } else if (why === 'error') {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      } else backoff = baseBackoff;
    }
  })();

  return {
    synced,
    resourceVersion: () => rv,
    stop() {
      stopCtl.abort();
      stopWatch?.();
    },
  };
}
