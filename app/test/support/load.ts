/*
 * A small, bounded load generator for the reliability suites: a fixed number of workers call
 * the service in a loop, every call is recorded (when it started, how long it took, what came
 * back), and the load stops by itself after a hard time limit even if a test forgets to stop it.
 * Real HTTP over 127.0.0.1 (Node's fetch, keep-alive), so failures are what a client would see.
 */

export interface CallResult {
  /** HTTP status, or 0 when no response arrived (refused, reset, timed out). */
  readonly status: number;
  readonly headers: Headers | undefined;
  readonly body: unknown;
  /** Why no response arrived (status 0 only). */
  readonly error?: string;
}

export interface Sample {
  /** What the request did ("read", "create" ...), for per-kind summaries. */
  readonly op: string;
  /** Milliseconds since the load started. */
  readonly at: number;
  readonly latencyMs: number;
  readonly status: number;
  readonly error?: string;
}

/** One iteration of a worker: makes one or more calls and records each through `record`. */
export type Step = (
  worker: number,
  iteration: number,
  record: (op: string, call: () => Promise<CallResult>) => Promise<CallResult>,
) => Promise<void>;

export interface LoadOptions {
  readonly workers: number;
  readonly step: Step;
  /** Milliseconds each worker waits between iterations (a steady, not a flat-out, load). @default 0 */
  readonly pauseMs?: number;
  /** The load stops by itself after this many milliseconds. @default 60_000 */
  readonly maxDurationMs?: number;
}

export interface RunningLoad {
  readonly samples: readonly Sample[];
  /** Milliseconds since the load started (the same clock as Sample.at). */
  now(): number;
  /** Stops the workers after their current iteration and resolves with every sample. */
  stop(): Promise<readonly Sample[]>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function startLoad(options: LoadOptions): RunningLoad {
  const samples: Sample[] = [];
  const started = performance.now();
  const now = (): number => performance.now() - started;
  let stopping = false;
  const limit = setTimeout(() => {
    stopping = true;
  }, options.maxDurationMs ?? 60_000);

  const record = async (op: string, call: () => Promise<CallResult>): Promise<CallResult> => {
    const at = now();
    const result = await call();
    samples.push({
      op,
      at,
      latencyMs: now() - at,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
    });
    return result;
  };

  const worker = async (id: number): Promise<void> => {
    for (let i = 0; !stopping; i++) {
      await options.step(id, i, record);
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const running = Promise.all(Array.from({ length: options.workers }, (_, id) => worker(id)));

  return {
    samples,
    now,
    async stop() {
      stopping = true;
      await running;
      clearTimeout(limit);
      return samples;
    },
  };
}

/**
 * One HTTP call that never throws: a refused or reset connection, or no answer within
 * timeoutMs, comes back as status 0 with the reason, so a load can count it as a failure.
 */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (e.g. /metrics): keep the text.
    }
    return { status: res.status, headers: res.headers, body };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const reason = cause?.code ?? (err as Error).name ?? String(err);
    return { status: 0, headers: undefined, body: undefined, error: reason };
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export interface Summary {
  readonly requests: number;
  /** Count per status code ("0" = no response). */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(samples: readonly Sample[]): Summary {
  const byStatus: Record<string, number> = {};
  for (const s of samples) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const latencies = samples.map((s) => s.latencyMs);
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    requests: samples.length,
    byStatus,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.length === 0 ? 0 : Math.max(...latencies)),
  };
}

/**
 * Prints the figures of one reliability scenario as a single greppable line
 * (`RELIABILITY <scenario> {json}`), which the README's reliability section summarises.
 */
export function reportFigures(scenario: string, figures: Record<string, unknown>): void {
  console.log(`RELIABILITY ${scenario} ${JSON.stringify(figures)}`);
}
