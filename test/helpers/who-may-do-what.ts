import { OPERATIONS, OPERATION_NAMES, type OperationName } from '../../src/service/operations.js';
import { RULE_DESCRIPTIONS } from '../../src/service/access-policy.js';
import { API_ROUTES } from '../../src/http/api-routes.js';
import { PAGE_ROUTES } from '../../src/http/status-page-router.js';
import { COMMANDS } from '../../src/commands/index.js';
import { BUTTON_OPERATIONS, CARD_ACTIONS } from '../../src/chat/button-operations.js';
import { START_PLAN_OPERATIONS } from '../../src/chat/plan-start.js';
import { RELEASE_FORM_OPERATIONS } from '../../src/chat/release-form-flow.js';

/** How the card names each button (src/chat/release-card.ts); privileged ones open a dialog (CARD_ACTIONS). */
const BUTTON_NAMES: Record<keyof typeof BUTTON_OPERATIONS, string> = { approve: 'Approve', force: 'Force', retry: 'Retry', pause: 'Pause', resume: 'Resume', cancel: 'Cancel', rollback: 'Rollback' };
const BUTTON_LABELS = Object.fromEntries(
  Object.entries(BUTTON_NAMES).map(([action, label]) => [action, 'dialog' in CARD_ACTIONS[action as keyof typeof BUTTON_NAMES] ? `${label} (dialog)` : label]),
) as Record<keyof typeof BUTTON_OPERATIONS, string>;

/** Which `ring release` flags pick which operation (its modes). */
const RELEASE_MODES: Partial<Record<OperationName, string>> = {
  releaseRing: '--ring',
  releaseAllRings: '--all-rings',
  pauseReleases: '--pause',
  resumeReleases: '--resume',
  cancelReleases: '--cancel',
  rollbackRing: '--rollback --ring',
  rollbackAllRings: '--rollback --all-rings',
  planRelease: '--plan',
};

function who(name: OperationName): string {
  const guard = OPERATIONS[name].guard;
  const parts = [guard.role === 'viewer' ? 'viewer (everyone)' : guard.role];
  if ('elevate' in guard && guard.elevate) parts.push(`${guard.elevate.role} ${guard.elevate.when}`);
  if ('rule' in guard && guard.rule) parts.push(RULE_DESCRIPTIONS[guard.rule.kind]);
  return parts.join('; ');
}

function commandsOf(name: OperationName): string[] {
  return COMMANDS.filter((spec) => spec.operations.includes(name)).map((spec) => {
    const path = spec.path.join(' ');
    return path === 'ring release' && RELEASE_MODES[name] ? `${path} ${RELEASE_MODES[name]}` : path === 'ring list' && name === 'getRelease' ? 'ring list --table' : path;
  });
}

/** README's "Who may do what" table, from the operation table, the REST routes, the grammar and the buttons. */
export function whoMayDoWhat(): string {
  const rows = OPERATION_NAMES.map((name) => {
    const routes = [
      ...API_ROUTES.filter((route) => route.operation === name).map((route) => `${route.method.toUpperCase()} /api${route.path}`),
      ...Object.entries(PAGE_ROUTES)
        .filter(([, operation]) => operation === name)
        .map(([route]) => route),
    ].map((route) => `\`${route.replace(/:(\w+)/g, '{$1}')}\``);
    const commands = commandsOf(name).map((command) => `\`${command}\``);
    const buttons = [
      ...Object.entries(BUTTON_OPERATIONS)
        .filter(([, operation]) => operation === name)
        .map(([action]) => BUTTON_LABELS[action as keyof typeof BUTTON_OPERATIONS]),
      ...((START_PLAN_OPERATIONS as readonly string[]).includes(name) ? ['Start (plan)'] : []),
      ...((RELEASE_FORM_OPERATIONS as readonly string[]).includes(name) ? ['release form'] : []),
    ];
    const cell = (items: string[]) => items.join(', ') || '—';
    return `| \`${name}\` | ${OPERATIONS[name].summary} | ${cell(routes)} | ${cell(commands)} | ${cell(buttons)} | ${who(name)} |`;
  });
  return ['| operation | does | REST | command (CLI and `/elrond`) | button | who may |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
