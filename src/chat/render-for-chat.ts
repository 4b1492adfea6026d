import type { CommandOutput, JsonOutput } from '../commands/spec.js';
import { inertMattermost } from '../model/inert-text.js';
import { PLAN_TABLE_HEADERS, planNotes, planRows } from '../commands/format-plan.js';
import { EVENT_TABLE_HEADERS } from '../commands/events.js';
import { WEBHOOK_TABLE_HEADERS } from '../commands/webhook.js';

/** Mattermost's message limit is 16383 runes; keep replies well inside it. */
const MAX_MESSAGE = 15_000;

/**
 * Plain text from a command (made for a terminal) as Markdown that shows it as written: each line through the one
 * chat rule (src/model/inert-text.ts), so a ring named `[sso](http://evil)` or `@all` is text, not a link or a mention.
 */
const inertLines = (text: string, separator = '\n') => text.split('\n').map(inertMattermost).join(separator);

const cell = (value: string) => inertLines(value, '<br>') || ' ';

/**
 * `budget`: rows past this many characters are not rendered (the reply is cut at {@link MAX_MESSAGE} anyway, and
 * a list of 500 rings would otherwise make every cell inert only to throw most of them away). The text returned
 * is then a prefix of the whole table longer than `budget`, so it truncates to exactly the same reply.
 */
export function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, budget = Number.POSITIVE_INFINITY): string {
  if (rows.length === 0) return '_Nothing to show._';
  // Headers are Elrond's own words; cells may hold anyone's.
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  let length = lines[0]!.length + 1 + lines[1]!.length;
  for (const row of rows) {
    if (length > budget) break;
    const line = `| ${row.map(cell).join(' | ')} |`;
    lines.push(line);
    length += 1 + line.length;
  }
  return lines.join('\n');
}

function truncate(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}\n… (truncated; use the CLI or the API for the full output)`;
}

/** A command's output as a chat message: Markdown tables for lists, a code block for JSON. */
export function renderForChat(output: CommandOutput): string {
  switch (output.kind) {
    case 'table':
      return truncate(markdownTable(output.headers, output.rows, MAX_MESSAGE));
    case 'text':
      return truncate(output.text ? inertLines(output.text) : 'Done.');
    case 'plan': {
      const [head, ...rest] = planNotes(output.plan).map((line) => inertLines(line));
      return truncate([head, '', markdownTable(PLAN_TABLE_HEADERS, planRows(output.plan)), '', ...rest].join('\n'));
    }
    case 'json':
      return truncate(renderJson(output, MAX_MESSAGE));
  }
}

const when = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(0, 19);

/** Lists as tables (by what the command says they hold), anything else as a JSON code block. */
function renderJson(output: JsonOutput, budget: number): string {
  switch (output.of) {
    case 'rings':
      return markdownTable(
        ['RING', 'ID', 'PRIORITY', 'STATE', 'GROUPS', 'STATUS'],
        output.value.map((r) => [r.Name, r.ID, String(r.Priority), r.State, String(r.installationGroups?.length ?? 0), r.statusMessage ?? '']),
        budget,
      );
    // `events`, `history --output json` and `webhook list` answer JSON lists (the CLI's default); chat shows every list as a table.
    case 'events':
      return markdownTable(
        EVENT_TABLE_HEADERS,
        output.value.map((e) => [when(e.at), `${e.actor} (${e.source})`, e.kind, e.ringId ?? '', e.oldState || e.newState ? `${e.oldState ?? ''} → ${e.newState ?? ''}` : '', e.message]),
        budget,
      );
    case 'webhooks':
      return markdownTable(WEBHOOK_TABLE_HEADERS, output.value.map((w) => [w.ID, w.OwnerID, w.URL]), budget);
    case undefined: {
      const value = output.value;
      if (value === undefined || value === null || value === '') return 'Done.';
      // A backtick can only be inside a JSON string, where \u0060 is the same value: no value can close the block.
      return `\`\`\`json\n${JSON.stringify(value, null, 2).replace(/\`/g, '\\u0060')}\n\`\`\``;
    }
  }
}
