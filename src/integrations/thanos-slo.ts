import axios from 'axios';
import type { SloChecker, SloCheckResult } from '../engine/engine-deps.js';

/**
 * A PromQL single-quoted string literal holding `value` exactly. The lexer (promql/parser/lex.go `lexString`,
 * `lexEscape`) ends the string at an unescaped quote, refuses a raw newline ("unterminated quoted string") and
 * a raw U+FFFD ("invalid UTF-8 rune": it cannot tell it from a decoding error), and reads a backslash as the
 * start of an escape; util/strutil `Unquote` then turns `\\`, `\'`, `\n`, `\r` and `\uXXXX` back into the
 * characters. Everything else stands for itself.
 */
export function promqlString(value: string): string {
  let out = "'";
  for (const char of value) {
    if (char === '\\') out += '\\\\';
    else if (char === "'") out += "\\'";
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    // U+FFFD itself, and a lone surrogate (which any UTF-8 encoder turns into U+FFFD).
    else if (char === '\uFFFD' || (char.length === 1 && char >= '\uD800' && char <= '\uDFFF')) out += '\\uFFFD';
    else out += char;
  }
  return `${out}'`;
}

/** The original's multi-window burn-rate query (elrond-behaviour.md §2.6), for one installation group. */
export function burnRateQuery(groupName: string, provisionerGroupId: string): string {
  const svc = promqlString(`${groupName}-ring-${provisionerGroupId}`);
  const rate = (window: string) => `slo:sli_error:ratio_rate${window}{slo_service=${svc}}`;
  return (
    `((${rate('5m')} > (14.4 * 0.005)) and ignoring(slo_window)(${rate('1h')} > (14.4 * 0.005))) or ` +
    `ignoring(slo_window)((${rate('30m')} > (6 * 0.005)) and ignoring(slo_window)(${rate('6h')} > (3.3 * 0.005))) or vector(0)`
  );
}

/** web/api/v1 `Response`: `status` is "success" or "error"; an error carries `errorType` and `error`. */
interface PromResponse {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

type Sample = { metric: Record<string, string>; value: [number, string] };

export type InstantQueryResult = { ok: true; samples: Sample[] } | { ok: false; error: string };

const SNIPPET = 200;

/**
 * One instant query (`GET /api/v1/query`). Prometheus answers errors with a 4xx/5xx status and the same JSON
 * envelope (`respondError`), so every status is read: the error names Prometheus' own `errorType` and text, or
 * for something else in front of it (a proxy's 502 page), the status and the start of the body.
 */
export async function instantQuery(baseUrl: string, query: string, timeoutMs = 10_000): Promise<InstantQueryResult> {
  let status: number;
  let body: unknown;
  try {
    const response = await axios.get<unknown>(`${baseUrl.replace(/\/+$/, '')}/api/v1/query`, {
      params: { query },
      timeout: timeoutMs,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: (text: unknown) => text,
    });
    status = response.status;
    body = response.data;
  } catch (cause) {
    if (axios.isAxiosError(cause) && cause.code === 'ECONNABORTED') return { ok: false, error: `no answer within ${timeoutMs / 1000} s` };
    return { ok: false, error: cause instanceof Error ? cause.message : String(cause) };
  }
  const text = typeof body === 'string' ? body : '';
  let parsed: PromResponse | undefined;
  try {
    parsed = JSON.parse(text) as PromResponse;
  } catch {
    parsed = undefined;
  }
  if (parsed?.status === 'error') {
    return { ok: false, error: `HTTP ${status} ${typeof parsed.errorType === 'string' ? parsed.errorType : 'error'}: ${typeof parsed.error === 'string' ? parsed.error : '(no error text)'}` };
  }
  if (status !== 200 || parsed?.status !== 'success') {
    const snippet = text.trim().replace(/\s+/g, ' ').slice(0, SNIPPET);
    return { ok: false, error: `HTTP ${status}, not a Prometheus answer: ${snippet || '(empty body)'}` };
  }
  const result = parsed.data?.result;
  if (parsed.data?.resultType !== 'vector' || !Array.isArray(result)) {
    return { ok: false, error: `expected an instant vector, got ${JSON.stringify(parsed.data?.resultType ?? null)}` };
  }
  return { ok: true, samples: result as Sample[] };
}

/**
 * Queries Thanos/Prometheus for each group of a soaking ring. A sample carrying `slo_service` is a breach;
 * `vector(0)` alone is healthy. A query that gets no answer stops the check with the error, the query and the group.
 */
export function thanosSloChecker(options: { url: string; timeoutMs?: number }): SloChecker {
  return {
    async check(groups): Promise<SloCheckResult> {
      for (const group of groups) {
        const query = burnRateQuery(group.name, group.provisionerGroupId);
        const answer = await instantQuery(options.url, query, options.timeoutMs);
        if (!answer.ok) return { kind: 'error', error: answer.error, query, group: group.name };
        const breach = answer.samples.find((sample) => sample.metric?.slo_service);
        if (breach) {
          return {
            kind: 'breach',
            message: `SLO service ${breach.metric.slo_service} of group ${group.name} is burning its error budget (value ${breach.value[1]}, thresholds 14.4×/6×/3.3× of 0.5%); query: ${query}`,
          };
        }
      }
      return { kind: 'healthy' };
    },
  };
}
