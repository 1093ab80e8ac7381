/**
 * How the engine waits. A review is a coroutine (a generator that `yield`s the promises it waits for);
 * `drive` runs it synchronously for as long as nothing is pending, so a warm admission review (every
 * verification already decided) completes without a single microtask. Inside, each rule is evaluated by
 * a plain synchronous step that reads decided values from review-scoped caches and throws
 * {@link Pending} when a value is not decided yet: the coroutine waits for it and re-runs the step. A
 * warm rule therefore costs no generator, promise or closure per rule.
 */

/** A generator that yields the promises it waits for and returns `T`. */
export type Co<T> = Generator<PromiseLike<unknown>, T, unknown>;

/** Runs `co` to completion: synchronously when it never waits, else as a promise. */
export function drive<T>(co: Co<T>): T | Promise<T> {
  const step = co.next();
  return step.done ? step.value : resume(co, step.value);
}

async function resume<T>(co: Co<T>, first: PromiseLike<unknown>): Promise<T> {
  let wait = first;
  for (;;) {
    let value: unknown;
    let failed = false;
    let error: unknown;
    try {
      value = await wait;
    } catch (e) {
      failed = true;
      error = e;
    }
    const step = failed ? co.throw(error) : co.next(value);
    if (step.done) return step.value;
    wait = step.value;
  }
}

/** `drive(co)` as a promise (for the public async API). */
export function driveAsync<T>(co: Co<T>): Promise<T> {
  try {
    const r = drive(co);
    return r instanceof Promise ? r : Promise.resolve(r);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** True for a value that must be awaited (a promise or another thenable). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** Waits for `v` when it is a thenable (inside a coroutine: `yield* settled(v)`), else returns it as is. */
export function* settled<T>(v: T | PromiseLike<T>): Co<T> {
  return isThenable(v) ? ((yield v) as T) : (v as T);
}

/**
 * Thrown by a synchronous evaluation step that needs a value nobody has decided yet. The coroutine
 * that ran the step undoes the step's effects, waits for `wait` (which never rejects) and runs the step
 * again; the value is then decided (review-scoped caches pin it), so every retry gets further.
 */
export class Pending {
  readonly wait: Promise<void>;
  constructor(wait: PromiseLike<unknown>) {
    this.wait = Promise.resolve(wait).then(
      () => undefined,
      () => undefined,
    );
  }
}

/** In a `catch` of a synchronous step: lets a {@link Pending} through (it is not the step's failure). */
export function rethrowPending(e: unknown): void {
  if (e instanceof Pending) throw e;
}
