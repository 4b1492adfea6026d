import { formatTable } from './format-table.js';
import { PLAN_TABLE_HEADERS, planNotes, planRows } from './format-plan.js';
import type { CommandOutput } from './spec.js';
import { inertTerminalJson, inertTerminalText } from '../model/inert-text.js';

/**
 * A command's output as terminal text: pretty JSON (2-space indent, every control character \\u-escaped), an
 * ASCII table, or the text itself with control characters other than newlines made visible.
 * Empty text renders as nothing at all (commands whose API call has no body print nothing, like the original).
 */
export function renderOutput(output: CommandOutput): string {
  switch (output.kind) {
    case 'json':
      return `${inertTerminalJson(JSON.stringify(output.value ?? null, null, 2))}\n`;
    case 'table':
      return formatTable(output.headers, output.rows);
    case 'plan': {
      const [head, ...rest] = planNotes(output.plan).map(inertTerminalText);
      return `${head}\n${formatTable(PLAN_TABLE_HEADERS, planRows(output.plan))}${rest.join('\n')}\n`;
    }
    case 'text': {
      const text = inertTerminalText(output.text);
      return text === '' || text.endsWith('\n') ? text : `${text}\n`;
    }
  }
}
