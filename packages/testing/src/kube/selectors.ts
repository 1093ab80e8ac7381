/**
 * Label and field selectors as the API server parses them from `labelSelector` / `fieldSelector`
 * query parameters: comma-separated requirements, all of which must hold.
 */

type Requirement =
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] };

/** A parsed selector; `matches` answers for a label map (or a field map). */
export interface Selector {
  readonly empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
}

/** Splits on commas outside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur);
  return out;
}

/** Parses a label selector (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`); throws on syntax errors. */
export function parseSelector(text: string | null | undefined): Selector {
  const reqs: Requirement[] = [];
  for (const raw of splitTop(text ?? '')) {
    const part = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({
        key: m[1]!,
        op: m[2] as 'in' | 'notin',
        values: m[3]!
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      });
    } else if ((m = part.match(/^([^\s!=]+)\s*!=\s*(\S*)$/))) reqs.push({ key: m[1]!, op: '!=', value: m[2]! });
    else if ((m = part.match(/^([^\s!=]+)\s*==?\s*(\S*)$/))) reqs.push({ key: m[1]!, op: '=', value: m[2]! });
    else if ((m = part.match(/^!([^\s!=]+)$/))) reqs.push({ key: m[1]!, op: '!exists' });
    else if ((m = part.match(/^([^\s!=()]+)$/))) reqs.push({ key: m[1]!, op: 'exists' });
    else throw new Error(`unable to parse requirement: ${JSON.stringify(part)}`);
  }
  return {
    empty: reqs.length === 0,
    matches(labels) {
      const l = labels ?? {};
      for (const r of reqs) {
        const has = Object.hasOwn(l, r.key);
        const v = l[r.key];
        switch (r.op) {
          case 'exists':
            if (!has) return false;
            break;
          case '!exists':
            if (has) return false;
            break;
          case '=':
            if (!has || v !== r.value) return false;
            break;
          case '!=':
            if (has && v === r.value) return false;
            break;
          case 'in':
            if (!has || !r.values.includes(v!)) return false;
            break;
          case 'notin':
            if (has && r.values.includes(v!)) return false;
            break;
        }
      }
      return true;
    },
  };
}

/** The fields a field selector may name, for an object. */
export function selectableFields(obj: { metadata?: { name?: string; namespace?: string } }): Record<string, string> {
  return { 'metadata.name': obj.metadata?.name ?? '', 'metadata.namespace': obj.metadata?.namespace ?? '' };
}
