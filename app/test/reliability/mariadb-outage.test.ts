import { createDb, DB_ACQUIRE_TIMEOUT_MS, migrateLatest } from '../../src/db';
import { call, CallResult, reportFigures, Sample, startLoad, summarize } from '../support/load';
import { createMemoWorkload, MemoWorkload, WriteCheck } from '../support/memo-workload';
import { createScratchMariaDb, ScratchMariaDb } from '../support/scratch-mariadb';
import { createScratchRedis, ScratchRedis } from '../support/scratch-redis';
import { startServerProcess, ServerProcess } from '../support/server-process';
import { describeWithServices } from '../support/services';

/*
 * A private mariadbd (the shared one on 3306 stays up for the other suites) is stopped under a
 * steady read/write load against the real server process and started again on its data.
 *
 * What the service promises: the database is essential, so while it is away requests that
 * need it fail fast with a 503 problem and Retry-After (src/http/middleware.ts), never a 500,
 * a hang or a reset connection; a request waits at most DB_ACQUIRE_TIMEOUT_MS (3 s) for a
 * connection (src/db.ts), and a refused connection fails it at once. Reads the cache can
 * answer keep succeeding. /health/ready turns 503 so Kubernetes stops routing to the pod, and
 * the same process serves again once the database is back: the pool reconnects by itself.
 * A write that was acknowledged (2xx) is committed, so it survives both a clean shutdown and
 * a crash of the database (InnoDB flushes its log at every commit by default).
 */
const FAIL_FAST_BOUND_MS = DB_ACQUIRE_TIMEOUT_MS + 1000;
/** From the database accepting connections again to the service being ready and writing. */
const RECOVER_WITHIN_MS = 10_000;

const WORKERS = 4;
const PAUSE_MS = 20;
const NORMAL_MS = 2500;
const OUTAGE_MS = 3000;
const AFTER_MS = 4000;
const DB_NAME = 'memos_reliability';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  readonly samples: readonly Sample[];
  /** Load clock (ms) marks: stop sent, database gone, restart begun, accepting again, ready again. */
  readonly marks: { stop: number; down: number; restart: number; up: number; ready: number };
  /** /health/ready statuses polled while the database was down. */
  readonly readyWhileDown: readonly number[];
  /** Updates that were waiting inside their transaction (on a row lock) when the database went. */
  readonly inFlight: readonly CallResult[];
}

/** Updates blocked inside their transaction when the database stops: the killed-connection path. */
const IN_FLIGHT = 2;

