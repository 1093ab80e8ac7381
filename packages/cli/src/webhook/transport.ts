/** The registry transport of `vouch webhook`: a connection pool sized to the guard's limit, behind the guard. */
import { undiciFetch } from '@vouch/node';
import type { CliContext } from '../context.js';
import { cliFetch } from '../registry.js';
import type { WebhookMetrics } from './metrics.js';
import { createRegistryGuard, type RegistryGuard } from './registry-guard.js';

/** Waiting requests allowed per in-flight request slot. */
const QUEUE_FACTOR = 16;
/** Distinct `registry` label values kept in metrics. */
const MAX_REGISTRY_LABELS = 64;

/**
 * A guarded registry transport: at most `maxConcurrent` requests in flight per registry (the
 * pool has as many connections), `16 × maxConcurrent` waiting, circuit breaker with back-off and
 * `Retry-After`, every request counted in `metrics`.
 */
export function webhookTransport(ctx: CliContext, options: { maxConcurrent: number; metrics?: WebhookMetrics | undefined }): RegistryGuard {
  let base = ctx.io.fetch;
  if (!base && !ctx.globals.debug) {
    const pooled = undiciFetch({ connections: options.maxConcurrent });
    ctx.onClose(() => pooled.close());
    base = pooled;
  }
  const m = options.metrics;
  // registry label values: the first MAX_REGISTRY_LABELS registries by name, then `other`
  const seen = new Set<string>();
  const label = (registry: string) => {
    if (seen.has(registry)) return registry;
    if (seen.size >= MAX_REGISTRY_LABELS) return 'other';
    seen.add(registry);
    return registry;
  };
  return createRegistryGuard({
    fetch: base ?? cliFetch(ctx),
    maxConcurrent: options.maxConcurrent,
    maxQueued: options.maxConcurrent * QUEUE_FACTOR,
    ...(m
      ? {
          observe(e) {
            const registry = label(e.registry);
            m.registryRequests.inc({ registry, status: e.status });
            if (e.status !== 'circuit_open' && e.status !== 'queue_full')
              m.registryRequestDuration.observe({ registry }, e.durationMs / 1000);
          },
        }
      : {}),
  });
}
