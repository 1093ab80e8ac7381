/**
 * `--expiry` and `-m/--plugin-config` parse as notation 1.3.2 parses them; every expectation
 * below was checked by running notation 1.3.2 (`notation sign --expiry … / -m …`).
 */
import { describe, expect, it } from 'vitest';
import { parseKeyValues } from './command.js';
import { goDurationMs, parseDurationFlag, parseExpiry, parseGoDuration } from './duration.js';

describe('parseExpiry (Go time.ParseDuration, whole seconds)', () => {
  it.each([
    ['24h', 86400],
    ['1h30m', 5400],
    ['90s', 90],
    ['1.5h', 5400],
    ['.5h', 1800],
    ['1h0.5m', 3630],
    ['+1h', 3600],
    ['100000h', 360_000_000],
    ['0', 0],
    ['0s', 0],
  ])('%s is %i seconds', (value, seconds) => {
    expect(parseExpiry(value)).toBe(seconds);
  });

  it.each([
    ['1d', 'invalid argument "1d" for "-e, --expiry" flag: time: unknown unit "d" in duration "1d"'],
    ['1H', 'invalid argument "1H" for "-e, --expiry" flag: time: unknown unit "H" in duration "1H"'],
    ['1e3s', 'invalid argument "1e3s" for "-e, --expiry" flag: time: unknown unit "e" in duration "1e3s"'],
    ['', 'invalid argument "" for "-e, --expiry" flag: time: invalid duration ""'],
    ['5.', 'invalid argument "5." for "-e, --expiry" flag: time: missing unit in duration "5."'],
    ['1m30', 'invalid argument "1m30" for "-e, --expiry" flag: time: missing unit in duration "1m30"'],
    ['3000000h', 'invalid argument "3000000h" for "-e, --expiry" flag: time: invalid duration "3000000h"'],
    ['-1h', 'expiry duration cannot be a negative value'],
    ['500ms', 'expiry duration supports minimum granularity of seconds'],
    ['1us', 'expiry duration supports minimum granularity of seconds'],
    ['1µs', 'expiry duration supports minimum granularity of seconds'],
    ['1ns', 'expiry duration supports minimum granularity of seconds'],
  ])('%j is refused: %s', (value, message) => {
    expect(() => parseExpiry(value)).toThrow(message);
  });

  it('keeps Go units and sub-second values in nanoseconds', () => {
    expect(parseGoDuration('1h2m3s4ms5us6ns')).toBe(3_723_004_005_006n);
    expect(parseGoDuration('-1.5s')).toBe(-1_500_000_000n);
  });
});

describe('parseKeyValues (-m/--user-metadata, --plugin-config)', () => {
  it('splits at the first "=", keeps keys and values as written, and the last value of a repeated key', () => {
    expect(parseKeyValues(['a=b', 'a=c'], 'user-metadata')).toEqual({ a: 'c' });
    expect(parseKeyValues(['a=b=c', ' k = v ', 'x=b,c=d'], 'user-metadata')).toEqual({ a: 'b=c', ' k ': ' v ', x: 'b,c=d' });
    expect(parseKeyValues(undefined, 'user-metadata')).toBeUndefined();
  });

  it.each(['a', '=b', 'a='])('%j is refused with notation message', (pair) => {
    expect(() => parseKeyValues([pair], 'user-metadata')).toThrow(
      'could not parse flag user-metadata: key-value pair requires "=" as separator',
    );
  });
});

describe('the one Go duration parser in milliseconds (webhook timeout, controller flags, kyverno apply TTL)', () => {
  it('goDurationMs: a Go duration, or undefined', () => {
    expect(goDurationMs('10s')).toBe(10_000);
    expect(goDurationMs('1m30s')).toBe(90_000);
    expect(goDurationMs('720h0m0s')).toBe(2_592_000_000);
    expect(goDurationMs('500ms')).toBe(500);
    expect(goDurationMs('10')).toBeUndefined();
    expect(goDurationMs('1d')).toBeUndefined();
  });

  it('parseDurationFlag: a Go duration or bare seconds; anything else is a usage error naming the flag', () => {
    expect(parseDurationFlag('90', '--scan-interval')).toBe(90_000);
    expect(parseDurationFlag('1h30m', '--scan-interval')).toBe(5_400_000);
    for (const bad of ['', '-5s', '1d', 'soon'])
      expect(() => parseDurationFlag(bad, '--cache-ttl')).toThrow(`--cache-ttl value ${bad} is not a duration`);
  });
});
