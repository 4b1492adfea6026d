import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { burnRateQuery, instantQuery, promqlString, thanosSloChecker } from '../src/integrations/thanos-slo.js';
import { FakePrometheus, type BurnWindow } from './fakes/fake-prometheus.js';
import { closeServer, listenOnLoopback } from './fakes/loopback-server.js';
import { freePort, waitFor } from './helpers/processes.js';

/** Debian's `prometheus` package (`apt-get install -y prometheus`); ELROND_TEST_PROMETHEUS points elsewhere. */
const PROMETHEUS_BIN = process.env.ELROND_TEST_PROMETHEUS ?? '/usr/bin/prometheus';
const HAVE_PROMETHEUS = existsSync(PROMETHEUS_BIN);
if (!HAVE_PROMETHEUS) console.log(`Real Prometheus tests skipped: ${PROMETHEUS_BIN} is missing (install it with: apt-get install -y prometheus).`);

describe('promqlString', () => {
  it('escapes what the PromQL lexer would end, refuse or read as an escape, and nothing else', () => {
    expect(promqlString('canary-ig-0-ring-abc')).toBe("'canary-ig-0-ring-abc'");
    expect(promqlString("o'brien")).toBe("'o\\'brien'");
    expect(promqlString('back\\slash')).toBe("'back\\\\slash'");
    expect(promqlString('we\\never')).toBe("'we\\\\never'");
    expect(promqlString('line\nbreak\r')).toBe("'line\\nbreak\\r'");
    expect(promqlString('caf\uFFFD')).toBe("'caf\\uFFFD'");
    expect(promqlString('lone \uD800')).toBe("'lone \\uFFFD'");
    expect(promqlString('"double" `raw` ünï 🚀')).toBe("'\"double\" `raw` ünï 🚀'");
  });
});

// Groups as Elrond names their SLO services (`<group name>-ring-<provisioner group id>`).
const BURNING = { name: 'canary-ig-0', provisionerGroupId: 'burn1' };
const HEALTHY = { name: 'canary-ig-1', provisionerGroupId: 'ok1' };
/** A quote and a backslash: unescaped, the query does not parse. */
const QUOTED = { name: "o'brien\\eu", provisionerGroupId: 'q1' };
/** A backslash before an `n`: unescaped, the selector silently becomes "we<newline>ever…". */
const REWRITTEN = { name: 'we\\never', provisionerGroupId: 'n1' };
/** A raw U+FFFD: unescaped, the lexer refuses it. */
const REPLACEMENT = { name: 'caf\uFFFD', provisionerGroupId: 'r1' };
const service = (group: { name: string; provisionerGroupId: string }) => `${group.name}-ring-${group.provisionerGroupId}`;

const FAST_BURN: Record<BurnWindow, number> = { '5m': 0.2, '1h': 0.1, '30m': 0.1, '6h': 0.1 };
const LOW: Record<BurnWindow, number> = { '5m': 0.001, '1h': 0.001, '30m': 0.001, '6h': 0.001 };
const SERIES: Array<[string, Record<BurnWindow, number>]> = [
  [service(BURNING), FAST_BURN],
  [service(HEALTHY), LOW],
  [service(QUOTED), FAST_BURN],
  [service(REWRITTEN), FAST_BURN],
  [service(REPLACEMENT), FAST_BURN],
];

/** The original's query built as the Go Elrond (and Elrond before this fix) did: the name pasted between quotes. */
const unescapedQuery = (group: { name: string; provisionerGroupId: string }) => burnRateQuery(group.name, group.provisionerGroupId).replaceAll(promqlString(service(group)), `'${service(group)}'`);

/** Text exposition format: label values escape `\`, `"` and newline. */
const exposeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

