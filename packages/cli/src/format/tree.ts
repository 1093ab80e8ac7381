/** A node of notation's tree output (`inspect`, `list`). */
export interface TreeNode {
  value: string;
  children: TreeNode[];
}

/** Create a tree node. */
export function node(value: string): TreeNode {
  return { value, children: [] };
}

/** Append a child and return it. */
export function add(parent: TreeNode, value: string): TreeNode {
  const child = node(value);
  parent.children.push(child);
  return child;
}

/** Append a `key: value` child and return it. */
export function addPair(parent: TreeNode, key: string, value: string): TreeNode {
  return add(parent, `${key}: ${value}`);
}

/** Render a tree with notation's box-drawing prefixes, one line per node. */
export function renderTree(root: TreeNode): string {
  const lines: string[] = [];
  const walk = (n: TreeNode, prefix: string, marker: string, nextPrefix: string): void => {
    lines.push(prefix + marker + n.value);
    n.children.forEach((c, i) => {
      const last = i === n.children.length - 1;
      walk(c, nextPrefix, last ? '└── ' : '├── ', nextPrefix + (last ? '    ' : '│   '));
    });
  };
  walk(root, '', '', '');
  return `${lines.join('\n')}\n`;
}
