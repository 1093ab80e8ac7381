import { VouchError } from '@vouch/core';
import { wildcardMatch } from '../match/wildcard.js';
import type { JmesEngine } from './jmespath.js';

const VAR_RE = /\{\{([^{}]*)\}\}/;

/** Options for {@link substituteVariables}. */
export interface SubstituteOptions {
  /** Variables that resolve to nothing become `null` (conditions) instead of an error; a broken expression still throws. */
  nullOnMissing?: boolean;
  /** Object keys whose values are left untouched (e.g. `conditions` evaluated later). */
  skipKeys?: readonly string[];
}

/** True when the value (deeply) contains a `{{ }}` variable. */
export function hasVariables(value: unknown): boolean {
  if (typeof value === 'string') return VAR_RE.test(value);
  if (Array.isArray(value)) return value.some(hasVariables);
  if (value && typeof value === 'object') return Object.values(value).some(hasVariables);
  return false;
}

function substituteString(s: string, ctx: unknown, jmes: JmesEngine, opts: SubstituteOptions): unknown {
  let cur: unknown = s;
  for (let guard = 0; guard < 100 && typeof cur === 'string'; guard++) {
    const m = VAR_RE.exec(cur);
    if (!m) return cur;
    const expr = m[1]!.trim();
    // A JMESPath search answers null for a missing value; it throws only for a broken expression
    // or a failing function, which is an error even where missing values are tolerated (Kyverno
    // tolerates only "not found" in conditions): swallowing it could turn a precondition or a
    // deny condition into a skip or a pass.
    const v: unknown = expr === '' ? null : jmes.search(expr, ctx);
    if ((v === null || v === undefined) && !opts.nullOnMissing) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `variable ${m[0]} could not be resolved`, { details: { variable: expr } });
    }
    if (m[0] === cur) return v ?? null;
    const text = typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v);
    cur = cur.slice(0, m.index) + text + cur.slice(m.index + m[0].length);
  }
  return cur;
}

/**
 * Replaces `{{ jmespath }}` variables in every string of `value` (innermost first, so nested variables
 * work). A string that is exactly one variable takes the variable's JSON value; otherwise the value is
 * interpolated as text. Throws VouchError ERR_INVALID_ARGUMENT for unresolvable variables.
 */
export function substituteVariables(value: unknown, ctx: unknown, jmes: JmesEngine, opts: SubstituteOptions = {}): unknown {
  if (typeof value === 'string') return substituteString(value, ctx, jmes, opts);
  if (Array.isArray(value)) return value.map((v) => substituteVariables(v, ctx, jmes, opts));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = opts.skipKeys?.includes(k) ? v : substituteVariables(v, ctx, jmes, opts);
    }
    return out;
  }
  return value;
}

/** One Kyverno condition. */
export interface Condition {
  key?: unknown;
  operator?: string;
  value?: unknown;
  message?: string;
}

/** `{any, all}` condition block, or (v1) a bare list that is ANDed. */
export type ConditionBlock = { any?: Condition[]; all?: Condition[] } | Condition[];

/** Result of evaluating a condition block. */
export interface ConditionsResult {
  passed: boolean;
  /** Messages of the conditions that failed (when they carry one). */
  messages: string[];
}

const DURATION_RE = /^([+-]?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;
const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDuration(s: string): number | undefined {
  if (!DURATION_RE.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return s.startsWith('-') ? -total : total;
}

const QUANTITY_SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

function parseQuantity(s: string): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/.exec(s);
  if (!m) return undefined;
  const suf = m[2] ?? '';
  if (/^[eE]/.test(suf)) return Number(m[1]) * 10 ** Number(suf.slice(1));
  return Number(m[1]) * QUANTITY_SUFFIX[suf]!;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const d = parseDuration(v);
    if (d !== undefined) return d;
    return parseQuantity(v);
  }
  return undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function equals(key: unknown, value: unknown): boolean {
  if (typeof key === 'string' && typeof value === 'string') {
    if (wildcardMatch(value, key)) return true;
    const dk = parseDuration(key);
    const dv = parseDuration(value);
    if (dk !== undefined && dv !== undefined) return dk === dv;
    const qk = parseQuantity(key);
    const qv = parseQuantity(value);
    if (qk !== undefined && qv !== undefined && /[a-zA-Z]/.test(key + value)) return qk === qv;
    return false;
  }
  if (typeof key === 'number' || typeof value === 'number') {
    const a = toNumber(key);
    const b = toNumber(value);
    return a !== undefined && b !== undefined && a === b;
  }
  // a bool key takes only a bool value, and a string key no bool value (Kyverno's Equal handler)
  if (typeof key === 'boolean' || typeof value === 'boolean') return key === value;
  if (key === null || key === undefined) return value === null || value === undefined || value === '';
  return deepEqual(key, value);
}

function asList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        const parsed = JSON.parse(t);
        if (Array.isArray(parsed)) return parsed;
      } catch {
        // not a JSON list: treat as scalar
      }
    }
  }
  if (v === null || v === undefined) return [];
  return [v];
}

