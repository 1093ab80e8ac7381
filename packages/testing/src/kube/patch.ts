/** JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as the API server applies them to stored objects. */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge key by key, `null` removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map(unescapeToken);
}

function getAt(doc: unknown, tokens: string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

/** RFC 6902 on a deep copy of `doc`: add, remove, replace, move, copy, test. Throws on a failed op. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new Error('a JSON patch must be an array of operations');
  let root = structuredClone(doc);
  const container = (tokens: string[]) => {
    const parent = getAt(root, tokens.slice(0, -1));
    if (!Array.isArray(parent) && !isObj(parent)) throw new Error(`path /${tokens.join('/')} has no parent`);
    return parent as Json[] | Record<string, Json>;
  };
  const add = (tokens: string[], value: unknown) => {
    if (tokens.length === 0) {
      root = value;
      return;
    }
    const parent = container(tokens);
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new Error(`index ${last} out of range`);
      parent.splice(i, 0, value as Json);
    } else parent[last] = value as Json;
  };
  const remove = (tokens: string[]) => {
    const parent = container(tokens);
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(parent)) {
      const i = Number(last);
      if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new Error(`index ${last} out of range`);
      parent.splice(i, 1);
    } else {
      if (!Object.hasOwn(parent, last)) throw new Error(`path /${tokens.join('/')} does not exist`);
      delete parent[last];
    }
  };
  for (const op of ops as { op: string; path: string; from?: string; value?: unknown }[]) {
    const path = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        add(path, structuredClone(op.value));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        if (getAt(root, path) === undefined) throw new Error(`path ${op.path} does not exist`);
        if (path.length === 0) root = structuredClone(op.value);
        else {
          remove(path);
          add(path, structuredClone(op.value));
        }
        break;
      case 'move': {
        const from = parsePointer(op.from ?? '');
        const v = getAt(root, from);
        remove(from);
        add(path, v);
        break;
      }
      case 'copy':
        add(path, structuredClone(getAt(root, parsePointer(op.from ?? ''))));
        break;
      case 'test':
        if (JSON.stringify(getAt(root, path)) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
        break;
      default:
        throw new Error(`unknown JSON patch operation ${JSON.stringify(op.op)}`);
    }
  }
  return root;
}