describe.skipIf(!HAVE_PROMETHEUS)('the SLO query against a real Prometheus', () => {
  let target: Server | undefined;
  let prometheus: ChildProcess | undefined;
  let dir: string | undefined;
  let url = '';
  let output = '';

  beforeAll(async () => {
    // The tiny scrape target: the recording rules' output, as sloth would expose it.
    target = createServer((_req, res) => {
      const lines = SERIES.flatMap(([svc, rates]) => Object.entries(rates).map(([window, value]) => `slo:sli_error:ratio_rate${window}{slo_service="${exposeLabel(svc)}",slo_window="${window}"} ${value}`));
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
    });
    const targetUrl = await listenOnLoopback(target);
    dir = mkdtempSync(path.join(tmpdir(), 'elrond-prometheus-'));
    const config = path.join(dir, 'prometheus.yml');
    writeFileSync(config, ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:', '  - job_name: sloth', '    static_configs:', `      - targets: ['${new URL(targetUrl).host}']`, ''].join('\n'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prometheus = spawn(PROMETHEUS_BIN, [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    prometheus.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Service discovery hands the static target to the scrape manager after ~5 s (its update throttle), then the
    // first 1 s scrape lands: wait until every series is there.
    await waitFor(
      `Prometheus to scrape the target (${output})`,
      async () => {
        if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
        const answer = await instantQuery(url, 'count(slo:sli_error:ratio_rate6h)', 1000);
        return answer.ok && answer.samples[0]?.value[1] === String(SERIES.length);
      },
      { timeoutMs: 30_000, everyMs: 200 },
    );
  }, 40_000);

  afterAll(async () => {
    const child = prometheus;
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    if (target) await closeServer(target);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the burn-rate query finds the burning group and not the healthy one', async () => {
    const checker = thanosSloChecker({ url });
    const breach = await checker.check([HEALTHY, BURNING]);
    expect(breach).toEqual({
      kind: 'breach',
      message: `SLO service ${service(BURNING)} of group ${BURNING.name} is burning its error budget (value 0.2, thresholds 14.4×/6×/3.3× of 0.5%); query: ${burnRateQuery(BURNING.name, BURNING.provisionerGroupId)}`,
    });
    expect(await checker.check([HEALTHY])).toEqual({ kind: 'healthy' });
    // Healthy is `vector(0)` alone.
    const answer = await instantQuery(url, burnRateQuery(HEALTHY.name, HEALTHY.provisionerGroupId));
    expect(answer).toMatchObject({ ok: true, samples: [{ metric: {}, value: [expect.any(Number), '0'] }] });
  });

  it('a quote, a backslash and U+FFFD in a group name select exactly that service once escaped', async () => {
    const checker = thanosSloChecker({ url });
    for (const group of [QUOTED, REWRITTEN, REPLACEMENT]) {
      const result = await checker.check([group]);
      expect(result.kind, group.name).toBe('breach');
      expect(result.kind === 'breach' && result.message).toContain(`SLO service ${service(group)} of group ${group.name}`);
    }
    expect(burnRateQuery(QUOTED.name, QUOTED.provisionerGroupId)).toContain("slo_service='o\\'brien\\\\eu-ring-q1'");
  });

  it('unescaped, the same names break the query or silently select another service (what the gate did before)', async () => {
    const quoted = await instantQuery(url, unescapedQuery(QUOTED));
    expect(quoted).toMatchObject({ ok: false, error: expect.stringMatching(/^HTTP 400 bad_data: invalid parameter "query": 1:\d+: parse error: /) });
    const replacement = await instantQuery(url, unescapedQuery(REPLACEMENT));
    const literalAt = unescapedQuery(REPLACEMENT).indexOf("'") + 1;
    expect(replacement).toEqual({ ok: false, error: `HTTP 400 bad_data: invalid parameter "query": 1:${literalAt}: parse error: invalid UTF-8 rune` });
    // `\n` is read as a newline: the selector names a service that does not exist, and a burning group looks healthy.
    const rewritten = await instantQuery(url, unescapedQuery(REWRITTEN));
    expect(rewritten).toMatchObject({ ok: true, samples: [{ metric: {} }] });
  });

  it("the fake Prometheus answers as this one does: status, errorType, Prometheus' error text, and the samples", async () => {
    const fake = new FakePrometheus();
    for (const [svc, rates] of SERIES) fake.setBurnRate(svc, rates);
    const fakeUrl = await fake.start();
    try {
      const queries = [
        ...[BURNING, HEALTHY, QUOTED, REWRITTEN, REPLACEMENT].map((g) => burnRateQuery(g.name, g.provisionerGroupId)),
        unescapedQuery(REWRITTEN),
        unescapedQuery(REPLACEMENT),
        ...["'x\\q'", "'x\\400'", "'x\\uD800'", "'x\\U0001F680'", "'x\\u12 '", "'x\\x4"].map((literal) => burnRateQuery('x', 'y').replace("'x-ring-y'", literal)),
        '',
      ];
      const answer = async (base: string, query: string) => {
        const response = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query })}`);
        const body = (await response.json()) as { status: string; errorType?: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
        const result = body.data?.result.map((s) => {
          const { instance: _i, job: _j, ...labels } = s.metric;
          return { labels, value: s.value[1] };
        });
        return { status: response.status, body: { ...body, data: result } };
      };
      for (const query of queries) {
        expect(await answer(fakeUrl, query), query).toEqual(await answer(url, query));
      }
    } finally {
      await fake.stop();
    }
  });
});
