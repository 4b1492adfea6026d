import type { CommandOutput } from '../commands/spec.js';
import { PLAN_TABLE_HEADERS, planNotes, planRows } from '../commands/format-plan.js';
import { EVENT_TABLE_HEADERS } from '../commands/events.js';
import { WEBHOOK_TABLE_HEADERS } from '../commands/webhook.js';

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

interface EventLike {
  at: number;
  actor: string;
  source: string;
  kind: string;
  ringId: string | null;
  oldState: string | null;
  newState: string | null;
  message: string;
}

const isEvent = (value: unknown): value is EventLike => typeof value === 'object' && value !== null && 'kind' in value && 'actor' in value && 'at' in value && 'message' in value;

interface WebhookLike {
  ID: string;
  OwnerID: string;
  URL: string;
}

const isWebhook = (value: unknown): value is WebhookLike => typeof value === 'object' && value !== null && 'ID' in value && 'OwnerID' in value && 'URL' in value;

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
    case 'plan': {
      const [head, ...rest] = planNotes(output.plan);
      return truncate([head, '', markdownTable(PLAN_TABLE_HEADERS, planRows(output.plan)), '', ...rest].join('\n'));
    }
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
      // `events` and `webhook list` answer JSON lists (the CLI's default); chat shows every list as a table.
      if (Array.isArray(value) && value.length > 0 && value.every(isEvent)) {
        return truncate(
          markdownTable(
            EVENT_TABLE_HEADERS,
            value.map((e) => [new Date(e.at).toISOString().replace('T', ' ').slice(0, 19), `${e.actor} (${e.source})`, e.kind, e.ringId ?? '', e.oldState || e.newState ? `${e.oldState ?? ''} → ${e.newState ?? ''}` : '', e.message]),
          ),
        );
      }
      if (Array.isArray(value) && value.length > 0 && value.every(isWebhook)) {
        return truncate(markdownTable(WEBHOOK_TABLE_HEADERS, value.map((w) => [w.ID, w.OwnerID, w.URL])));
      }
      return truncate(`\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``);
    }
  }
}
