import { createHash } from 'node:crypto';
import type { RingReleaseRequest } from '../commands/elrond-api.js';
import { image as imageSchema, version as versionSchema } from '../service/inputs.js';
import { parseEnvVariableFlags } from '../model/env-vars.js';
import { isElrondError } from '../model/errors.js';
import { signAction, type SignedValue } from './action-signature.js';
import { canonicalJson } from './canonical-json.js';

export const RELEASE_FORM_ACTION = 'release-form' as const;

/** The form stays valid this long after it opened (its answers go through the command's response_url, which does too). */
export const RELEASE_FORM_TTL_MS = 30 * 60_000;

/** What the form's signed state carries: where its answers go, for whom. */
export interface ReleaseFormPayload {
  /** The slash command's response_url: the plan, or the confirmation, goes there as an ephemeral reply. */
  responseUrl: string;
  /** The channel the form was opened in: the release's card goes there. */
  channelId: string;
}

const digest = (payload: ReleaseFormPayload) => createHash('sha256').update(canonicalJson(payload)).digest('hex');

/**
 * The dialog's `state`: visible to (and replayable by) the user, so HMAC-signed with the user it was opened for
 * and an expiry (B.9), the payload bound in by its hash.
 */
export function releaseFormState(secret: string, payload: ReleaseFormPayload, userId: string, now: number): string {
  return JSON.stringify({ ...signAction(secret, { action: RELEASE_FORM_ACTION, form: digest(payload), user: userId, exp: now + RELEASE_FORM_TTL_MS }), payload });
}

/** The payload of a verified form state, when it is the one that was signed. */
export function releaseFormPayload(signed: SignedValue<'release-form'>, state: unknown): ReleaseFormPayload | undefined {
  const payload = (state as { payload?: unknown } | null)?.payload as Partial<ReleaseFormPayload> | undefined;
  if (!payload || typeof payload.responseUrl !== 'string' || typeof payload.channelId !== 'string') return undefined;
  const value = { responseUrl: payload.responseUrl, channelId: payload.channelId };
  return digest(value) === signed.form ? value : undefined;
}

/** `DialogElement` limits (Go `len`, bytes): help text 150. */
function fitBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(`${out}${char}…`, 'utf8') > max) break;
    out += char;
  }
  return `${out}…`;
}

/**
 * The release form: image (the last release's), version, rings (all, or names: a text field, which every server
 * has), env lines, reason, force, and "show the plan first" (on). Booleans are optional: a web app older than
 * Mattermost 10 counts an unticked box as missing.
 */
export function releaseFormDialog(defaults: { image: string; lastVersion?: string; rings: readonly string[] }, state: string): Record<string, unknown> {
  const ringList = defaults.rings.length ? `; in release order: ${defaults.rings.join(', ')}` : '';
  return {
    callback_id: 'release',
    title: 'Start a release',
    introduction_text: 'Rings release one after another, in priority order, each waiting for its soak (and approvals) before the next. Nothing starts until you confirm.',
    elements: [
      { display_name: 'Image', name: 'image', type: 'text', default: defaults.image, placeholder: 'mattermost/mattermost-enterprise-edition', help_text: 'The Docker image (the last release\'s, unless you change it).', max_length: 256 },
      { display_name: 'Version', name: 'version', type: 'text', placeholder: 'e.g. 10.6.0', help_text: fitBytes(defaults.lastVersion ? `The Docker tag to release. The last release was ${defaults.lastVersion}.` : 'The Docker tag to release.', 150), max_length: 128 },
      { display_name: 'Rings', name: 'rings', type: 'text', default: 'all', help_text: fitBytes(`"all", or ring names separated by commas${ringList}`, 150), max_length: 3000 },
      { display_name: 'Environment variables', name: 'env', type: 'textarea', optional: true, placeholder: 'MM_FEATUREFLAGS_X=true\nMM_OLD_SETTING=', help_text: 'One per line: NAME=VALUE sets NAME, NAME= deletes it.', max_length: 3000 },
      { display_name: 'Reason', name: 'reason', type: 'text', optional: true, placeholder: 'e.g. monthly release', help_text: 'Shown on the release card and kept in the history.', max_length: 500 },
      { display_name: 'Force', name: 'force', type: 'bool', optional: true, default: 'false', placeholder: 'Skip ring order and soak times (admins only)' },
      { display_name: 'Show the plan first', name: 'plan', type: 'bool', optional: true, default: 'true', placeholder: 'Show what would happen, with a Start button' },
    ],
    submit_label: 'Continue',
    state,
  };
}

