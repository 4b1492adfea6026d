import { inertTerminalLine } from '../model/inert-text.js';

/**
 * An ASCII table in the original CLI's style (olekukonko/tablewriter, left-aligned): `+---+` borders, one
 * `| cell |` row per line, cells holding several lines (a ring's installation groups) spread over rows.
 * Every line of a cell goes through {@link inertTerminalLine}: a value cannot drive the terminal (an escape
 * sequence in a ring name or reason) or break the table (a tab, a carriage return).
 *
 * @example formatTable(['ID', 'OWNER', 'URL'], [['k3s…', 'me', 'https://x']])
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = (cell: string | undefined) => (cell ?? '').split('\n').map(inertTerminalLine);
  const heads = headers.map(inertTerminalLine);
  const cells = rows.map((row) => heads.map((_, column) => lines(row[column])));
  const widths = heads.map((header, column) => Math.max(header.length, ...cells.map((row) => Math.max(0, ...row[column]!.map((line) => line.length)))));
  const border = `+${widths.map((width) => '-'.repeat(width + 2)).join('+')}+`;
  const line = (texts: readonly string[]) => `|${widths.map((width, column) => ` ${(texts[column] ?? '').padEnd(width)} `).join('|')}|`;
  const out = [border, line(heads), border];
  for (const row of cells) {
    const height = Math.max(1, ...row.map((cellLines) => cellLines.length));
    for (let i = 0; i < height; i += 1) out.push(line(row.map((cellLines) => cellLines[i] ?? '')));
  }
  if (rows.length > 0) out.push(border);
  return `${out.join('\n')}\n`;
}
