import Redis from 'ioredis';
import { REDIS_COMMAND_TIMEOUT_MS, REDIS_COOLDOWN_MS } from '../../src/redis';
import { call, reportFigures, Sample, startLoad, summarize } from '../support/load';
import { createMemoWorkload, MemoWorkload } from '../support/memo-workload';
import { createScratchRedis, ScratchRedis } from '../support/scratch-redis';
import { startServerProcess, ServerProcess } from '../support/server-process';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * Redis is killed (SIGKILL: connection refused, every entry gone) under a steady read/write
 * load against the real server process, and started again on the same port.
 *
 * What the service promises (app/src/redis.ts, app/src/memos/cache.ts): Redis is an optimisation,
 * never a dependency. A command waits at most REDIS_COMMAND_TIMEOUT_MS (100 ms); while the
 * connection is not ready a command fails at once (no offline queue); after any failure the
 * circuit breaker skips Redis for REDIS_COOLDOWN_MS (1 s). So a request spends at most one
 * command timeout on Redis (a failed write-through's DEL goes through the open breaker), and
 * there are no errors to the client: reads and writes are served by the database. End to end
 * that is the database's own latency plus at most 100 ms, however long Redis stays away (no
 * request waits for a reconnect). The bounds add headroom for a busy two-core CI machine where
 * other suites run beside this one (the normal phase alone has shown a 380 ms maximum there):
 * p99 within the 500 ms the cache suites assert for a stalled Redis, and no request over 1 s,
 * which a request queued behind the reconnect (1 s breaker, 2 s back-off) would exceed.
 */
const OUTAGE_P99_BOUND_MS = 500;
const OUTAGE_MAX_BOUND_MS = 1000;

const WORKERS = 4;
const PAUSE_MS = 20;
const NORMAL_MS = 3000;
const OUTAGE_MS = 4000;
const AFTER_MS = 6000;
/**
 * How long, after Redis is back, the cache may take to serve hits again: ioredis retries every
 * 200 ms x attempt, at most 2 s apart, then a miss refills the entry and the next read hits.
 */
