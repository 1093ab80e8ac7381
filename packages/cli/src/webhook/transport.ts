/** The registry transport of `vouch webhook`: a connection pool sized to the guard's limit, behind the guard. */
import { undiciFetch } from '@vouch/node';
import type { CliContext } from '../context.js';
import { cliFetch } from '../registry.js';
import type { WebhookMetrics } from './metrics.js';
import { createRegistryGuard, type RegistryGuard } from './registry-guard.js';

/** Waiting requests allowed per in-flight request slot. */
const QUEUE_FACTOR = 16;

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
  return createRegistryGuard({
    fetch: base ?? cliFetch(ctx),
    maxConcurrent: options.maxConcurrent,
    maxQueued: options.maxConcurrent * QUEUE_FACTOR,
    ...(m
      ? {
          observe(e) {
            m.registryRequests.inc({ registry: e.registry, status: e.status });
            if (e.status !== 'circuit_open' && e.status !== 'queue_full')
              m.registryRequestDuration.observe({ registry: e.registry }, e.durationMs / 1000);
          },
        }
      : {}),
  });
}
