import autocannon from 'autocannon';
import { CpuSplit, startCpuMeter } from './proc';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p99: number;
    readonly mean: number;
    readonly max: number;
  };
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
  readonly cpu: CpuSplit;
}

/**
 * One autocannon run in this process while the server under test runs in its child, with the
 * CPU each side used in the same window.
 */
export async function load(options: autocannon.Options, serverPid: number): Promise<LoadResult> {
  const meter = startCpuMeter(serverPid);
  const r = await autocannon({ timeout: 10, ...options });
  const cpu = meter.stop();
  const total = r['2xx'] + r.non2xx;
  return {
    requestsPerSecond: total / r.duration,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.mean, max: r.latency.max },
    requests: total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds: r.duration,
    cpu,
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarize(samples: readonly number[]): { p50: number; p95: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    n: sorted.length,
  };
}

export const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
