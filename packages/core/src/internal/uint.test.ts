import { describe, expect, it } from 'vitest';
import { uintBytes } from './uint.js';

describe('uintBytes', () => {
  it('writes fixed-width big-endian unsigned integers', () => {
    expect([...uintBytes(0x0102, 2)]).toEqual([1, 2]);
    expect([...uintBytes(1, 3)]).toEqual([0, 0, 1]);
    expect([...uintBytes(2 ** 40 + 5, 8)]).toEqual([0, 0, 1, 0, 0, 0, 0, 5]);
    expect([...uintBytes(Number.MAX_SAFE_INTEGER, 8)]).toEqual([0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  it('refuses what does not fit', () => {
    expect(() => uintBytes(256, 1)).toThrow(RangeError);
    expect(() => uintBytes(-1, 2)).toThrow(RangeError);
    expect(() => uintBytes(1.5, 2)).toThrow(RangeError);
  });
});
