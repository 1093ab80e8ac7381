/**
 * Vitest matchers that assert a VouchError's code and say what happened when they fail:
 *
 *   await expect(verify(…)).toRejectWithCode('ERR_SIGNATURE_INVALID');
 *   expect(() => parse(…)).toThrowWithCode('ERR_INVALID_ARGUMENT');
 *   await expect(p).toRejectWithCode('ERR_X', /the message part/);
 *   expect(caught).toBeVouchError('ERR_X');
 *
 * On failure the message names the expected code and the actual outcome: the other code and its
 * message, "resolved with …", "threw a TypeError: …" (not a VouchError), or "did not throw".
 * Registered for every test project by ./setup.ts (vitest.config.ts `setupFiles`).
 */
import { isVouchError, type VouchErrorCode } from '@vouch/core';
import type { MatcherState } from 'vitest';

/** What a rejection or a throw was, in words for a failure message. */
function describeError(e: unknown, utils: MatcherState['utils']): string {
  if (isVouchError(e)) return `${e.code}: ${e.message}`;
  if (e instanceof Error) {
    const name = e.name || 'Error';
    return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name} that is not a VouchError: ${e.message}`;
  }
  return `${utils.stringify(e, 3, { maxLength: 400, min: true })}, which is not a VouchError`;
}

function messageMatches(message: string, expected: string | RegExp | undefined): boolean {
  if (expected === undefined) return true;
  return typeof expected === 'string' ? message.includes(expected) : expected.test(message);
}

type Outcome = { kind: 'error'; error: unknown } | { kind: 'value'; value: unknown };

function judge(
  state: MatcherState,
  outcome: Outcome,
  code: VouchErrorCode,
  message: string | RegExp | undefined,
  verb: { name: string; want: string; did: string; resolved: string },
) {
  const { utils } = state;
  const expectation = `${code}${message === undefined ? '' : ` with a message matching ${utils.stringify(message)}`}`;
  const e = outcome.kind === 'error' ? outcome.error : undefined;
  const pass = outcome.kind === 'error' && isVouchError(e) && e.code === code && messageMatches(e.message, message);
  const actual =
    outcome.kind === 'value'
      ? `it ${verb.resolved}${outcome.value === undefined ? '' : ` with ${utils.stringify(outcome.value, 3, { maxLength: 400, min: true })}`}`
      : `it ${verb.did} ${describeError(e, utils)}`;
  return {
    pass,
    message: () =>
      state.isNot
        ? `expected ${verb.name} not to ${verb.want} ${expectation}, but ${actual}`
        : `expected ${verb.name} to ${verb.want} ${expectation}, but ${actual}`,
    expected: expectation,
    actual: outcome.kind === 'value' ? verb.resolved : isVouchError(e) ? e.code : describeError(e, utils),
  };
}

/** `await expect(promise | () => promise).toRejectWithCode(code, message?)` */
async function toRejectWithCode(
  this: MatcherState,
  received: unknown,
  code: VouchErrorCode,
  message?: string | RegExp,
): Promise<ReturnType<typeof judge>> {
  let outcome: Outcome;
  try {
    const p = typeof received === 'function' ? (received as () => unknown)() : received;
    if (!p || typeof (p as PromiseLike<unknown>).then !== 'function') {
      throw new TypeError(`toRejectWithCode expects a promise or a function returning one, got ${this.utils.stringify(received)}`);
    }
    outcome = { kind: 'value', value: await p };
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith('toRejectWithCode expects')) throw error;
    outcome = { kind: 'error', error };
  }
  return judge(this, outcome, code, message, { name: 'promise', want: 'reject with', did: 'rejected with', resolved: 'resolved' });
}

/** `expect(() => …).toThrowWithCode(code, message?)` for synchronous code. */
function toThrowWithCode(this: MatcherState, received: unknown, code: VouchErrorCode, message?: string | RegExp): ReturnType<typeof judge> {
  if (typeof received !== 'function') {
    throw new TypeError(`toThrowWithCode expects a function, got ${this.utils.stringify(received)}`);
  }
  let outcome: Outcome;
  try {
    const value = (received as () => unknown)();
    if (value && typeof (value as PromiseLike<unknown>).then === 'function') {
      throw new TypeError('toThrowWithCode got a function returning a promise: use `await expect(…).toRejectWithCode(…)`');
    }
    outcome = { kind: 'value', value };
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith('toThrowWithCode got')) throw error;
    outcome = { kind: 'error', error };
  }
  return judge(this, outcome, code, message, { name: 'function', want: 'throw', did: 'threw', resolved: 'returned' });
}

/** `expect(caught).toBeVouchError(code, message?)` for an error already caught (a try/catch, a `warnings` entry). */
function toBeVouchError(this: MatcherState, received: unknown, code: VouchErrorCode, message?: string | RegExp): ReturnType<typeof judge> {
  return judge(this, { kind: 'error', error: received }, code, message, {
    name: 'value',
    want: 'be a VouchError',
    did: 'is',
    resolved: '',
  });
}

/** The matchers, for `expect.extend(vouchMatchers)`. */
export const vouchMatchers = { toBeVouchError, toRejectWithCode, toThrowWithCode };

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: the declaration merges with vitest's `Matchers<T = any>`
  interface Matchers<T = any> {
    /**
     * Passes when the promise (or the promise a function returns) rejects with a VouchError of
     * `code`, and, when `message` is given, a message containing it (string) or matching it (RegExp).
     * Await it: `await expect(p).toRejectWithCode('ERR_…')`.
     */
    toRejectWithCode(code: VouchErrorCode, message?: string | RegExp): Promise<void>;
    /** Passes when the function throws a VouchError of `code` (and a message matching `message`, if given). */
    toThrowWithCode(code: VouchErrorCode, message?: string | RegExp): void;
    /** Passes when the value is a VouchError of `code` (and a message matching `message`, if given). */
    toBeVouchError(code: VouchErrorCode, message?: string | RegExp): void;
  }
}
