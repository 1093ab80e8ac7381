/** Test helpers: the error a call throws or a promise rejects with, checked to be of one class. */

type ErrorClass<E> = abstract new (...args: never[]) => E;

function checked<E>(cls: ErrorClass<E>, e: unknown): E {
  if (e instanceof cls) return e;
  throw new Error(`expected a ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
}

/** The error `f` throws, which must be a `cls`. */
export function thrownBy<E>(cls: ErrorClass<E>, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    return checked(cls, e);
  }
  throw new Error(`expected a ${cls.name}, nothing was thrown`);
}

/** The error `p` rejects with, which must be a `cls`. */
export async function rejectedWith<E>(cls: ErrorClass<E>, p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return checked(cls, e);
  }
  throw new Error(`expected a ${cls.name}, the promise resolved`);
}
