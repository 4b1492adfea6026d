import { badRequest } from '../model/errors.js';
import { unvalidated, type Unvalidated } from '../service/operations.js';

/**
 * A request key as the operations name it, from its lower-cased JSON spelling: the original's Go decoder matches
 * keys case-insensitively (`SoakTime`, `soaktime`, `soakTime` are one key), and its structs spell some of them in
 * ways Elrond's domain does not (`provisionerGroupID`, `EnvVariables`, `OwnerID`, `URL`). Keys not listed are
 * their lower-cased selves (`name`, `image`, `reason`, `url`…).
 */
const DOMAIN_KEYS: Readonly<Record<string, string>> = {
  soaktime: 'soakTime',
  apisecuritylock: 'apiSecurityLock',
  approvalrequired: 'approvalRequired',
  overridefreeze: 'overrideFreeze',
  installationgroup: 'installationGroup',
  provisionergroupid: 'provisionerGroupId',
  envvariables: 'envVariables',
  ownerid: 'ownerId',
};

/** Maps whose keys are data, kept as sent: environment variable names are case-sensitive. */
const KEEP_NESTED: ReadonlySet<string> = new Set(['envVariables']);

function domainKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const lower = key.toLowerCase();
    const name = Object.hasOwn(DOMAIN_KEYS, lower) ? DOMAIN_KEYS[lower]! : lower;
    // defineProperty, not assignment: a "__proto__" key must stay a plain (ignored) key, never a prototype.
    Object.defineProperty(out, name, {
      value: child && typeof child === 'object' && !Array.isArray(child) && !KEEP_NESTED.has(name) ? domainKeys(child as Record<string, unknown>) : child,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * A JSON request body as an operation's request: keys in any case, the original's spellings mapped to the
 * domain's, then `ids` (from the URL or the call, never the body) on top. `null` or no body is an empty request —
 * the Go client sends `null` for a bodyless POST. The operation's schema checks the values.
 *
 * @example wireRequest({ SoakTime: 60, provisionerGroupID: 'g1' }, { ringId }) // { soakTime: 60, provisionerGroupId: 'g1', ringId }
 */
export function wireRequest(body: unknown, ids: Readonly<Record<string, string>> = {}): Unvalidated {
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) throw badRequest('the request body must be a JSON object');
  return unvalidated({ ...(body ? domainKeys(body as Record<string, unknown>) : {}), ...ids });
}

/** The body itself, unless there is none (absent, `null` or `{}`): then a 400 showing one to send. */
export function nonEmptyBody(body: unknown, example: string): unknown {
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
    throw badRequest(`the request body is empty: send ${example}`);
  }
  return body;
}
