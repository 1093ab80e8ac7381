import { VouchError } from '@vouch/core';
import type { JsonPatchOperation } from './metadata.js';

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Applies RFC 6902 `add` / `replace` / `remove` operations to a deep copy of `doc`. */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  const root = JSON.parse(JSON.stringify(doc)) as unknown;
  let out = root;
  for (const op of ops) {
    const parts = op.path === '' ? [] : op.path.split('/').slice(1).map(unescapePointer);
    if (parts.length === 0) {
      if (op.op === 'add' || op.op === 'replace') out = JSON.parse(JSON.stringify(op.value));
      continue;
    }
    let parent: unknown = out;
    for (const p of parts.slice(0, -1)) {
      if (Array.isArray(parent)) parent = parent[Number(p)];
      else if (parent && typeof parent === 'object') parent = (parent as Record<string, unknown>)[p];
      else parent = undefined;
      if (parent === undefined) throw new VouchError('ERR_INVALID_ARGUMENT', `JSON patch path ${op.path} does not exist`);
    }
    const last = parts[parts.length - 1]!;
    const value = op.value === undefined ? undefined : JSON.parse(JSON.stringify(op.value));
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