/** A submitted form, ready to plan or start. */
export interface ReleaseFormAnswer {
  request: RingReleaseRequest;
  planFirst: boolean;
  /** The rings it names, or every ring. */
  ringNames: string[] | 'all';
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
/** A `bool` element arrives as a boolean; accept its string form too. */
const yes = (value: unknown, fallback: boolean): boolean => (value === true || value === 'true' ? true : value === false || value === 'false' ? false : fallback);

function envFromLines(raw: string): { env: NonNullable<ReturnType<typeof parseEnvVariableFlags>> | null; error?: string } {
  const flags: string[] = [];
  const lines = raw.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at <= 0) return { env: null, error: `Line ${index + 1} is not NAME=VALUE (or NAME= to delete NAME).` };
    flags.push(`${trimmed.slice(0, at).trim()}:${trimmed.slice(at + 1)}`);
  }
  try {
    return { env: parseEnvVariableFlags(flags) };
  } catch (error) {
    if (isElrondError(error)) return { env: null, error: error.message.replace(/--env-variable \S+/, 'NAME=VALUE') };
    throw error;
  }
}

/**
 * Read a submission: each field checked on its own, the problems returned per field as Mattermost dialogs expect
 * (`{"errors": {"version": "…"}}`). `rings` are the live rings, in release order.
 */
export function parseReleaseForm(submission: Record<string, unknown>, rings: ReadonlyArray<{ id: string; name: string }>): ReleaseFormAnswer | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const image = imageSchema.safeParse(text(submission.image));
  if (!image.success) errors.image = text(submission.image) ? `The image ${image.error.issues[0]!.message}.` : 'Give the Docker image, e.g. mattermost/mattermost-enterprise-edition.';
  const version = versionSchema.safeParse(text(submission.version));
  if (!version.success) errors.version = text(submission.version) ? `The version ${version.error.issues[0]!.message}.` : 'Give the version to release, e.g. 10.6.0.';

  const ringsText = text(submission.rings);
  let ringIds: string[] | undefined;
  let ringNames: string[] | 'all' = 'all';
  if (ringsText === '') errors.rings = 'Say which rings: "all", or ring names separated by commas.';
  else if (ringsText.toLowerCase() !== 'all') {
    const wanted = ringsText.split(/[,\s]+/).filter(Boolean);
    const found = wanted.map((name) => rings.find((r) => r.name.toLowerCase() === name.toLowerCase() || r.id === name));
    const unknown = wanted.filter((_, i) => !found[i]);
    if (unknown.length) errors.rings = `No ring named ${unknown.map((n) => `"${n}"`).join(', ')}. The rings are: ${rings.map((r) => r.name).join(', ') || 'none yet'}.`;
    else {
      const ids = new Set(found.map((r) => r!.id));
      // In release order, whatever order they were typed in.
      const chosen = rings.filter((r) => ids.has(r.id));
      ringIds = chosen.map((r) => r.id);
      ringNames = chosen.map((r) => r.name);
    }
  }

  const env = envFromLines(typeof submission.env === 'string' ? submission.env : '');
  if (env.error) errors.env = env.error;
  const reason = text(submission.reason);
  if (reason.length > 500) errors.reason = 'Keep the reason to 500 characters.';
  if (Object.keys(errors).length > 0) return { errors };
  const request: RingReleaseRequest = {
    Image: image.data!,
    Version: version.data!,
    Force: yes(submission.force, false),
    EnvVariables: env.env ?? {},
    ...(reason ? { reason } : {}),
    ...(ringIds ? { rings: ringIds } : {}),
  };
  return { request, planFirst: yes(submission.plan, true), ringNames };
}
