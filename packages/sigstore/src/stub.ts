import { VouchError } from '@vouch/core';

/** Placeholder while the API lands before its implementation (removed once every function is filled in). */
export function notYet(what: string): never {
  throw new VouchError('ERR_UNSUPPORTED', `${what} is not implemented yet in this build of @vouch/sigstore`);
}
