import { handlers as trustPolicy } from './trust-policy.js';
import type { Handlers } from './types.js';

/**
 * Every area's handlers, merged. Areas add themselves here:
 *   import { handlers as x509 } from './x509.js';
 */
export const handlers: Handlers = {
  ...trustPolicy,
};

/** Kinds that belong to a later issue: reported as skipped with this reason, never as passed. */
export const pendingKinds: Record<string, string> = {
  timestamp: 'belongs to issue 4 (RFC 3161 timestamps)',
  'envelope-timestamp': 'belongs to issue 4 (RFC 3161 timestamps)',
  crl: 'belongs to issue 4 (revocation)',
  'blob-verify': 'belongs to issue 4 (blob signing)',
  'registry-remote': 'needs internet (ghcr.io)',
};
