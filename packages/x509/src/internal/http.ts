import { type FetchLike, VouchError } from '@vouch/core';

/** Internal: fetch with a deadline and an outer signal. */
export async function fetchWithDeadline<T>(
  fetch: FetchLike,
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  run: (fetch: FetchLike, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw new VouchError('ERR_ABORTED', `${what} was cancelled`);
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, timeoutMs);
  const onAbort = () => ctl.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await run(fetch, ctl.signal);
  } catch (e) {
    if (timedOut) throw new VouchError('ERR_TIMEOUT', `${what} did not answer within ${timeoutMs} ms`, { cause: e });
    if (signal?.aborted) throw new VouchError('ERR_ABORTED', `${what} was cancelled`, { cause: e });
    if (e instanceof VouchError) throw e;
    throw new VouchError('ERR_NETWORK', `${what} failed: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
