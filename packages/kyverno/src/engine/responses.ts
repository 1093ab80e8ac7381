import { isVouchError } from '@vouch/core';
import type { RuleResponse, RuleStatus } from '../types.js';
import { errMessage } from '../util.js';

/** A rule response with only the optional fields that are set (`emitWarning`, `details`, `infrastructure`, `image`). */
export function ruleResponse(
  name: string,
  type: RuleResponse['type'],
  status: RuleStatus,
  message: string,
  extra?: Partial<RuleResponse>,
): RuleResponse {
  const r: RuleResponse = { name, type, status, message };
  if (extra?.emitWarning !== undefined) r.emitWarning = extra.emitWarning;
  if (extra?.details !== undefined) r.details = extra.details;
  if (extra?.infrastructure) r.infrastructure = true;
  if (extra?.image !== undefined) r.image = extra.image;
  return r;
}

/** `details.causes` of a failed check: each error as its JSON form (VouchError) or its message. */
export function causeDetails(causes: readonly unknown[]): Record<string, unknown> | undefined {
  if (causes.length === 0) return undefined;
  return { causes: causes.map((c) => (isVouchError(c) ? c.toJSON() : { message: errMessage(c) })) };
}

/** What checking one image against one verifyImages entry decided (before it becomes a rule response). */
export interface EntryOutcome {
  /** `skip`: the entry does not apply to the image. */
  status: 'pass' | 'fail' | 'error' | 'skip';
  message: string;
  /** The verified manifest digest, when the attestors verified it. */
  digest?: string;
  details?: Record<string, unknown>;
  /** `error` caused by the infrastructure (see isInfrastructureError). */
  infrastructure?: boolean;
  /** The frozen response shared by every image this outcome holds for (passing signature checks). */
  response?: RuleResponse;
}
