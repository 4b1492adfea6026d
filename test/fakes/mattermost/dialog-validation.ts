/**
 * `Dialog.IsValid` / `DialogElement.IsValid` (server/public/model/integration_action.go). `App.OpenInteractiveDialog`
 * only logs what it finds as a warning and opens the dialog anyway, so the fake records the problems instead of
 * refusing. Lengths are Go `len()`: bytes of UTF-8.
 */
import { isRecord } from './util.js';

const DIALOG_TITLE_MAX = 24;
const ELEMENT_TYPES = new Set(['text', 'textarea', 'select', 'bool', 'radio', 'date', 'datetime']);
const TEXT_SUBTYPES = new Set(['', 'text', 'email', 'number', 'tel', 'url', 'password']);

const bytes = (value: unknown): number => Buffer.byteLength(typeof value === 'string' ? value : '', 'utf8');
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

function checkLength(problems: string[], field: string, value: unknown, max: number, required = false): void {
  if (required && bytes(value) === 0) problems.push(`${field} cannot be empty`);
  if (bytes(value) > max) problems.push(`${field} cannot be longer than ${max} characters, got ${bytes(value)}`);
}

function elementProblems(element: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (num(element.min_length) < 0) problems.push('min length cannot be a negative number');
  if (num(element.min_length) > num(element.max_length)) problems.push(`min length should be less then max length, got ${num(element.min_length)} > ${num(element.max_length)}`);
  checkLength(problems, 'DisplayName', element.display_name, 24, true);
  checkLength(problems, 'Name', element.name, 300, true);
  checkLength(problems, 'HelpText', element.help_text, 150);
  const type = typeof element.type === 'string' ? element.type : '';
  if (!ELEMENT_TYPES.has(type)) problems.push(`invalid element type: "${type}"`);
  const max = type === 'textarea' || type === 'select' ? 3000 : 150;
  if (type !== 'bool' && type !== 'radio') {
    checkLength(problems, 'Default', element.default, max);
    checkLength(problems, 'Placeholder', element.placeholder, max);
  }
  if ((type === 'text' || type === 'textarea') && !TEXT_SUBTYPES.has(typeof element.subtype === 'string' ? element.subtype : '')) problems.push(`invalid subtype "${String(element.subtype)}"`);
  return problems;
}

/** Everything `Dialog.IsValid` would report for this dialog (empty when valid). */
export function dialogProblems(dialog: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (bytes(dialog.title) === 0 || bytes(dialog.title) > DIALOG_TITLE_MAX) problems.push(`invalid dialog title "${String(dialog.title ?? '')}" (1 to ${DIALOG_TITLE_MAX} bytes)`);
  const elements = Array.isArray(dialog.elements) ? dialog.elements : [];
  const names = new Set<string>();
  for (const element of elements) {
    if (!isRecord(element)) continue;
    const name = typeof element.name === 'string' ? element.name : '';
    if (names.has(name)) problems.push(`duplicate dialog element "${name}"`);
    names.add(name);
    for (const problem of elementProblems(element)) problems.push(`"${name}" field is not valid: ${problem}`);
  }
  return problems;
}
