import { VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';

const vouch = (code: ConstructorParameters<typeof VouchError>[0], message = 'the reason') => new VouchError(code, message);

/** The message of the assertion error `run` throws (or rejects with); fails the test when it passes. */
async function failure(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the assertion passed');
}

describe('toRejectWithCode', () => {
  it('passes on a rejection with the code, from a promise or a function returning one', async () => {
    await expect(Promise.reject(vouch('ERR_SIGNATURE_INTEGRITY'))).toRejectWithCode('ERR_SIGNATURE_INTEGRITY');
    await expect(async () => {
      throw vouch('ERR_CERT_REVOKED');
    }).toRejectWithCode('ERR_CERT_REVOKED');
    await expect(Promise.reject(vouch('ERR_CERT_REVOKED', 'leaf is revoked'))).toRejectWithCode('ERR_CERT_REVOKED', 'is revoked');
    await expect(Promise.reject(vouch('ERR_CERT_REVOKED', 'leaf is revoked'))).toRejectWithCode('ERR_CERT_REVOKED', /^leaf/);
  });

  it('fails on another code, naming the expected code, the actual code and its message', async () => {
    const m = await failure(() =>
      expect(Promise.reject(vouch('ERR_CERT_EXPIRED', 'leaf expired on 2020-01-01'))).toRejectWithCode('ERR_CERT_REVOKED'),
    );
    expect(m).toBe('expected promise to reject with ERR_CERT_REVOKED, but it rejected with ERR_CERT_EXPIRED: leaf expired on 2020-01-01');
  });

  it('fails when the message does not match', async () => {
    const m = await failure(() =>
      expect(Promise.reject(vouch('ERR_CERT_REVOKED', 'intermediate revoked'))).toRejectWithCode('ERR_CERT_REVOKED', /^leaf/),
    );
    expect(m).toBe(
      'expected promise to reject with ERR_CERT_REVOKED with a message matching /^leaf/, but it rejected with ERR_CERT_REVOKED: intermediate revoked',
    );
  });

  it('fails when the promise resolves, showing the value', async () => {
    expect(await failure(() => expect(Promise.resolve({ ok: true })).toRejectWithCode('ERR_CERT_REVOKED'))).toBe(
      'expected promise to reject with ERR_CERT_REVOKED, but it resolved with {"ok": true}',
    );
    expect(await failure(() => expect(Promise.resolve()).toRejectWithCode('ERR_CERT_REVOKED'))).toBe(
      'expected promise to reject with ERR_CERT_REVOKED, but it resolved',
    );
  });

  it('fails on a rejection that is not a VouchError, saying so', async () => {
    expect(await failure(() => expect(Promise.reject(new TypeError('x is undefined'))).toRejectWithCode('ERR_CERT_REVOKED'))).toBe(
      'expected promise to reject with ERR_CERT_REVOKED, but it rejected with a TypeError that is not a VouchError: x is undefined',
    );
    // an object that only looks like one (a `code` property) is not a VouchError
    expect(await failure(() => expect(Promise.reject({ code: 'ERR_CERT_REVOKED' })).toRejectWithCode('ERR_CERT_REVOKED'))).toBe(
      'expected promise to reject with ERR_CERT_REVOKED, but it rejected with {"code": "ERR_CERT_REVOKED"}, which is not a VouchError',
    );
  });

  it('negates: .not passes on another code or a resolve, fails on the code', async () => {
    await expect(Promise.reject(vouch('ERR_CERT_EXPIRED'))).not.toRejectWithCode('ERR_CERT_REVOKED');
    await expect(Promise.resolve(1)).not.toRejectWithCode('ERR_CERT_REVOKED');
    expect(await failure(() => expect(Promise.reject(vouch('ERR_CERT_REVOKED', 'gone'))).not.toRejectWithCode('ERR_CERT_REVOKED'))).toBe(
      'expected promise not to reject with ERR_CERT_REVOKED, but it rejected with ERR_CERT_REVOKED: gone',
    );
  });

  it('refuses a received value that is not a promise', async () => {
    expect(await failure(() => expect(42).toRejectWithCode('ERR_CERT_REVOKED'))).toBe(
      'toRejectWithCode expects a promise or a function returning one, got 42',
    );
  });
});

describe('toThrowWithCode', () => {
  it('passes on a throw with the code', () => {
    expect(() => {
      throw vouch('ERR_INVALID_ARGUMENT', 'bad name');
    }).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(() => {
      throw vouch('ERR_INVALID_ARGUMENT', 'bad name');
    }).toThrowWithCode('ERR_INVALID_ARGUMENT', 'bad');
  });

  it('fails on another code, a return, or a non-VouchError', async () => {
    expect(
      await failure(() =>
        expect(() => {
          throw vouch('ERR_TRUST_STORE_INVALID', 'empty store');
        }).toThrowWithCode('ERR_INVALID_ARGUMENT'),
      ),
    ).toBe('expected function to throw ERR_INVALID_ARGUMENT, but it threw ERR_TRUST_STORE_INVALID: empty store');
    expect(await failure(() => expect(() => 'fine').toThrowWithCode('ERR_INVALID_ARGUMENT'))).toBe(
      'expected function to throw ERR_INVALID_ARGUMENT, but it returned with "fine"',
    );
    expect(
      await failure(() =>
        expect(() => {
          throw new RangeError('out of range');
        }).toThrowWithCode('ERR_INVALID_ARGUMENT'),
      ),
    ).toBe('expected function to throw ERR_INVALID_ARGUMENT, but it threw a RangeError that is not a VouchError: out of range');
  });

  it('refuses a function returning a promise, and a non-function', async () => {
    expect(await failure(() => expect(async () => 1).toThrowWithCode('ERR_INVALID_ARGUMENT'))).toMatch(
      /use `await expect\(…\)\.toRejectWithCode/,
    );
    expect(await failure(() => expect(1).toThrowWithCode('ERR_INVALID_ARGUMENT'))).toBe('toThrowWithCode expects a function, got 1');
  });

  it('takes only codes of the VouchErrorCode union (a typo is a type error)', () => {
    expect(() => {
      throw vouch('ERR_CERT_REVOKED');
      // @ts-expect-error not a VouchErrorCode
    }).not.toThrowWithCode('ERR_CERT_REVOKD');
  });
});

describe('toBeVouchError', () => {
  it('passes on a VouchError of the code', () => {
    expect(vouch('ERR_CERT_REVOKED', 'leaf revoked')).toBeVouchError('ERR_CERT_REVOKED');
    expect(vouch('ERR_CERT_REVOKED', 'leaf revoked')).toBeVouchError('ERR_CERT_REVOKED', 'leaf');
    expect(new Error('x')).not.toBeVouchError('ERR_CERT_REVOKED');
  });

  it('fails on another code, a plain Error or undefined, saying which', async () => {
    expect(await failure(() => expect(vouch('ERR_CERT_EXPIRED', 'expired')).toBeVouchError('ERR_CERT_REVOKED'))).toBe(
      'expected value to be a VouchError ERR_CERT_REVOKED, but it is ERR_CERT_EXPIRED: expired',
    );
    expect(await failure(() => expect(new Error('plain')).toBeVouchError('ERR_CERT_REVOKED'))).toBe(
      'expected value to be a VouchError ERR_CERT_REVOKED, but it is an Error that is not a VouchError: plain',
    );
    expect(await failure(() => expect(undefined).toBeVouchError('ERR_CERT_REVOKED'))).toBe(
      'expected value to be a VouchError ERR_CERT_REVOKED, but it is undefined, which is not a VouchError',
    );
  });
});
