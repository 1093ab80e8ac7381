import { search } from '@jmespath-community/jmespath';
import { VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { createJmesEngine } from './jmespath.js';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const jmes = createJmesEngine({ now: () => NOW });
const run = (expression: string, data: unknown = {}) => jmes.search(expression, data);

function failure(expression: string): VouchError {
  try {
    run(expression);
  } catch (e) {
    expect(e).toBeInstanceOf(VouchError);
    return e as VouchError;
  }
  throw new Error(`expected ${expression} to fail`);
}

describe('createJmesEngine', () => {
  it('evaluates standard JMESPath over the data', () => {
    expect(run('spec.containers[].image', { spec: { containers: [{ image: 'a' }, { image: 'b' }] } })).toEqual(['a', 'b']);
    expect(run('missing.path', { a: 1 })).toBeNull();
    // the same expression again comes from the compiled-expression cache, with the new data
    expect(run('spec.containers[].image', { spec: { containers: [{ image: 'c' }] } })).toEqual(['c']);
  });

  it("registers Kyverno's string functions", () => {
    expect(run(`parse_json('{"a":[1,2]}').a[1]`)).toBe(2);
    expect(run(`parse_yaml('a: b').a`)).toBe('b');
    expect(run(`[to_upper('aB'), to_lower('aB')]`)).toEqual(['AB', 'ab']);
    expect(run(`[trim_prefix('v1.2', 'v'), trim_suffix('app.tar', '.tar'), trim_suffix('app', '')]`)).toEqual(['1.2', 'app', 'app']);
    expect(run(`equal_fold('ABC', 'abc')`)).toBe(true);
    expect(run(`[compare('a', 'b'), compare('b', 'a'), compare('a', 'a')]`)).toEqual([-1, 1, 0]);
    expect(run(`replace_all('a-b-c', '-', '.')`)).toBe('a.b.c');
    expect(run(`truncate('abcdef', \`3\`)`)).toBe('abc');
    expect(run(`truncate('abc', \`-1\`)`)).toBe('');
  });

  it('regex functions accept numbers as subjects and Go-style group references ($1, braced or not)', () => {
    expect(run(`regex_match('^v[0-9]+$', 'v12')`)).toBe(true);
    expect(run('regex_match(`"^[0-9]+$"`, `12`)')).toBe(true);
    expect(run(`regex_replace_all('([a-z]+)-([0-9]+)', 'app-12', '$2-$1')`)).toBe('12-app');
    expect(run(`regex_replace_all('([a-z]+)', 'ab', '\${1}!')`)).toBe('ab!');
  });

  it('wildcard, label, boolean and base64 functions', () => {
    expect(run(`pattern_match('nginx:*', 'nginx:1')`)).toBe(true);
    expect(run(`pattern_match('nginx:?', 'nginx:12')`)).toBe(false);
    expect(run(`label_match({app: 'x'}, {app: 'x', tier: 'y'})`)).toBe(true);
    expect(run(`label_match({app: 'x'}, {app: 'z'})`)).toBe(false);
    expect(run(`[to_boolean('True'), to_boolean('false')]`)).toEqual([true, false]);
    expect(failure(`to_boolean('yes')`).message).toContain('to_boolean: cannot convert "yes"');
    expect(run(`base64_encode('héllo')`)).toBe('aMOpbGxv');
    expect(run(`base64_decode(base64_encode('héllo'))`)).toBe('héllo');
  });

  it('time functions compare RFC 3339 times; time_now_utc reads the engine clock to the second', () => {
    expect(run(`time_after('2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z')`)).toBe(true);
    expect(run(`time_before('2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z')`)).toBe(false);
    expect(run('time_now_utc()')).toBe('2026-01-02T03:04:05Z');
    expect(failure(`time_after('nope', '2026-01-01T00:00:00Z')`).message).toContain('time_after: cannot parse time "nope"');
  });

  it('arithmetic; division by zero is an error', () => {
    expect(run('[add(`1`, `2`), subtract(`5`, `2`), multiply(`3`, `2`), divide(`6`, `4`)]')).toEqual([3, 3, 6, 1.5]);
    expect(failure('divide(`1`, `0`)').message).toContain('divide: division by zero');
  });

  it('image_normalize and lookup', () => {
    expect(run(`image_normalize('nginx')`)).toBe('docker.io/nginx:latest');
    expect(run(`[lookup({a: 'b'}, 'a'), lookup(['x', 'y'], \`1\`), lookup({a: 'b'}, 'z')]`)).toEqual(['b', 'y', null]);
  });

  it('syntax errors, unknown functions and type errors are ERR_INVALID_ARGUMENT naming the expression', () => {
    for (const [expression, reason] of [
      ['a.[', /Syntax error/],
      ['unknown_fn(a)', /Unknown function: unknown_fn\(\)/],
      ['to_upper(`1`)', /to_upper\(\) expected argument 1 to be type \(string\)/],
    ] as const) {
      const e = failure(expression);
      expect(e.code).toBe('ERR_INVALID_ARGUMENT');
      expect(e.message.startsWith(`JMESPath query failed: ${expression}: `)).toBe(true);
      expect(e.message).toMatch(reason);
    }
  });

  it('registers nothing globally: the library itself and other engines keep their own clock and functions', () => {
    expect(() => search({}, `to_upper('a')`)).toThrow(/Unknown function: to_upper/);
    const other = createJmesEngine({ now: () => new Date('2030-06-07T08:09:10Z') });
    expect(other.search('time_now_utc()', null)).toBe('2030-06-07T08:09:10Z');
    expect(run('time_now_utc()')).toBe('2026-01-02T03:04:05Z');
  });
});
