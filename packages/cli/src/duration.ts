import { UsageError } from './context.js';

const NS_PER: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_NS = (1n << 63n) - 1n;

/**
 * Parse a duration as Go's `time.ParseDuration` does (what notation's `--expiry` flag takes): an
 * optional sign, then one or more decimal numbers each with a unit (`ns`, `us`/`µs`, `ms`, `s`,
 * `m`, `h`), e.g. `24h`, `1h30m`, `1.5h`, `90s`; `0` alone needs no unit. Days are not a unit.
 * Returns nanoseconds; throws an Error with Go's message (`time: unknown unit "d" in duration "1d"`).
 */
export function parseGoDuration(input: string): bigint {
  const quoted = JSON.stringify(input);
  const invalid = () => new Error(`time: invalid duration ${quoted}`);
  let s = input;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    // the number: digits, then optionally a dot and more digits (at least one digit in all)
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const whole = num[1] ?? '';
    const frac = num[2];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(num[0].length);
    const unitMatch = /^[^0-9.]*/.exec(s)!;
    const unit = unitMatch[0];
    if (unit === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const per = NS_PER[unit];
    if (per === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    let v = (whole === '' ? 0n : BigInt(whole)) * per;
    if (frac) {
      // Go scales the fraction in floating point and truncates
      v += BigInt(Math.trunc(Number(`0.${frac}`) * Number(per)));
    }
    total += v;
    if (total > MAX_NS) throw invalid();
  }
  return negative ? -total : total;
}

/** A Go duration in milliseconds (sub-millisecond parts dropped); undefined when it is not one. */
export function goDurationMs(text: string): number | undefined {
  try {
    return Number(parseGoDuration(text) / 1_000_000n);
  } catch {
    return undefined;
  }
}

/**
 * A duration flag of the long-running commands: a Go duration (`90s`, `30m`, `1h30m`, `500ms`) or a
 * bare number of seconds; positive. Returns milliseconds.
 */
export function parseDurationFlag(value: unknown, flag: string): number {
  const s = String(value).trim();
  const ms = /^\d+$/.test(s) ? Number(s) * 1000 : goDurationMs(s);
  if (ms === undefined || ms < 0) throw new UsageError(`${flag} value ${s} is not a duration (write e.g. 90s, 30m, 1h)`);
  return ms;
}

/**
 * notation's `--expiry`: a Go duration in whole seconds, not negative; `0` means no expiry.
 * Messages are notation's.
 */
export function parseExpiry(value: string): number {
  let ns: bigint;
  try {
    ns = parseGoDuration(value);
  } catch (e) {
    throw new UsageError(`invalid argument ${JSON.stringify(value)} for "-e, --expiry" flag: ${(e as Error).message}`);
  }
  if (ns < 0n) throw new UsageError('expiry duration cannot be a negative value');
  if (ns % 1_000_000_000n !== 0n) throw new UsageError('expiry duration supports minimum granularity of seconds');
  return Number(ns / 1_000_000_000n);
}
