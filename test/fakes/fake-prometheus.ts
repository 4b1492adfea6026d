/**
 * A fake Prometheus (or Thanos Query) for tests: a real `node:http` server on 127.0.0.1 serving the instant
 * query API `/api/v1/query` the way prometheus/prometheus `web/api/v1/api.go` does, over a store of
 * `slo:sli_error:ratio_rate<window>` series. It evaluates the one query Elrond sends, the original's multi-window
 * burn-rate query, and lexes its string literals as the PromQL lexer does, so a badly escaped label value gets
 * Prometheus' parse error and a well escaped one selects exactly the series it names.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback-server.js';
import { readBody } from './mattermost/util.js';

/** web/api/v1 `errorType` values. */
export type PromErrorType = 'timeout' | 'canceled' | 'execution' | 'bad_data' | 'internal' | 'unavailable' | 'not_found' | 'not_acceptable';

/** What a failing query gets: a Prometheus error, or the answer of something in front of it (a proxy). */
export type PromFailure = { errorType: PromErrorType; error: string } | { status: number; body: string; contentType?: string };

export type BurnWindow = '5m' | '1h' | '30m' | '6h';

export interface PromQueryLogEntry {
  method: string;
  query: string;
  /** The fake's clock when the query arrived. */
  at: number;
  status: number;
}

interface Series {
  labels: Record<string, string>;
  value: number;
}

type Sample = Series;

/** `getDefaultErrorCode` (web/api/v1/api.go): the HTTP status `respondError` sends for each error type. */
export function statusForErrorType(errorType: PromErrorType): number {
  switch (errorType) {
    case 'bad_data':
      return 400;
    case 'execution':
      return 422;
    case 'canceled':
      return 499; // statusClientClosedConnection
    case 'timeout':
      return 503;
    case 'internal':
      return 500;
    case 'not_found':
      return 404;
    case 'not_acceptable':
      return 406;
    default:
      // errorUnavailable has no case of its own in getDefaultErrorCode: it falls to the default.
      return 500;
  }
}

class ParseError extends Error {}

/** Go's `%#U`: `U+0071 'q'`, without the quoted character when it is not printable. */
function goRune(ch: string): string {
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return /\p{C}/u.test(ch) ? code : `${code} '${ch}'`;
}

/**
 * The string literals of a query, unquoted, and the query with each replaced by `%s`. Models promql/parser
 * lex.go `lexString` / `lexEscape` / `lexRawString` (which end or refuse a literal) and util/strutil `Unquote`
 * (which turns it into its value). Errors carry upstream's text and the literal's `line:col`.
 */
function lexStringLiterals(query: string): { skeleton: string; values: string[] } {
  const values: string[] = [];
  let skeleton = '';
  let i = 0;
  const chars = [...query];
  const position = (index: number) => {
    const before = chars.slice(0, index).join('');
    const line = before.split('\n').length;
    const col = Buffer.byteLength(before.slice(before.lastIndexOf('\n') + 1)) + 1;
    return `${line}:${col}`;
  };
  while (i < chars.length) {
    const open = chars[i]!;
    if (open !== "'" && open !== '"' && open !== '`') {
      skeleton += open;
      i++;
      continue;
    }
    const start = i;
    const fail = (text: string): never => {
      throw new ParseError(`${position(start)}: parse error: ${text}`);
    };
    let value = '';
    i++;
    for (;;) {
      const ch = chars[i];
      if (ch === undefined) fail(open === '`' ? 'unterminated raw string' : 'unterminated quoted string');
      i++;
      if (ch === open) break;
      // lexString: a raw U+FFFD cannot be told from a decoding error ("invalid UTF-8 rune").
      if (ch === '\uFFFD') fail('invalid UTF-8 rune');
      if (open === '`') {
        value += ch;
        continue;
      }
      if (ch === '\n') fail('unterminated quoted string');
      if (ch !== '\\') {
        value += ch;
        continue;
      }
      const esc = chars[i];
      if (esc === undefined) fail('escape sequence not terminated');
      i++;
      const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
      if (Object.hasOwn(simple, esc!)) value += simple[esc!];
      else if (esc === open) value += open;
      else if (esc === 'x' || esc === 'u' || esc === 'U' || /^[0-7]$/.test(esc!)) {
        // lexEscape: octal takes 3 digits (the first is `esc`), \x 2, \u 4, \U 8 hex digits.
        const octal = /^[0-7]$/.test(esc!);
        let n = octal ? 3 : esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
        const base = octal ? 8 : 16;
        const max = esc === 'u' || esc === 'U' ? 0x10ffff : 255;
        let ch = octal ? esc : chars[i++];
        let code = 0;
        for (;;) {
          const digit = ch === undefined ? 16 : parseInt(ch, 16);
          if (Number.isNaN(digit) || digit >= base) fail(ch === undefined ? 'escape sequence not terminated' : `illegal character ${goRune(ch)} in escape sequence`);
          code = code * base + digit;
          if (--n === 0) break;
          ch = chars[i++];
        }
        if (code > max || (code >= 0xd800 && code < 0xe000)) fail('escape sequence is an invalid Unicode code point');
        value += String.fromCodePoint(code);
      } else {
        fail(`unknown escape sequence ${goRune(esc!)}`);
      }
    }
    values.push(value);
    skeleton += '%s';
  }
  return { skeleton, values };
}

