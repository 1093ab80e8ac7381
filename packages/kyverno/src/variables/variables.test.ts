import { VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { createJmesEngine } from './jmespath.js';
import { evaluateCondition, evaluateConditions, hasVariables, substituteVariables } from './variables.js';

const jmes = createJmesEngine();
const ctx = { key: 'app', labels: { app: 'web' }, n: 3, obj: { a: 1 }, list: ['x', 'y'] };

function thrown(f: () => unknown): VouchError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VouchError);
    return e as VouchError;
  }
  throw new Error('expected an error');
}

describe('hasVariables', () => {
  it('finds a {{ }} variable anywhere in a value', () => {
    expect(hasVariables({ a: [1, { b: 'x {{ y }}' }] })).toBe(true);
    expect(hasVariables(['plain', { b: 'text' }, 3, null])).toBe(false);
    expect(hasVariables('{{ only opening')).toBe(false);
  });
});

describe('substituteVariables', () => {
  it('a string that is exactly one variable takes its JSON value; otherwise the value is interpolated as text', () => {
    expect(substituteVariables('{{ n }}', ctx, jmes)).toBe(3);
    expect(substituteVariables('{{ obj }}', ctx, jmes)).toEqual({ a: 1 });
    expect(substituteVariables('n={{ n }} o={{ obj }} l={{ list }}', ctx, jmes)).toBe('n=3 o={"a":1} l=["x","y"]');
  });

  it('resolves nested variables innermost first', () => {
    expect(substituteVariables('{{ labels.{{ key }} }}', ctx, jmes)).toBe('web');
  });

  it('walks arrays and objects, leaving skipped keys untouched', () => {
    expect(
      substituteVariables({ a: ['{{ key }}', 1], conditions: '{{ key }}', nested: { b: '{{ labels.app }}' } }, ctx, jmes, {
        skipKeys: ['conditions'],
      }),
    ).toEqual({
      a: ['app', 1],
      conditions: '{{ key }}',
      nested: { b: 'web' },
    });
  });

  it('an unresolvable variable is an error naming it, or null (empty text) with nullOnMissing', () => {
    const e = thrown(() => substituteVariables('{{ missing.value }}', ctx, jmes));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toBe('variable {{ missing.value }} could not be resolved');
    expect(e.details).toEqual({ variable: 'missing.value' });
    expect(substituteVariables('{{ missing }}', ctx, jmes, { nullOnMissing: true })).toBeNull();
    expect(substituteVariables('x{{ missing }}y', ctx, jmes, { nullOnMissing: true })).toBe('xy');
    expect(thrown(() => substituteVariables('{{}}', ctx, jmes)).message).toBe('variable {{}} could not be resolved');
  });

  it('a broken expression is an error even with nullOnMissing (it must never turn into a skip or a pass)', () => {
    const e = thrown(() => substituteVariables('{{ to_upper(n) }}', ctx, jmes, { nullOnMissing: true }));
    expect(e.message).toMatch(/^JMESPath query failed: to_upper\(n\): /);
  });
});

