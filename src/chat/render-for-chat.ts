import type { CommandOutput } from '../commands/spec.js';

/** Mattermost's message limit is 16383 runes; keep replies well inside it. */
const MAX_MESSAGE = 15_000;

const cell = (value: string) => value.replace(/\|/g, '\\|').replace(/\n/g, '<br>') || ' ';

export function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  if (rows.length === 0) return '_Nothing to show._';
  return [`| ${headers.map(cell).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

interface RingLike {
  ID: string;
  Name: string;
  Priority: number;
  State: string;
  statusMessage?: string;
  installationGroups?: Array<{ state: string }>;
}

const isRing = (value: unknown): value is RingLike => typeof value === 'object' && value !== null && 'ID' in value && 'State' in value && 'Priority' in value;

function truncate(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}\n… (truncated; use the CLI or the API for the full output)`;
}

/** A command's output as a chat message: Markdown tables for lists, a code block for JSON. */
export function renderForChat(output: CommandOutput): string {
  switch (output.kind) {
    case 'table':
      return truncate(markdownTable(output.headers, output.rows));
    case 'text':
      return truncate(output.text || 'Done.');
    case 'json': {
      const value = output.value;
      if (value === undefined || value === null || value === '') return 'Done.';
      if (Array.isArray(value) && value.every(isRing)) {
        return truncate(
          markdownTable(
            ['RING', 'ID', 'PRIORITY', 'STATE', 'GROUPS', 'STATUS'],
            value.map((r) => [r.Name, r.ID, String(r.Priority), r.State, String(r.installationGroups?.length ?? 0), r.statusMessage ?? '']),
          ),
        );
      }
      return truncate(`\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``);
    }
  }
}