const REFILL_WITHIN_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A counter from /metrics, summed over its labels; `metricsOrigin` is the metrics port's http://host:port. */
async function counter(metricsOrigin: string, name: string): Promise<number> {
  const r = await call(metricsOrigin, 'GET', '/metrics');
  return String(r.body)
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describeWithServices('Redis killed under load and restarted', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase | undefined;
  let redis: ScratchRedis | undefined;
  let server: ServerProcess | undefined;
  let workload: MemoWorkload;
  let samples: readonly Sample[] = [];
  const marks = { kill: 0, restart: 0, end: 0 };
  const hits = { atKill: 0, atRestart: 0, atEnd: 0 };
  const misses = { atKill: 0, atRestart: 0 };
  let cacheErrorsDuringOutage = 0;
  let refillMs = -1;
  let keysAfter = 0;

  beforeAll(async () => {
    testDb = await createTestDatabase('redis_outage');
    redis = await createScratchRedis();
    server = await startServerProcess({
      dbName: testDb.name,
      redisPort: redis.port,
      env: { LOG_LEVEL: 'warn' },
    });
    workload = await createMemoWorkload(server.baseUrl, {
      seed: 24,
      workers: WORKERS,
      label: 'redis-outage',
    });
    const base = `http://127.0.0.1:${server.metricsPort}`;

    const load = startLoad({
      workers: WORKERS,
      step: workload.step,
      pauseMs: PAUSE_MS,
      maxDurationMs: NORMAL_MS + OUTAGE_MS + AFTER_MS + 10_000,
    });
    try {
      await sleep(NORMAL_MS);
      marks.kill = load.now();
      await redis.stop();
      // Read once Redis is dead: from here on no read can be a hit until it is back.
      hits.atKill = await counter(base, 'memo_cache_hits_total');
      misses.atKill = await counter(base, 'memo_cache_misses_total');
      const errorsAtKill = await counter(base, 'memo_cache_errors_total');
      await sleep(OUTAGE_MS);
      hits.atRestart = await counter(base, 'memo_cache_hits_total');
      misses.atRestart = await counter(base, 'memo_cache_misses_total');
      cacheErrorsDuringOutage = (await counter(base, 'memo_cache_errors_total')) - errorsAtKill;
      marks.restart = load.now();
      await redis.start();
      // Time to recover: from the restart to the first read the cache answers again.
      while (load.now() - marks.restart < AFTER_MS) {
        if (refillMs < 0 && (await counter(base, 'memo_cache_hits_total')) > hits.atRestart) {
          refillMs = Math.round(load.now() - marks.restart);
        }
        await sleep(50);
      }
      marks.end = load.now();
    } finally {
      samples = await load.stop();
    }
    hits.atEnd = await counter(base, 'memo_cache_hits_total');
    const probe = new Redis({
      host: '127.0.0.1',
      port: redis.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await probe.connect();
      keysAfter = (await probe.keys('memo:*')).length;
    } finally {
      probe.disconnect();
    }
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
    await testDb?.drop();
  }, 30_000);

  // In flight when Redis died, or sent before it was back.
  const during = (): Sample[] =>
    samples.filter((s) => s.at + s.latencyMs >= marks.kill && s.at < marks.restart);
  const normal = (): Sample[] => samples.filter((s) => s.at + s.latencyMs < marks.kill);
  const after = (): Sample[] => samples.filter((s) => s.at >= marks.restart);

  it('when Redis dies under load and comes back, then no request fails and the figures are reported', async () => {
    const writes = await workload.verify(testDb!.db);
    const failures = samples.filter((s) => s.status >= 400 || s.status === 0);
    const outage = summarize(during());
    reportFigures('redis-outage', {
      promise: `one Redis command timeout (${REDIS_COMMAND_TIMEOUT_MS} ms) per request, then a ${REDIS_COOLDOWN_MS} ms breaker; asserted p99 ${OUTAGE_P99_BOUND_MS} ms, max ${OUTAGE_MAX_BOUND_MS} ms`,
      requests: samples.length,
      requestsDuringOutage: outage.requests,
      failures: failures.length,
      byStatus: summarize(samples).byStatus,
      outage: { p50Ms: outage.p50Ms, p99Ms: outage.p99Ms, maxMs: outage.maxMs },
      normal: (({ p50Ms, p99Ms, maxMs }) => ({ p50Ms, p99Ms, maxMs }))(summarize(normal())),
      after: (({ p50Ms, p99Ms, maxMs }) => ({ p50Ms, p99Ms, maxMs }))(summarize(after())),
      cacheErrorsDuringOutage,
      cacheHits: {
        beforeKill: hits.atKill,
        duringOutage: hits.atRestart - hits.atKill,
        afterRestart: hits.atEnd - hits.atRestart,
      },
      cacheMissesDuringOutage: misses.atRestart - misses.atKill,
      memoKeysInRedisAfter: keysAfter,
      timeToCacheHitsAfterRestartMs: refillMs,
      writesAcknowledged: writes.acknowledged,
      writesFound: writes.found,
    });

    expect(server!.alive()).toBe(true);
    expect(failures.map((s) => `${s.op} ${s.status} ${s.error ?? ''}`)).toEqual([]);
    expect(workload.contractViolations).toEqual([]);
    // The load really ran through the outage, reads and writes alike.
    expect(outage.requests).toBeGreaterThan(50);
    expect(new Set(during().map((s) => s.op))).toEqual(new Set(['read', 'create', 'update']));
    expect(writes.missing).toEqual([]);
    expect(writes.found).toBe(writes.acknowledged);
  });

  it('when Redis is down, then requests stay within one command timeout plus headroom and reads come from the database', () => {
    const outage = summarize(during());
    expect(outage.p99Ms).toBeLessThanOrEqual(OUTAGE_P99_BOUND_MS);
    expect(outage.maxMs).toBeLessThanOrEqual(OUTAGE_MAX_BOUND_MS);
    // The outage was real: the cache failed and the reads went to the database.
    expect(cacheErrorsDuringOutage + (misses.atRestart - misses.atKill)).toBeGreaterThan(0);
    expect(misses.atRestart - misses.atKill).toBeGreaterThan(outage.requests / 2);
    expect(hits.atRestart - hits.atKill).toBe(0);
  });

  it('when Redis is back, then the cache refills and reads hit it again', () => {
    expect(refillMs).toBeGreaterThanOrEqual(0);
    expect(refillMs).toBeLessThanOrEqual(REFILL_WITHIN_MS);
    expect(hits.atEnd - hits.atRestart).toBeGreaterThan(after().filter((s) => s.op === 'read').length / 2);
    expect(keysAfter).toBeGreaterThan(0);
  });
});
