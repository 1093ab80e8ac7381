/** The controller's Prometheus metrics, registered on a prom-client Registry the caller passes in. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The metric objects (names in docs/cluster-mode.md). */
export interface ControllerMetrics {
  scanDuration: Histogram<'trigger'>;
  resourcesScanned: Counter<'trigger'>;
  results: Gauge<'status'>;
  reportWrites: Counter<'operation' | 'outcome'>;
  verifications: Counter<'outcome'>;
  verificationDuration: Histogram;
  leader: Gauge;
  watchRestarts: Counter<'kind' | 'reason'>;
}

/** Creates the metrics on `registry` (metric names are prefixed `vouch_controller_`). */
export function controllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
  return {
    scanDuration: new Histogram({
      name: 'vouch_controller_scan_duration_seconds',
      help: 'Duration of a scan run, by trigger (initial, schedule, policy, expiry, relist).',
      labelNames: ['trigger'],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    }),
    resourcesScanned: new Counter({
      name: 'vouch_controller_resources_scanned_total',
      help: 'Resources evaluated, by trigger (initial, schedule, policy, expiry, relist, event).',
      labelNames: ['trigger'],
      registers,
    }),
    results: new Gauge({
      name: 'vouch_controller_results',
      help: 'Report results currently written, by status (pass, fail, warn, error, skip).',
      labelNames: ['status'],
      registers,
    }),
    reportWrites: new Counter({
      name: 'vouch_controller_report_writes_total',
      help: 'PolicyReport/ClusterPolicyReport writes, by operation (create, update, delete) and outcome (ok, conflict, error).',
      labelNames: ['operation', 'outcome'],
      registers,
    }),
    verifications: new Counter({
      name: 'vouch_controller_verifications_total',
      help: 'Image signature verifications sent to the registry, by outcome (pass, fail, error).',
      labelNames: ['outcome'],
      registers,
    }),
    verificationDuration: new Histogram({
      name: 'vouch_controller_verification_duration_seconds',
      help: 'Duration of one image signature verification.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    leader: new Gauge({ name: 'vouch_controller_leader', help: '1 while this replica is the active scanner.', registers }),
    watchRestarts: new Counter({
      name: 'vouch_controller_watch_restarts_total',
      help: 'Watch streams resumed (closed, error) or replaced by a new list (gone: 410), by kind.',
      labelNames: ['kind', 'reason'],
      registers,
    }),
  };
}
