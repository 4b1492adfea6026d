import axios from 'axios';
import type { SloChecker } from '../engine/engine-deps.js';

/** The original's multi-window burn-rate query (elrond-behaviour.md §2.6), for one installation group. */
export function burnRateQuery(groupName: string, provisionerGroupId: string): string {
  const svc = `${groupName}-ring-${provisionerGroupId}`;
  const rate = (window: string) => `slo:sli_error:ratio_rate${window}{slo_service='${svc}'}`;
  return (
    `((${rate('5m')} > (14.4 * 0.005)) and ignoring(slo_window)(${rate('1h')} > (14.4 * 0.005))) or ` +
    `ignoring(slo_window)((${rate('30m')} > (6 * 0.005)) and ignoring(slo_window)(${rate('6h')} > (3.3 * 0.005))) or vector(0)`
  );
}

interface PromResponse {
  status: string;
  data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
  error?: string;
}

/**
 * Queries Thanos/Prometheus for each group of a soaking ring. A sample carrying `slo_service` is a breach;
 * `vector(0)` alone is healthy. Errors are thrown, and the engine retries them on the next check.
 */
export function thanosSloChecker(options: { url: string; timeoutMs?: number }): SloChecker {
  const base = options.url.replace(/\/+$/, '');
  return {
    async check(groups) {
      for (const group of groups) {
        const query = burnRateQuery(group.name, group.provisionerGroupId);
        const { data } = await axios.get<PromResponse>(`${base}/api/v1/query`, { params: { query }, timeout: options.timeoutMs ?? 10_000 });
        if (data.status !== 'success') throw new Error(`Thanos query failed: ${data.error ?? data.status}`);
        const breach = data.data?.result?.find((sample) => sample.metric.slo_service);
        if (breach) {
          return {
            breach: `SLO service ${breach.metric.slo_service} of group ${group.name} is burning its error budget (value ${breach.value[1]}, thresholds 14.4×/6×/3.3× of 0.5%); query: ${query}`,
          };
        }
      }
      return { breach: null };
    },
  };
}