describe('evaluateCondition', () => {
  it('Equals: wildcards in the value, durations, quantities, numbers and strings; a boolean equals only the same boolean', () => {
    expect(evaluateCondition('nginx:1', 'Equals', 'nginx:*')).toBe(true);
    expect(evaluateCondition('nginx:1', 'Equals', 'redis:*')).toBe(false);
    expect(evaluateCondition('1h', 'Equals', '60m')).toBe(true);
    expect(evaluateCondition('1Gi', 'Equals', '1024Mi')).toBe(true);
    expect(evaluateCondition('5', 'Equals', 5)).toBe(true);
    expect(evaluateCondition(5, 'Equals', '5')).toBe(true);
    expect(evaluateCondition('1e3', 'Equals', 1000)).toBe(true);
    // Kyverno's Equal handler wants a bool for a bool key, and a string key takes no bool value
    expect(evaluateCondition(true, 'Equals', true)).toBe(true);
    expect(evaluateCondition(false, 'Equals', true)).toBe(false);
    expect(evaluateCondition(true, 'Equals', 'True')).toBe(false);
    expect(evaluateCondition(true, 'Equals', 'true')).toBe(false);
    expect(evaluateCondition('true', 'Equals', true)).toBe(false);
    expect(evaluateCondition(true, 'NotEquals', 'True')).toBe(true);
    expect(evaluateCondition({ a: [1] }, 'Equals', { a: [1] })).toBe(true);
    expect(evaluateCondition({ a: [1] }, 'Equals', { a: [2] })).toBe(false);
  });

  it('a missing key equals only null, undefined or the empty string', () => {
    expect(evaluateCondition(null, 'Equals', '')).toBe(true);
    expect(evaluateCondition(null, 'Equals', null)).toBe(true);
    expect(evaluateCondition(null, 'Equals', 'x')).toBe(false);
    expect(evaluateCondition(null, 'NotEquals', 'x')).toBe(true);
  });

  it('AnyIn / AllIn / AnyNotIn / AllNotIn over lists, JSON list strings and wildcards either way', () => {
    expect(evaluateCondition(['a', 'b'], 'AnyIn', ['b', 'c'])).toBe(true);
    expect(evaluateCondition(['a', 'b'], 'AllIn', ['a', 'b', 'c'])).toBe(true);
    expect(evaluateCondition(['a', 'b'], 'AllIn', ['a*'])).toBe(false);
    expect(evaluateCondition('["a","b"]', 'AllIn', ['a', 'b'])).toBe(true);
    expect(evaluateCondition('x*', 'AnyIn', ['xyz'])).toBe(true);
    expect(evaluateCondition(['a', 'z'], 'AnyNotIn', ['a'])).toBe(true);
    expect(evaluateCondition(['a', 'z'], 'AllNotIn', ['a'])).toBe(false);
    expect(evaluateCondition(['z'], 'AllNotIn', ['a'])).toBe(true);
    // an empty key list: AllIn holds vacuously, the deprecated In does not
    expect(evaluateCondition([], 'AllIn', ['a'])).toBe(true);
    expect(evaluateCondition([], 'In', ['a'])).toBe(false);
  });

  it('ordering operators compare numbers, durations and quantities; anything else does not hold', () => {
    expect(evaluateCondition('2h', 'GreaterThan', '90m')).toBe(true);
    expect(evaluateCondition('1Gi', 'GreaterThan', '1000Mi')).toBe(true);
    expect(evaluateCondition(3, 'GreaterThanOrEquals', 3)).toBe(true);
    expect(evaluateCondition('10', 'LessThan', 9)).toBe(false);
    expect(evaluateCondition('-1s', 'DurationLessThan', '0s')).toBe(true);
    expect(evaluateCondition('abc', 'GreaterThan', 1)).toBe(false);
    expect(evaluateCondition('abc', 'LessThan', 1)).toBe(false);
  });

  it('operator names are case-insensitive; an unknown one is an error', () => {
    expect(evaluateCondition('a', 'equals', 'a')).toBe(true);
    expect(evaluateCondition('a', 'ANYIN', ['a'])).toBe(true);
    const e = thrown(() => evaluateCondition(1, 'Matches', 1));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toBe('unknown condition operator "Matches"');
  });
});

describe('evaluateConditions', () => {
  it('passes when some `any` condition and every `all` condition hold; an absent or empty block passes', () => {
    const yes = { key: '{{ key }}', operator: 'Equals', value: 'app' };
    const no = { key: '{{ n }}', operator: 'Equals', value: 4 };
    expect(evaluateConditions({ any: [no, yes], all: [yes] }, ctx, jmes).passed).toBe(true);
    expect(evaluateConditions({ any: [no], all: [yes] }, ctx, jmes).passed).toBe(false);
    expect(evaluateConditions({ any: [yes], all: [yes, no] }, ctx, jmes).passed).toBe(false);
    expect(evaluateConditions(undefined, ctx, jmes)).toEqual({ passed: true, messages: [] });
    expect(evaluateConditions({}, ctx, jmes)).toEqual({ passed: true, messages: [] });
  });

  it('reports the substituted messages of the failing conditions (`any` ones only when no `any` holds)', () => {
    const block = (anyValue: string) => ({
      any: [
        { key: '{{ key }}', operator: 'Equals', value: anyValue, message: 'key is {{ key }}' },
        { key: 1, operator: 'Equals', value: 2, message: 'one is not two' },
      ],
      all: [{ key: '{{ n }}', operator: 'Equals', value: 4, message: 'n is {{ n }}' }],
    });
    expect(evaluateConditions(block('x'), ctx, jmes)).toEqual({ passed: false, messages: ['key is app', 'one is not two', 'n is 3'] });
    expect(evaluateConditions(block('app'), ctx, jmes)).toEqual({ passed: false, messages: ['n is 3'] });
  });

  it('a v1 list of conditions is ANDed; a missing variable is null there, a broken expression an error', () => {
    expect(
      evaluateConditions(
        [
          { key: '{{ missing }}', operator: 'Equals', value: null },
          { key: '{{ key }}', operator: 'NotEquals', value: 'app', message: 'is app' },
        ],
        ctx,
        jmes,
      ),
    ).toEqual({ passed: false, messages: ['is app'] });
    expect(() => evaluateConditions([{ key: '{{ to_upper(n) }}', operator: 'Equals', value: 'x' }], ctx, jmes)).toThrow(
      /JMESPath query failed/,
    );
  });
});