/** The original Elrond's query (elrond_soak.go), with its four `slo_service` literals as `%s`. */
const BURN_RATE_SKELETON =
  '((slo:sli_error:ratio_rate5m{slo_service=%s} > (14.4 * 0.005)) and ignoring(slo_window)(slo:sli_error:ratio_rate1h{slo_service=%s} > (14.4 * 0.005))) or ' +
  'ignoring(slo_window)((slo:sli_error:ratio_rate30m{slo_service=%s} > (6 * 0.005)) and ignoring(slo_window)(slo:sli_error:ratio_rate6h{slo_service=%s} > (3.3 * 0.005))) or vector(0)';

/** Vector matching ignores the metric name and the `ignoring(...)` labels. */
function signature(labels: Record<string, string>, ignoring: readonly string[]): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([name]) => name !== '__name__' && !ignoring.includes(name))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/** `a and ignoring(...) b`: the samples of a with a match in b. */
const and = (a: Sample[], b: Sample[], ignoring: string[]) => a.filter((s) => b.some((o) => signature(o.labels, ignoring) === signature(s.labels, ignoring)));
/** `a or ignoring(...) b`: a, plus the samples of b without a match in a. */
const or = (a: Sample[], b: Sample[], ignoring: string[]) => [...a, ...b.filter((s) => !a.some((o) => signature(o.labels, ignoring) === signature(s.labels, ignoring)))];

export interface FakePrometheusOptions {
  /** Clock in epoch ms (default `Date.now`): the evaluation time of instant queries. */
  now?: () => number;
}

export class FakePrometheus {
  /** Every query received, oldest first. */
  readonly queries: PromQueryLogEntry[] = [];
  readonly #series: Series[] = [];
  readonly #failures: PromFailure[] = [];
  #failAlways: PromFailure | undefined;
  readonly #held: Array<{ arrived: () => void; answer: Promise<void> }> = [];
  readonly #now: () => number;
  #server: Server | undefined;