function inList(k: unknown, list: unknown[]): boolean {
  return list.some((v) => {
    if (typeof k === 'string' && typeof v === 'string') return wildcardMatch(v, k) || wildcardMatch(k, v);
    return equals(k, v);
  });
}

function compareNumbers(key: unknown, value: unknown, op: (a: number, b: number) => boolean): boolean {
  const a = toNumber(key);
  const b = toNumber(value);
  if (a === undefined || b === undefined) return false;
  return op(a, b);
}

/** Evaluates one condition (operators are case-insensitive, as in Kyverno). Throws on unknown operators. */
export function evaluateCondition(key: unknown, operator: string, value: unknown): boolean {
  switch (operator.toLowerCase()) {
    case 'equals':
    case 'equal':
      return equals(key, value);
    case 'notequals':
    case 'notequal':
      return !equals(key, value);
    case 'anyin': {
      const list = asList(value);
      return asList(key).some((k) => inList(k, list));
    }
    case 'allin':
    case 'in': {
      const list = asList(value);
      const keys = asList(key);
      return keys.length > 0 ? keys.every((k) => inList(k, list)) : operator.toLowerCase() === 'allin';
    }
    case 'anynotin': {
      const list = asList(value);
      return asList(key).some((k) => !inList(k, list));
    }
    case 'allnotin':
    case 'notin': {
      const list = asList(value);
      return asList(key).every((k) => !inList(k, list));
    }
    case 'greaterthan':
    case 'durationgreaterthan':
      return compareNumbers(key, value, (a, b) => a > b);
    case 'greaterthanorequals':
    case 'durationgreaterthanorequals':
      return compareNumbers(key, value, (a, b) => a >= b);
    case 'lessthan':
    case 'durationlessthan':
      return compareNumbers(key, value, (a, b) => a < b);
    case 'lessthanorequals':
    case 'durationlessthanorequals':
      return compareNumbers(key, value, (a, b) => a <= b);
    default:
      throw new VouchError('ERR_INVALID_ARGUMENT', `unknown condition operator ${JSON.stringify(operator)}`);
  }
}

/**
 * Evaluates a condition block: (any empty OR some `any` condition true) AND (every `all` condition true).
 * Keys and values are substituted against `ctx` first (unresolvable variables become null).
 */
export function evaluateConditions(block: ConditionBlock | undefined, ctx: unknown, jmes: JmesEngine): ConditionsResult {
  if (!block) return { passed: true, messages: [] };
  const one = (c: Condition, messages: string[]): boolean => {
    const key = substituteVariables(c.key ?? null, ctx, jmes, { nullOnMissing: true });
    const value = substituteVariables(c.value ?? null, ctx, jmes, { nullOnMissing: true });
    const ok = evaluateCondition(key, c.operator ?? 'Equals', value);
    if (!ok && c.message) messages.push(String(substituteVariables(c.message, ctx, jmes, { nullOnMissing: true }) ?? ''));
    return ok;
  };
  const messages: string[] = [];
  if (Array.isArray(block)) {
    let passed = true;
    for (const c of block) if (!one(c, messages)) passed = false;
    return { passed, messages };
  }
  let anyOk = true;
  if (block.any && block.any.length > 0) {
    const anyMsgs: string[] = [];
    anyOk = false;
    for (const c of block.any) if (one(c, anyMsgs)) anyOk = true;
    if (!anyOk) messages.push(...anyMsgs);
  }
  let allOk = true;
  for (const c of block.all ?? []) if (!one(c, messages)) allOk = false;
  return { passed: anyOk && allOk, messages };
}
