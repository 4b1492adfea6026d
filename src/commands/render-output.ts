import { formatTable } from './format-table.js';
import { PLAN_TABLE_HEADERS, planNotes, planRows } from './format-plan.js';
import type { CommandOutput } from './spec.js';

/**
 * A command's output as terminal text: pretty JSON (2-space indent), an ASCII table, or the text itself.
 * Empty text renders as nothing at all (commands whose API call has no body print nothing, like the original).
 */
export function renderOutput(output: CommandOutput): string {
  switch (output.kind) {
    case 'json':
      return `${JSON.stringify(output.value ?? null, null, 2)}\n`;
    case 'table':
      return formatTable(output.headers, output.rows);
    case 'plan':
      return `${planNotes(output.plan)[0]}\n${formatTable(PLAN_TABLE_HEADERS, planRows(output.plan))}${planNotes(output.plan).slice(1).join('\n')}\n`;
    case 'text':
      return output.text === '' || output.text.endsWith('\n') ? output.text : `${output.text}\n`;
  }
}