describeWithServices('MariaDB stopped under load and restarted', ['mariadb', 'redis'], () => {
  let mariadb: ScratchMariaDb | undefined;
  let redis: ScratchRedis | undefined;
  let server: ServerProcess | undefined;
  let workload: MemoWorkload;
  // Two connections: migrateLatest holds its lock on one and migrates on the other.
  const dbConfig = (name: string) => {
    const { host, port, user, password } = mariadb!;
    return { host, port, user, password, name, poolMax: 2 };
  };

  beforeAll(async () => {
    mariadb = await createScratchMariaDb();
    redis = await createScratchRedis();
    const admin = createDb(dbConfig('mysql'));
    try {
      await admin.raw(`CREATE DATABASE ${DB_NAME} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } finally {
      await admin.destroy();
    }
    const db = createDb(dbConfig(DB_NAME));
    try {
      await migrateLatest(db, DB_NAME);
    } finally {
      await db.destroy();
    }
    server = await startServerProcess({
      dbName: DB_NAME,
      database: mariadb,
      redisPort: redis.port,
      env: { LOG_LEVEL: 'warn', KAFKA_TOPIC: `memo_events_reliability_${process.pid}` },
    });
    workload = await createMemoWorkload(server.baseUrl, { seed: 24, workers: WORKERS, label: 'db-outage' });
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
    await mariadb?.destroy();
  }, 30_000);

  async function outage(signal: 'SIGTERM' | 'SIGKILL'): Promise<Outcome> {
    const db = mariadb!;
    const base = server!.baseUrl;
    const load = startLoad({
      workers: WORKERS,
      step: workload.step,
      pauseMs: PAUSE_MS,
      maxDurationMs: NORMAL_MS + OUTAGE_MS + AFTER_MS + 15_000,
    });
    const marks = { stop: 0, down: 0, restart: 0, up: 0, ready: -1 };
    const readyWhileDown: number[] = [];
    let samples: readonly Sample[];
    let inFlight: CallResult[] = [];
    try {
      await sleep(NORMAL_MS);
      // Memos the load never touches, locked from another session so their updates wait
      // inside the service's transaction until the database goes away under them.
      const blocked: number[] = [];
      for (let i = 0; i < IN_FLIGHT; i++) {
        const r = await call(base, 'POST', '/api/memos', { body: { title: `in flight ${signal} ${i}` } });
        blocked.push((r.body as { id: number }).id);
      }
      const holder = createDb(dbConfig(DB_NAME));
      const lock = await holder.transaction();
      await lock('memos').whereIn('id', blocked).forUpdate().select('id');
      const updates = Promise.all(
        blocked.map((id) =>
          call(base, 'PATCH', `/api/memos/${id}`, {
            body: { content: 'never' },
            headers: { 'If-Match': '*' },
          }),
        ),
      );
      await sleep(300);
      marks.stop = load.now();
      await db.stop(signal);
      marks.down = load.now();
      inFlight = await updates;
      await lock.rollback().catch(() => undefined);
      await holder.destroy();
      while (load.now() - marks.stop < OUTAGE_MS) {
        readyWhileDown.push((await call(base, 'GET', '/health/ready', { timeoutMs: 5000 })).status);
        await sleep(250);
      }
      marks.restart = load.now();
      await db.start();
      marks.up = load.now();
      while (load.now() - marks.up < RECOVER_WITHIN_MS) {
        if ((await call(base, 'GET', '/health/ready', { timeoutMs: 5000 })).status === 200) {
          marks.ready = load.now();
          break;
        }
        await sleep(50);
      }
      await sleep(Math.max(0, AFTER_MS - (load.now() - marks.up)));
    } finally {
      samples = await load.stop();
    }
    return { samples, marks, readyWhileDown, inFlight };
  }

  function report(scenario: string, o: Outcome, writes: WriteCheck): void {
    const { marks } = o;
    // Whatever overlapped the outage: in flight at the stop, or sent before the database was back.
    const during = o.samples.filter((s) => s.at + s.latencyMs >= marks.stop && s.at < marks.up);
    const unavailable = o.samples.filter((s) => s.status === 503);
    const writesAfter = o.samples.filter((s) => s.at >= marks.up && s.op !== 'read' && s.status < 300);
    const pick = ({ p50Ms, p99Ms, maxMs }: ReturnType<typeof summarize>) => ({ p50Ms, p99Ms, maxMs });
    reportFigures(scenario, {
      promise: `503 + Retry-After within the ${DB_ACQUIRE_TIMEOUT_MS} ms acquire timeout; asserted max ${FAIL_FAST_BOUND_MS} ms`,
      requests: o.samples.length,
      requestsDuringOutage: during.length,
      failures: o.samples.filter((s) => s.status !== 503 && (s.status >= 400 || s.status === 0)).length,
      byStatus: summarize(o.samples).byStatus,
      duringOutageByStatus: summarize(during).byStatus,
      outage: pick(summarize(during)),
      unavailable503: pick(summarize(unavailable)),
      normal: pick(summarize(o.samples.filter((s) => s.at + s.latencyMs < marks.stop))),
      after: pick(summarize(o.samples.filter((s) => s.at >= marks.ready && marks.ready >= 0))),
      stopTookMs: Math.round(marks.down - marks.stop),
      startTookMs: Math.round(marks.up - marks.restart),
      readyWhileDown: summarize(
        o.readyWhileDown.map((status) => ({ op: 'ready', at: 0, latencyMs: 0, status })),
      ).byStatus,
      readyAgainAfterStartMs: marks.ready < 0 ? -1 : Math.round(marks.ready - marks.up),
      firstWriteAfterStartMs: writesAfter.length === 0 ? -1 : Math.round(writesAfter[0].at - marks.up),
      inFlightUpdates: o.inFlight.map((r) => r.status),
      writesAcknowledged: writes.acknowledged,
      writesFound: writes.found,
      writesCommittedButNotAcknowledged: writes.committedUnacknowledged,
    });
  }

  async function verifyWrites(): Promise<WriteCheck> {
    const db = createDb(dbConfig(DB_NAME));
    try {
      return await workload.verify(db);
    } finally {
      await db.destroy();
    }
  }

  function expectContract(o: Outcome, writes: WriteCheck): void {
    const { marks } = o;
    const describe = (s: Sample): string => `${s.op} at ${Math.round(s.at)} ms: ${s.status} ${s.error ?? ''}`;
    // Nothing but a 2xx or a 503: no 500, no hang (status 0 after 10 s), no reset connection.
    const bad = o.samples.filter((s) => !(s.status >= 200 && s.status < 300) && s.status !== 503);
    if (bad.length > 0) console.error(server!.output().slice(-4000));
    expect(bad.map(describe)).toEqual([]);
    expect(workload.contractViolations).toEqual([]);
    // The updates waiting in their transaction when the database went got a 503 too, not a 500.
    expect(
      o.inFlight.map((r) => ({ status: r.status, retryAfter: r.headers?.get('retry-after') ?? null })),
    ).toEqual(Array.from({ length: IN_FLIGHT }, () => ({ status: 503, retryAfter: '5' })));
    // Every 503 came fast: the request did not queue behind the dead database.
    expect(summarize(o.samples.filter((s) => s.status === 503)).maxMs).toBeLessThanOrEqual(
      FAIL_FAST_BOUND_MS,
    );
    // The outage was real and seen by clients.
    expect(o.samples.filter((s) => s.status === 503).length).toBeGreaterThan(0);
    // What was answered before the stop, and what was sent once ready again, succeeded.
    expect(
      o.samples
        .filter((s) => s.at + s.latencyMs < marks.stop && s.status !== 200 && s.status !== 201)
        .map(describe),
    ).toEqual([]);
    expect(marks.ready).toBeGreaterThanOrEqual(0);
    const afterReady = o.samples.filter((s) => s.at >= marks.ready);
    expect(afterReady.filter((s) => s.status !== 200 && s.status !== 201).map(describe)).toEqual([]);
    expect(afterReady.filter((s) => s.op !== 'read').length).toBeGreaterThan(0);
    // Readiness said so while the database was away.
    expect(o.readyWhileDown.length).toBeGreaterThan(0);
    expect(o.readyWhileDown.every((s) => s === 503)).toBe(true);
    // No acknowledged write was lost, and the same process is still serving.
    expect(writes.missing).toEqual([]);
    expect(writes.found).toBe(writes.acknowledged);
    expect(server!.alive()).toBe(true);
  }

  it('when MariaDB shuts down (SIGTERM) under load and restarts, then requests get 503 + Retry-After fast, readiness follows, no acknowledged write is lost and the same process recovers', async () => {
    const pid = server!.pid;
    const o = await outage('SIGTERM');
    const writes = await verifyWrites();
    report('mariadb-outage-sigterm', o, writes);
    expectContract(o, writes);
    expect(server!.pid).toBe(pid);
  }, 45_000);

  it('when MariaDB is killed (SIGKILL) under load and restarts, then the same holds after its crash recovery', async () => {
    const o = await outage('SIGKILL');
    const writes = await verifyWrites();
    report('mariadb-outage-sigkill', o, writes);
    expectContract(o, writes);
  }, 45_000);
});
