import {
  compile,
  type JSONValue,
  TreeInterpreter,
  TYPE_ANY,
  TYPE_ARRAY,
  TYPE_NUMBER,
  TYPE_OBJECT,
  TYPE_STRING,
} from '@jmespath-community/jmespath';
import { utf8, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8, toBase64 } from '@vouch/core/internal';
import { parse as parseYaml } from 'yaml';
import { wildcardMatch } from '../match/wildcard.js';
import { getImageInfo } from '../resource/images.js';

/** A JMESPath evaluator with Kyverno's custom functions registered on this instance only. */
export interface JmesEngine {
  /** Evaluates `expression` against `data`; throws VouchError ERR_INVALID_ARGUMENT on syntax or function errors. */
  search(expression: string, data: unknown): unknown;
}

type Interp = { runtime: { register: (...a: unknown[]) => unknown }; search: (node: unknown, v: JSONValue) => JSONValue };

function parseTime(s: unknown, fn: string): number {
  if (typeof s !== 'string') throw new Error(`${fn}: expected an RFC 3339 time string`);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`${fn}: cannot parse time ${JSON.stringify(s)}`);
  return t;
}

/**
 * Creates an isolated JMESPath engine with the Kyverno functions vouch supports:
 * `parse_json`, `parse_yaml`, `to_upper`, `to_lower`, `trim_prefix`, `trim_suffix`, `equal_fold`, `compare`,
 * `replace_all`, `regex_match`, `regex_replace_all`, `pattern_match`, `label_match`, `to_boolean`,
 * `base64_encode`, `base64_decode`, `truncate`, `time_after`, `time_before`, `time_now_utc`, `add`,
 * `subtract`, `multiply`, `divide`, `image_normalize`, `lookup`. Nothing is registered globally.
 */
export function createJmesEngine(options: { now?: () => Date } = {}): JmesEngine {
  const Ctor = (TreeInterpreter as unknown as { constructor: new () => Interp }).constructor;
  const interp = new Ctor();
  const now = options.now ?? (() => new Date());
  const reg = (name: string, fn: (args: unknown[]) => unknown, types: number[][]) => {
    interp.runtime.register(
      name,
      (args: unknown[]) => fn(args) as JSONValue,
      types.map((t) => ({ types: t })),
    );
  };
  const S = [TYPE_STRING];
  reg('parse_json', ([s]) => JSON.parse(s as string), [S]);
  reg('parse_yaml', ([s]) => parseYaml(s as string), [S]);
  reg('to_upper', ([s]) => (s as string).toUpperCase(), [S]);
  reg('to_lower', ([s]) => (s as string).toLowerCase(), [S]);
  reg('trim_prefix', ([s, p]) => ((s as string).startsWith(p as string) ? (s as string).slice((p as string).length) : s), [S, S]);
  reg('trim_suffix', ([s, p]) => ((s as string).endsWith(p as string) ? (s as string).slice(0, -(p as string).length || undefined) : s), [
    S,
    S,
  ]);
  reg('equal_fold', ([a, b]) => (a as string).toLowerCase() === (b as string).toLowerCase(), [S, S]);
  reg('compare', ([a, b]) => ((a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0), [S, S]);
  reg('replace_all', ([s, o, n]) => (s as string).split(o as string).join(n as string), [S, S, S]);
  reg('regex_match', ([re, s]) => new RegExp(re as string).test(String(s)), [S, [TYPE_STRING, TYPE_NUMBER]]);
  reg('regex_replace_all', ([re, s, r]) => String(s).replace(new RegExp(re as string, 'g'), String(r).replace(/\$\{?(\d+)\}?/g, '$$$1')), [
    S,
    [TYPE_STRING, TYPE_NUMBER],
    [TYPE_STRING, TYPE_NUMBER],
  ]);
  reg('pattern_match', ([p, s]) => wildcardMatch(p as string, String(s)), [S, [TYPE_STRING, TYPE_NUMBER]]);
  reg(
    'label_match',
    ([sel, labels]) => {
      const l = labels as Record<string, unknown>;
      return Object.entries(sel as Record<string, unknown>).every(([k, v]) => l[k] === v);
    },
    [[TYPE_OBJECT], [TYPE_OBJECT]],
  );
  reg(
    'to_boolean',
    ([s]) => {
      const v = (s as string).toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw new Error(`to_boolean: cannot convert ${JSON.stringify(s)}`);
    },
    [S],
  );
  reg('base64_encode', ([s]) => toBase64(utf8(s as string)), [S]);
  reg('base64_decode', ([s]) => fromUtf8(fromBase64(s as string)), [S]);
  reg('truncate', ([s, n]) => (s as string).slice(0, Math.max(0, n as number)), [S, [TYPE_NUMBER]]);
  reg('time_after', ([a, b]) => parseTime(a, 'time_after') > parseTime(b, 'time_after'), [S, S]);
  reg('time_before', ([a, b]) => parseTime(a, 'time_before') < parseTime(b, 'time_before'), [S, S]);
  reg(
    'time_now_utc',
    () =>
      now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    [],
  );
  reg('add', ([a, b]) => (a as number) + (b as number), [[TYPE_NUMBER], [TYPE_NUMBER]]);
  reg('subtract', ([a, b]) => (a as number) - (b as number), [[TYPE_NUMBER], [TYPE_NUMBER]]);
  reg('multiply', ([a, b]) => (a as number) * (b as number), [[TYPE_NUMBER], [TYPE_NUMBER]]);
  reg(
    'divide',
    ([a, b]) => {
      if (b === 0) throw new Error('divide: division by zero');
      return (a as number) / (b as number);
    },
    [[TYPE_NUMBER], [TYPE_NUMBER]],
  );
  reg('image_normalize', ([s]) => getImageInfo(s as string).reference, [S]);
  reg(
    'lookup',
    ([c, k]) => {
      if (Array.isArray(c)) return c[k as number] ?? null;
      return (c as Record<string, unknown>)[k as string] ?? null;
    },
    [
      [TYPE_OBJECT, TYPE_ARRAY],
      [TYPE_STRING, TYPE_NUMBER],
    ],
  );
  void TYPE_ANY;
  const cache = new Map<string, unknown>();
  return {
    search(expression, data) {
      try {
        let node = cache.get(expression);
        if (node === undefined) {
          node = compile(expression);
          if (cache.size > 500) cache.clear();
          cache.set(expression, node);
        }
        return interp.search(node, (data ?? null) as JSONValue);
      } catch (e) {
        if (e instanceof VouchError) throw e;
        throw new VouchError('ERR_INVALID_ARGUMENT', `JMESPath query failed: ${expression}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    },
  };
}
