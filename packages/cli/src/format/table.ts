/**
 * Align cells into columns like Go's tabwriter with minwidth 0, padding 3 and a trailing
 * tab on every row (notation's table output): every cell is padded to its column's widest
 * cell + 3 spaces.
 */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return rows.map((row) => `${row.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length + 3)).join('')}\n`).join('');
}
