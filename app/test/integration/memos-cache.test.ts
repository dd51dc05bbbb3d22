import request from 'supertest';
import Redis from 'ioredis';
import { createRedis, REDIS_COMMAND_TIMEOUT_MS } from '../../src/redis';
import { buildTestApp, redisReady, TestApp } from '../support/app';
import { createScratchRedis, ScratchRedis } from '../support/scratch-redis';
import { createTestDatabase, describeWithServices, TEST_REDIS, TestDatabase } from '../support/services';

/**
 * The stated bound: with Redis dead or stalled, a request waits for Redis at most one command
 * timeout (100 ms); after a failure the circuit breaker skips Redis for a second (unit-tested
 * in redis-gate.test.ts). End to end, with the database's own time on a shared CI machine on
 * top, every request here must finish within LATENCY_BOUND_MS.
 */
const LATENCY_BOUND_MS = 500;

describeWithServices('memo cache (Redis cache-aside)', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let t: TestApp;
  let inspect: Redis;
  let prefix: string;
  let queries = 0;
  const api = () => request(t.callback);

  beforeAll(async () => {
    testDb = await createTestDatabase('cache');
    prefix = `${testDb.name}:`;
    t = await buildTestApp(testDb, { keyPrefix: prefix });
    inspect = new Redis({ host: TEST_REDIS.host, port: TEST_REDIS.port });
    testDb.db.on('query', () => queries++);
  });
  afterAll(async () => {
    await t?.close();
    inspect?.disconnect();
    await testDb?.drop();
  });

  const waitForKey = async (key: string): Promise<void> => {
    for (let i = 0; i < 100 && (await inspect.exists(key)) === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
  };

  it('when a memo is read twice, then the second read comes from Redis (key with TTL <= 300 s) without a database query', async () => {
    const created = await api().post('/api/memos').send({ title: 'cached', content: '캐시' }).expect(201);
    const key = `${prefix}memo:${created.body.id}`;
    expect(await inspect.exists(key)).toBe(0);

    const first = await api().get(`/api/memos/${created.body.id}`).expect(200);
    await waitForKey(key);
    const ttl = await inspect.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    expect(JSON.parse((await inspect.get(key)) as string)).toEqual(first.body);

    const before = queries;
    const hitsBefore = (await t.metrics.cacheHits.get()).values[0]?.value ?? 0;
    const second = await api().get(`/api/memos/${created.body.id}`).expect(200);
    expect(queries - before).toBe(0);
    expect(second.body).toEqual(first.body);
    expect(second.headers.etag).toBe('"1"');
    expect((await t.metrics.cacheHits.get()).values[0].value).toBe(hitsBefore + 1);
  });

  it('when a memo is updated, then its cache entry is dropped and the next read shows the new version', async () => {
    const created = await api().post('/api/memos').send({ title: 'before' }).expect(201);
    const key = `${prefix}memo:${created.body.id}`;
    await api().get(`/api/memos/${created.body.id}`).expect(200);
    await waitForKey(key);
    await api()
      .put(`/api/memos/${created.body.id}`)
      .set('If-Match', '"1"')
      .send({ title: 'after' })
      .expect(200);
    expect(await inspect.exists(key)).toBe(0);
    const read = await api().get(`/api/memos/${created.body.id}`).expect(200);
    expect(read.body).toMatchObject({ title: 'after', version: 2 });
  });

  it('when a memo is deleted, then its cache entry is dropped and reads get 404', async () => {
    const created = await api().post('/api/memos').send({ title: 'doomed' }).expect(201);
    const key = `${prefix}memo:${created.body.id}`;
    await api().get(`/api/memos/${created.body.id}`).expect(200);
    await waitForKey(key);
    await api().delete(`/api/memos/${created.body.id}`).expect(204);
    expect(await inspect.exists(key)).toBe(0);
    await api().get(`/api/memos/${created.body.id}`).expect(404);
  });

  it('when many reads of an uncached memo arrive at once, then the database is read once', async () => {
    const created = await api().post('/api/memos').send({ title: 'stampede' }).expect(201);
    const before = queries;
    const reads = await Promise.all(
      Array.from({ length: 20 }, () => api().get(`/api/memos/${created.body.id}`)),
    );
    expect(reads.every((r) => r.status === 200)).toBe(true);
    // One memo row query plus one tag query, however many readers.
    expect(queries - before).toBe(2);
  });

  describe('with Redis failing', () => {
    let scratch: ScratchRedis;
    let failing: TestApp;
    const call = () => request(failing.callback);

    beforeAll(async () => {
      scratch = await createScratchRedis();
      const redis = createRedis({ host: '127.0.0.1', port: scratch.port, password: '' });
      failing = await buildTestApp(testDb, { redis, config: { rateLimitPerMinute: 10_000 } });
      await redisReady(redis);
    });
    afterAll(async () => {
      await failing?.close();
      await scratch?.stop();
    });

    const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
      const start = performance.now();
      const result = await fn();
      return [result, performance.now() - start];
    };

    it('when Redis is stopped, then reads and writes still succeed within the stated bound', async () => {
      const created = await call().post('/api/memos').send({ title: 'survives' }).expect(201);
      await call().get(`/api/memos/${created.body.id}`).expect(200);
      await scratch.stop();

      const durations: number[] = [];
      for (let version = 1; version <= 3; version++) {
        const [read, readMs] = await timed(() => call().get(`/api/memos/${created.body.id}`));
        expect(read.status).toBe(200);
        expect(read.body.version).toBe(version);
        const [write, writeMs] = await timed(() =>
          call()
            .patch(`/api/memos/${created.body.id}`)
            .set('If-Match', `"${version}"`)
            .send({ title: `v${version + 1}` }),
        );
        expect(write.status).toBe(200);
        durations.push(readMs, writeMs);
      }
      const [made, createMs] = await timed(() =>
        call().post('/api/memos').send({ title: 'created without redis' }),
      );
      expect(made.status).toBe(201);
      durations.push(createMs);
      expect(Math.max(...durations)).toBeLessThan(LATENCY_BOUND_MS);
      expect((await failing.metrics.cacheErrors.get()).values.length).toBeGreaterThan(0);
      await scratch.start();
    });

    it('when Redis stalls (CLIENT PAUSE), then requests wait at most about one command timeout', async () => {
      const created = await call().post('/api/memos').send({ title: 'stalled' }).expect(201);
      await redisReady(failing.redis, 5000);
      const admin = new Redis({ host: '127.0.0.1', port: scratch.port });
      try {
        await admin.client('PAUSE', 3000, 'ALL');
        const durations: number[] = [];
        for (let i = 0; i < 4; i++) {
          const [read, ms] = await timed(() => call().get(`/api/memos/${created.body.id}`));
          expect(read.status).toBe(200);
          durations.push(ms);
        }
        const [write, writeMs] = await timed(() => call().delete(`/api/memos/${created.body.id}`));
        expect(write.status).toBe(204);
        durations.push(writeMs);
        expect(Math.max(...durations)).toBeLessThan(LATENCY_BOUND_MS);
        // The first request really waited for the stalled Redis, and gave up at the timeout.
        expect(durations[0]).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 10);
      } finally {
        admin.disconnect();
      }
    });
  });
});
