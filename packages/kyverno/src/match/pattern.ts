import { isObj } from '../util.js';
import { wildcardMatch } from './wildcard.js';

/** Outcome of matching a `validate.pattern` against a resource. */
export type PatternResult = { ok: true } | { ok: false; path: string; skip?: boolean; reason: string };

function parseAnchor(key: string): { kind: '' | 'cond' | 'eq' | 'neg' | 'exist' | 'global' | 'add'; key: string } {
  const m = /^([=X^<+]?)\((.+)\)$/.exec(key);
  if (!m) return { kind: '', key };
  const k = m[2]!;
  switch (m[1]) {
    case '':
      return { kind: 'cond', key: k };
    case '=':
      return { kind: 'eq', key: k };
    case 'X':
      return { kind: 'neg', key: k };
    case '^':
      return { kind: 'exist', key: k };
    case '<':
      return { kind: 'global', key: k };
    default:
      return { kind: 'add', key: k };
  }
}

function toNum(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function scalarMatch(value: unknown, pattern: unknown): boolean {
  if (pattern === null) return value === null || value === undefined;
  if (typeof pattern === 'boolean') return value === pattern;
  if (typeof pattern === 'number') {
    const n = toNum(value);
    return n !== undefined && n === pattern;
  }
  if (typeof pattern !== 'string') return false;
  if (pattern.includes('|')) return pattern.split('|').some((p) => scalarMatch(value, p.trim()));
  if (pattern.includes('&')) return pattern.split('&').every((p) => scalarMatch(value, p.trim()));
  const str = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  for (const op of ['>=', '<=', '>', '<', '!=']) {
    if (pattern.startsWith(op)) {
      const rhs = pattern.slice(op.length).trim();
      const a = toNum(value);
      const b = toNum(rhs);
      if (op === '!=') return a !== undefined && b !== undefined ? a !== b : !wildcardMatch(rhs, str);
      if (a === undefined || b === undefined) return false;
      return op === '>=' ? a >= b : op === '<=' ? a <= b : op === '>' ? a > b : a < b;
    }
  }
  if (pattern.startsWith('!')) return !wildcardMatch(pattern.slice(1), str);
  if (value === null || value === undefined) return pattern === '' || pattern === '*';
  return wildcardMatch(pattern, str);
}

function matchValue(value: unknown, pattern: unknown, path: string): PatternResult {
  if (isObj(pattern)) {
    if (!isObj(value)) return { ok: false, path, reason: `expected an object at ${path}` };
    return matchMap(value, pattern, path);
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value)) return { ok: false, path, reason: `expected a list at ${path}` };
    if (pattern.length === 0) return { ok: true };
    if (pattern.length === 1 && (isObj(pattern[0]) || Array.isArray(pattern[0]))) {
      for (let i = 0; i < value.length; i++) {
        const r = matchValue(value[i], pattern[0], `${path}${i}/`);
        if (!r.ok && !r.skip) return r;
      }
      return { ok: true };
    }
    if (pattern.length === 1) {
      for (let i = 0; i < value.length; i++) {
        if (!scalarMatch(value[i], pattern[0])) return { ok: false, path: `${path}${i}/`, reason: 'value does not match pattern' };
      }
      return { ok: true };
    }
    if (pattern.length !== value.length) return { ok: false, path, reason: 'list length does not match pattern' };
    for (let i = 0; i < value.length; i++) {
      const r = matchValue(value[i], pattern[i], `${path}${i}/`);
      if (!r.ok) return r;
    }
    return { ok: true };
  }
  return scalarMatch(value, pattern)
    ? { ok: true }
    : { ok: false, path, reason: `value ${JSON.stringify(value)} does not match ${JSON.stringify(pattern)}` };
}

function matchMap(value: Record<string, unknown>, pattern: Record<string, unknown>, path: string): PatternResult {
  // Conditional anchors first: when one does not hold, the pattern does not apply (skip).
  for (const [k, p] of Object.entries(pattern)) {
    const a = parseAnchor(k);
    if (a.kind !== 'cond' && a.kind !== 'global') continue;
    const r = Object.hasOwn(value, a.key)
      ? matchValue(value[a.key], p, `${path}${a.key}/`)
      : { ok: false as const, path, reason: 'anchor key missing' };
    if (!r.ok) return { ok: false, path: `${path}${a.key}/`, skip: true, reason: `conditional anchor mismatch at ${path}${a.key}` };
  }
  for (const [k, p] of Object.entries(pattern)) {
    const a = parseAnchor(k);
    const p2 = `${path}${a.key}/`;
    switch (a.kind) {
      case 'cond':
      case 'global':
      case 'add':
        break;
      case 'neg':
        if (Object.hasOwn(value, a.key)) return { ok: false, path: p2, reason: `field ${a.key} is not allowed` };
        break;
      case 'eq':
        if (Object.hasOwn(value, a.key)) {
          const r = matchValue(value[a.key], p, p2);
          if (!r.ok) return { ...r, skip: false };
        }
        break;
      case 'exist': {
        const v = value[a.key];
        if (!Array.isArray(v)) return { ok: false, path: p2, reason: `field ${a.key} must be a list` };
        const elem = Array.isArray(p) ? p[0] : p;
        if (!v.some((x) => matchValue(x, elem, p2).ok)) return { ok: false, path: p2, reason: `no element of ${a.key} matches` };
        break;
      }
      default: {
        if (!Object.hasOwn(value, a.key)) {
          if (p === '*' || (typeof p === 'string' && p.startsWith('!'))) break;
          return { ok: false, path: p2, reason: `field ${p2} not found` };
        }
        const r = matchValue(value[a.key], p, p2);
        if (!r.ok) return r;
      }
    }
  }
  return { ok: true };
}

/**
 * Matches a Kyverno `validate.pattern` against a resource: wildcards, `!`, `|`, `&`, numeric
 * comparisons, list element patterns and the anchors `(key)`, `=(key)`, `X(key)`, `^(key)`.
 * A failing conditional anchor yields `{ok:false, skip:true}` (the rule does not apply).
 */
export function matchPattern(resource: unknown, pattern: unknown): PatternResult {
  return matchValue(resource, pattern, '/');
}
