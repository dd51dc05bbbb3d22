import { call, CallResult, reportFigures, Sample, startLoad, summarize } from '../support/load';
import { RoundRobin, startRoundRobin } from '../support/round-robin';
import { createScratchRedis, ScratchRedis } from '../support/scratch-redis';
import {
  exitWithin,
  killServerProcesses,
  ServerProcess,
  startServerProcess,
} from '../support/server-process';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * A rolling update as a Deployment with maxSurge 1 / maxUnavailable 0 does it, under a steady
 * read/write load through a Service-like round robin: start C, wait until the balancer routes
 * to it, SIGTERM A; start D, SIGTERM B. The shutdown delay (1500 ms) is several probe periods
 * (200 ms), so each terminating instance leaves the rotation before it stops accepting.
 */

const POLL_MS = 200;
const SHUTDOWN_DELAY_MS = 1500;
const WORKERS = 6;
const START_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;

interface Acknowledged {
  /** Per memo id: the version and content of the last write the service acknowledged. */
  readonly last: Map<number, { version: number; content: string; title: string }>;
  creates: number;
  updates: number;
}

const version = (r: CallResult): number => Number(/^"(\d+)"$/.exec(r.headers?.get('etag') ?? '')?.[1]);

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeWithServices('rolling restart behind a round robin', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let redis: ScratchRedis | undefined;
  let balancer: RoundRobin | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase('rolling_restart');
    // Its own Redis: the instances use the bare memo:{id} keys, which other suites' servers
    // (and earlier runs of this one) also write.
    redis = await createScratchRedis();
    balancer = await startRoundRobin({ pollIntervalMs: POLL_MS });
  }, 30_000);

  afterAll(async () => {
    await killServerProcesses();
    await balancer?.close();
    await redis?.stop();
    await testDb?.drop();
  }, 30_000);

  /** From SIGTERM to the exit of the process: delay, drain and closing the pools. */
  const exitOf = async (
    instance: ServerProcess,
    signalledAt: number,
  ): Promise<{ code: number | null; drainMs: number }> => {
    const code = await exitWithin(instance, EXIT_TIMEOUT_MS);
    return { code, drainMs: Math.round((instance.exitedAt() ?? NaN) - signalledAt) };
  };

  const start = async (name: string): Promise<ServerProcess> => {
    const instance = await startServerProcess({
      name,
      dbName: testDb.name,
      redisPort: redis?.port,
      env: { SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS) },
      startTimeoutMs: START_TIMEOUT_MS,
      readyWhen: 'listening-log',
    });
    balancer?.add(name, instance.port);
    await balancer?.waitFor(name, true, START_TIMEOUT_MS);
    return instance;
  };

  it('when A and B are replaced by C and D one at a time under load, then no request fails, both old instances exit 0 and every acknowledged write is in the database', async () => {
    const rr = balancer as RoundRobin;
    const [a, b] = await Promise.all([start('A'), start('B')]);
    const acked: Acknowledged = { last: new Map(), creates: 0, updates: 0 };
    const own = new Map<number, { id: number; version: number; n: number }>();

    // Each worker owns one memo (so its If-Match is always current: a 412 would be a failure),
    // reads it, lists, updates it every other iteration and creates a new memo every tenth.
    const load = startLoad({
      workers: WORKERS,
      pauseMs: 20,
      maxDurationMs: 50_000,
      step: async (worker, i, record) => {
        const mine = own.get(worker);
        if (mine === undefined || i % 10 === 9) {
          const title = `rolling w${worker} i${i}`;
          const created = await record('create', () =>
            call(rr.url, 'POST', '/api/memos', { body: { title, content: 'n0', tags: ['rolling'] } }),
          );
          if (created.status !== 201) return;
          const id = (created.body as { id: number }).id;
          acked.creates++;
          acked.last.set(id, { version: version(created), content: 'n0', title });
          if (mine === undefined) own.set(worker, { id, version: version(created), n: 0 });
          return;
        }
        await record('read', () => call(rr.url, 'GET', `/api/memos/${mine.id}`));
        if (i % 4 === 1) await record('list', () => call(rr.url, 'GET', '/api/memos?limit=5&tag=rolling'));
        if (i % 2 === 0) {
          const content = `n${mine.n + 1}`;
          const updated = await record('update', () =>
            call(rr.url, 'PATCH', `/api/memos/${mine.id}`, {
              body: { content },
              headers: { 'If-Match': `"${mine.version}"` },
            }),
          );
          if (updated.status !== 200) return;
          mine.version = version(updated);
          mine.n++;
          acked.updates++;
          const title = acked.last.get(mine.id)?.title ?? '';
          acked.last.set(mine.id, { version: mine.version, content, title });
        }
      },
    });

    const marks: Record<string, number> = {};
    const after = (at: number): number => load.samples.filter((s) => s.at >= at).length;
    await waitUntil(() => load.samples.length >= 60, 15_000, 'a baseline of requests');

    marks.startC = load.now();
    const c = await start('C');
    marks.termA = load.now();
    const termA = a.terminate();
    const d = await start('D');
    const termB = b.terminate();
    const [exitA, exitB] = await Promise.all([exitOf(a, termA), exitOf(b, termB)]);
    marks.exitB = load.now();
    // Some load on the new pair alone before the load stops.
    await waitUntil(() => after(marks.exitB) >= 40, 15_000, 'requests after the old instances left');
    const samples: readonly Sample[] = await load.stop();

    // C and D are shut down the same way; their exit codes are checked too.
    const termC = c.terminate();
    const termD = d.terminate();
    const [exitC, exitD] = await Promise.all([exitOf(c, termC), exitOf(d, termD)]);

    const failed = samples.filter((s) => s.status === 0 || s.status >= 500);
    const unexpected = samples.filter((s) => s.status < 200 || s.status >= 300);
    const rows = (await testDb.db('memos').select('id', 'title', 'content', 'version')) as {
      id: number;
      title: string;
      content: string;
      version: number;
    }[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const missing = [...acked.last].filter(([id, w]) => {
      const row = byId.get(id);
      return (
        row === undefined ||
        row.version < w.version ||
        (row.version === w.version && row.content !== w.content)
      );
    });
    const stats = rr.stats();
    const removedAfterMs = (name: string, signalled: number): number =>
      Math.round((stats.find((s) => s.name === name)?.changedAt ?? NaN) - signalled);
    const lastAfterMs = (name: string, signalled: number): number =>
      Math.round((stats.find((s) => s.name === name)?.lastForwardedAt ?? NaN) - signalled);
    const summary = summarize(samples);

    reportFigures('rolling-restart', {
      requests: summary.requests,
      byStatus: summary.byStatus,
      failures: failed.length,
      perInstance: Object.fromEntries(stats.map((s) => [s.name, s.forwarded])),
      balancerErrors: stats.reduce((n, s) => n + s.errors, 0),
      noBackend: rr.noBackend(),
      // Requests from the start of C to the exit of B, and from SIGTERM of A to the exit of B.
      duringRollout: samples.filter((s) => s.at >= marks.startC && s.at < marks.exitB).length,
      whileDraining: samples.filter((s) => s.at >= marks.termA && s.at < marks.exitB).length,
      acknowledgedCreates: acked.creates,
      acknowledgedUpdates: acked.updates,
      missingWrites: missing.length,
      removedFromRotationMs: { A: removedAfterMs('A', termA), B: removedAfterMs('B', termB) },
      lastRequestAfterSigtermMs: { A: lastAfterMs('A', termA), B: lastAfterMs('B', termB) },
      drainMs: { A: exitA.drainMs, B: exitB.drainMs, C: exitC.drainMs, D: exitD.drainMs },
      exitCodes: { A: exitA.code, B: exitB.code, C: exitC.code, D: exitD.code },
      p50Ms: summary.p50Ms,
      p99Ms: summary.p99Ms,
    });

    expect(failed.map((s) => `${s.op} ${s.status} ${s.error ?? ''} at ${Math.round(s.at)} ms`)).toEqual([]);
    expect(unexpected.map((s) => `${s.op} ${s.status}`)).toEqual([]);
    expect(rr.noBackend()).toBe(0);
    expect({ A: exitA.code, B: exitB.code, C: exitC.code, D: exitD.code }).toEqual({
      A: 0,
      B: 0,
      C: 0,
      D: 0,
    });
    expect(a.output()).toContain('shutdown complete');
    expect(b.output()).toContain('shutdown complete');
    // The new pair served requests, and the old pair served some while the new one came up.
    for (const name of ['A', 'B', 'C', 'D']) {
      expect(stats.find((s) => s.name === name)?.forwarded).toBeGreaterThan(0);
    }
    expect(acked.updates).toBeGreaterThan(0);
    expect(
      missing.map(([id, w]) => `memo ${id} v${w.version} ${w.content}: ${JSON.stringify(byId.get(id))}`),
    ).toEqual([]);
  }, 90_000);
});
