import { VouchError } from '@vouch/core';
import type { JsonPatchOperation } from './metadata.js';

function unescapePointer(s: string): string {
  return s.includes('~') ? s.replace(/~1/g, '/').replace(/~0/g, '~') : s;
}

/**
 * `JSON.parse(JSON.stringify(v))` for JSON data without the text round trip: undefined/function/symbol
 * members are dropped (array elements become null), non-finite numbers become null, -0 becomes 0.
 * Values that are not plain data (Dates, class instances, toJSON, bigint) take the text round trip.
 */
export function jsonClone(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? (v === 0 ? 0 : v) : null;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) {
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const e = v[i];
          out[i] = e === undefined || typeof e === 'function' || typeof e === 'symbol' ? null : jsonClone(e);
        }
        return out;
      }
      const proto = Object.getPrototypeOf(v);
      if ((proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(v)) {
          const e = (v as Record<string, unknown>)[k];
          if (e === undefined || typeof e === 'function' || typeof e === 'symbol') continue;
          if (k === '__proto__')
            Object.defineProperty(out, k, { value: jsonClone(e), enumerable: true, writable: true, configurable: true });
          else out[k] = jsonClone(e);
        }
        return out;
      }
      return JSON.parse(JSON.stringify(v));
    }
    default:
      return JSON.parse(JSON.stringify(v) as string);
  }
}

/** Applies RFC 6902 `add` / `replace` / `remove` operations to a deep copy of `doc`. */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  return patchInPlace(jsonClone(doc) as T, ops);
}

/**
 * Applies the operations to `doc` itself (which must be a plain JSON copy the caller owns) and returns
 * the result (a different value only when an op replaces the root).
 */
export function patchInPlace<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  return applyOps(doc, ops, undefined);
}

/**
 * Applies the operations without touching `doc` and without copying all of it: only the objects and
 * arrays on the patched paths are copied, everything else is shared with `doc` (so treat both as
 * read-only afterwards). Used for the engine's patched resources.
 */
export function patchShared<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  return applyOps(doc, ops, new Set());
}

function applyOps<T>(doc: T, ops: readonly JsonPatchOperation[], fresh: Set<unknown> | undefined): T {
  // with `fresh` (shared mode): a container is copied the first time a path goes through it
  const own = (v: unknown): unknown => {
    if (!fresh || v === null || typeof v !== 'object' || fresh.has(v)) return v;
    const c = Array.isArray(v) ? v.slice() : { ...(v as Record<string, unknown>) };
    fresh.add(c);
    return c;
  };
  let out: unknown = doc;
  for (const op of ops) {
    const parts = op.path === '' ? [] : op.path.split('/').slice(1).map(unescapePointer);
    if (parts.length === 0) {
      if (op.op === 'add' || op.op === 'replace') out = jsonClone(op.value);
      continue;
    }
    out = own(out);
    let parent: unknown = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      let child: unknown;
      if (Array.isArray(parent)) {
        child = own(parent[Number(p)]);
        if (child !== undefined) parent[Number(p)] = child;
      } else if (parent && typeof parent === 'object') {
        child = own((parent as Record<string, unknown>)[p]);
        if (child !== undefined) (parent as Record<string, unknown>)[p] = child;
      }
      if (child === undefined) throw new VouchError('ERR_INVALID_ARGUMENT', `JSON patch path ${op.path} does not exist`);
      parent = child;
    }
    const last = parts[parts.length - 1]!;
    const value = op.value === undefined ? undefined : jsonClone(op.value);
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(idx, 0, value);
      else if (op.op === 'replace') parent[idx] = value;
      else if (op.op === 'remove') parent.splice(idx, 1);
    } else if (parent && typeof parent === 'object') {
      const o = parent as Record<string, unknown>;
      if (op.op === 'add' || op.op === 'replace') o[last] = value;
      else if (op.op === 'remove') delete o[last];
    } else {
      throw new VouchError('ERR_INVALID_ARGUMENT', `JSON patch path ${op.path} does not exist`);
    }
  }
  return out as T;
}
