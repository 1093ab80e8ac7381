import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter } from 'yaml';

/** A path from the policy root: keys and list indexes. */
export type Path = (string | number)[];

/** `spec.rules[0].verifyImages[1].type` */
export function formatPath(path: readonly (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/** Locates YAML source positions of paths in one parsed document (at the key with `atKey`, else at the value). */
export type Locator = (path: Path, atKey?: boolean) => { line: number; column: number } | undefined;

/** The {@link Locator} of one document; a path that leaves the document is located at its deepest existing node. */
export function makeLocator(doc: Document, lc: LineCounter, offsetLine = 0): Locator {
  return (path, atKey) => {
    let node: unknown = doc.contents;
    let pos: [number, number] | undefined;
    const set = (n: unknown) => {
      const r = (n as { range?: [number, number, number] } | null)?.range;
      if (r) pos = [r[0], r[1]];
    };
    set(node);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        if (last && atKey) {
          set(pair.key);
          node = undefined;
          break;
        }
        set(pair.key);
        node = pair.value;
        if (node) set(node);
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        node = item;
        set(node);
      } else break;
    }
    if (!pos) return undefined;
    const lp = lc.linePos(pos[0]);
    return { line: lp.line + offsetLine, column: lp.col };
  };
}
