/**
 * An ASCII table in the original CLI's style (olekukonko/tablewriter, left-aligned): `+---+` borders, one
 * `| cell |` row per line, cells holding several lines (a ring's installation groups) spread over rows.
 *
 * @example formatTable(['ID', 'OWNER', 'URL'], [['k3s…', 'me', 'https://x']])
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => Math.max(0, ...(row[column] ?? '').split('\n').map((line) => line.length)))),
  );
  const border = `+${widths.map((width) => '-'.repeat(width + 2)).join('+')}+`;
  const line = (cells: readonly string[]) => `|${widths.map((width, column) => ` ${(cells[column] ?? '').padEnd(width)} `).join('|')}|`;
  const out = [border, line(headers), border];
  for (const row of rows) {
    const cellLines = widths.map((_, column) => (row[column] ?? '').split('\n'));
    const height = Math.max(1, ...cellLines.map((lines) => lines.length));
    for (let i = 0; i < height; i += 1) out.push(line(cellLines.map((lines) => lines[i] ?? '')));
  }
  if (rows.length > 0) out.push(border);
  return `${out.join('\n')}\n`;
}