  constructor(options: FakePrometheusOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Set the `slo:sli_error:ratio_rate<window>` series of a service (as the sloth recording rules produce them). */
  setBurnRate(service: string, rates: Partial<Record<BurnWindow, number>>): void {
    for (const [window, value] of Object.entries(rates) as Array<[BurnWindow, number]>) {
      const name = `slo:sli_error:ratio_rate${window}`;
      const existing = this.#series.find((s) => s.labels.__name__ === name && s.labels.slo_service === service);
      if (existing) existing.value = value;
      else this.#series.push({ labels: { __name__: name, slo_service: service, slo_window: window, job: 'sloth', instance: 'sloth:8080' }, value });
    }
  }

  /** A service burning its budget fast (5m and 1h windows above 14.4 × 0.5 %). */
  burn(service: string, rate = 0.0917): void {
    this.setBurnRate(service, { '5m': rate, '1h': rate, '30m': rate, '6h': rate });
  }

  /** A service well within its budget. */
  heal(service: string): void {
    this.setBurnRate(service, { '5m': 0.001, '1h': 0.001, '30m': 0.001, '6h': 0.001 });
  }

  /** The next `times` queries fail with `failure`. */
  failNext(failure: PromFailure, times = 1): void {
    for (let n = 0; n < times; n++) this.#failures.push(failure);
  }

  /** Every query fails with `failure` until called with undefined. */
  failAlways(failure: PromFailure | undefined): void {
    this.#failAlways = failure;
  }

  /**
   * The next query is answered only when `release` is called (a slow Thanos): `arrived` resolves when it is in,
   * so a test can act while the caller waits for it.
   */
  holdNext(): { arrived: Promise<void>; release(): void } {
    let arrived!: () => void;
    let release!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    this.#held.push({ arrived, answer: new Promise<void>((resolve) => (release = resolve)) });
    return { arrived: arrival, release };
  }

  /** Just the PromQL of every query received. */
  get queryTexts(): string[] {
    return this.queries.map((q) => q.query);
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
    return listenOnLoopback(this.#server);
  }

  async stop(): Promise<void> {
    if (this.#server) await closeServer(this.#server);
    this.#server = undefined;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // The route is registered for GET and POST (api.go `Register`: r.Get / r.Post "/query"); anything else is the
    // router's plain 404.
    if (url.pathname !== '/api/v1/query' || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    // r.FormValue("query"): the URL's query string, or a form-encoded POST body.
    const body = req.method === 'POST' ? await readBody(req) : '';
    const form = new URLSearchParams(body);
    const query = url.searchParams.get('query') ?? form.get('query') ?? '';
    const entry: PromQueryLogEntry = { method: req.method, query, at: this.#now(), status: 200 };
    this.queries.push(entry);
    const held = this.#held.shift();
    if (held) {
      held.arrived();
      await held.answer;
    }
    const failure = this.#failures.shift() ?? this.#failAlways;
    if (failure) {
      if ('errorType' in failure) entry.status = this.#respondError(res, failure.errorType, failure.error);
      else {
        entry.status = failure.status;
        res.writeHead(failure.status, { 'Content-Type': failure.contentType ?? 'text/html' }).end(failure.body);
      }
      return;
    }
    entry.status = this.#query(res, query);
  }

  /** `API.query`: parse (a parse error is `invalidParamError(err, "query")`, bad_data), evaluate, `respond`. */
  #query(res: ServerResponse, query: string): number {
    if (query.trim() === '') return this.#respondError(res, 'bad_data', 'invalid parameter "query": 1:1: parse error: no expression found in input');
    let parsed: { skeleton: string; values: string[] };
    try {
      parsed = lexStringLiterals(query);
    } catch (error) {
      if (error instanceof ParseError) return this.#respondError(res, 'bad_data', `invalid parameter "query": ${error.message}`);
      throw error;
    }
    if (parsed.skeleton !== BURN_RATE_SKELETON) {
      return this.#respondError(res, 'bad_data', `invalid parameter "query": this fake evaluates only the burn-rate query, not ${query}`);
    }
    const [s5m, s1h, s30m, s6h] = parsed.values as [string, string, string, string];
    const above = (window: BurnWindow, service: string, threshold: number) =>
      this.#series.filter((s) => s.labels.__name__ === `slo:sli_error:ratio_rate${window}` && s.labels.slo_service === service && s.value > threshold);
    const fast = and(above('5m', s5m, 14.4 * 0.005), above('1h', s1h, 14.4 * 0.005), ['slo_window']);
    const slow = and(above('30m', s30m, 6 * 0.005), above('6h', s6h, 3.3 * 0.005), ['slo_window']);
    const result = or(or(fast, slow, ['slo_window']), [{ labels: {}, value: 0 }], []);
    const at = this.#now() / 1000;
    // A comparison without `bool` keeps the left sample's labels, metric name included (seen on Prometheus 2.42).
    const data = { resultType: 'vector', result: result.map((s) => ({ metric: s.labels, value: [at, String(s.value)] })) };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
    return 200;
  }

  /** `respondError`: `{"status":"error","errorType":…,"error":…}` with getDefaultErrorCode's status. */
  #respondError(res: ServerResponse, errorType: PromErrorType, error: string): number {
    const status = statusForErrorType(errorType);
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType, error }));
    return status;
  }
}
