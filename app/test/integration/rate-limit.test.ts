import Koa from 'koa';
import type Redis from 'ioredis';
import request from 'supertest';
import { errorMiddleware } from '../../src/http/middleware';
import { rateLimit } from '../../src/http/rate-limit';
import { silentLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { createRedis, createRedisGate } from '../../src/redis';
import { redisReady } from '../support/app';
import { describeWithServices, TEST_REDIS } from '../support/services';

/*
 * Who the rate limiter counts a request against, with the real Redis: X-Forwarded-For believed
 * only from configured proxy ranges (right-most untrusted entry), IPv6 clients by /64, callers
 * with a principal by subject, and searches against a budget of their own. The limiter runs in
 * a Koa app of its own here so the principal can be set the way the authentication middleware
 * will set it (ctx.state.principal), from a test header.
 */

const WINDOW_MS = 60_000;

/** Fixed windows: starting near the end of one would let the counts restart half-way. */
async function awayFromWindowEnd(): Promise<void> {
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < 10_000) await new Promise((r) => setTimeout(r, left + 50));
}

describeWithServices('rate limiter keys and budgets', ['redis'], () => {
  const clients: Redis[] = [];
  let apps = 0;

  afterAll(() => clients.forEach((c) => c.disconnect()));

  /** An app whose every path answers 200 behind the limiter, with counters of its own in Redis. */
  async function limitedApp(options: { perMinute: number; searchPerMinute?: number; trusted?: string[] }) {
    const redis = createRedis(
      { ...TEST_REDIS, password: '' },
      { keyPrefix: `memo-test:rl:${process.pid}:${Date.now()}:${apps++}:` },
    );
    redis.on('error', () => undefined);
    clients.push(redis);
    await redisReady(redis);
    const app = new Koa();
    app.use(errorMiddleware(silentLogger, []));
    app.use(async (ctx, next) => {
      const subject = ctx.get('X-Test-Subject');
      if (subject !== '')
        (ctx.state as { principal?: unknown }).principal = { subject, issuer: 'https://idp' };
      await next();
    });
    app.use(
      rateLimit({
        redis: createRedisGate(redis, silentLogger),
        perMinute: options.perMinute,
        searchPerMinute: options.searchPerMinute,
        trustedProxyCidrs: options.trusted ?? [],
        metrics: createMetrics(),
        logger: silentLogger,
        windowMs: WINDOW_MS,
      }),
    );
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    await awayFromWindowEnd();
    return app.callback();
  }

  const statuses = async (
    callback: ReturnType<Koa['callback']>,
    requests: { path?: string; headers?: Record<string, string> }[],
  ): Promise<number[]> => {
    const out: number[] = [];
    for (const r of requests) {
      const res = await request(callback)
        .get(r.path ?? '/api/tags')
        .set(r.headers ?? {});
      out.push(res.status);
    }
    return out;
  };

  it('when no proxy is trusted, then a client cannot get fresh budgets by writing X-Forwarded-For', async () => {
    const callback = await limitedApp({ perMinute: 3 });
    const spoofed = [1, 2, 3, 4].map((i) => ({ headers: { 'X-Forwarded-For': `198.51.100.${i}` } }));
    expect(await statuses(callback, spoofed)).toEqual([200, 200, 200, 429]);
  });

  it('when the peer is a trusted proxy, then the right-most untrusted entry is the client: entries left of it choose nothing', async () => {
    const callback = await limitedApp({ perMinute: 2, trusted: ['127.0.0.0/8', '::1'] });
    const viaProxy = (spoof: string, client: string) => ({
      headers: { 'X-Forwarded-For': `${spoof}, ${client}` },
    });
    expect(
      await statuses(callback, [
        viaProxy('1.1.1.1', '203.0.113.5'),
        viaProxy('2.2.2.2', '203.0.113.5'),
        viaProxy('3.3.3.3', '203.0.113.5'),
        viaProxy('1.1.1.1', '203.0.113.6'),
      ]),
    ).toEqual([200, 200, 429, 200]);
  });

  it('when IPv6 clients come through the proxy, then one /64 is one bucket and the next /64 is another', async () => {
    const callback = await limitedApp({ perMinute: 2, trusted: ['127.0.0.0/8', '::1'] });
    const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });
    expect(
      await statuses(callback, [
        from('2001:db8:1:2::1'),
        from('2001:db8:1:2:aaaa:bbbb:cccc:dddd'),
        from('2001:db8:1:2::ffff'),
        from('2001:db8:1:3::1'),
      ]),
    ).toEqual([200, 200, 429, 200]);
  });

  it('when a principal is on ctx.state, then the subject is the bucket: two users behind one address keep their own budgets, one user on two addresses shares one', async () => {
    const callback = await limitedApp({ perMinute: 2, trusted: ['127.0.0.0/8', '::1'] });
    const as = (subject: string, address: string) => ({
      headers: { 'X-Test-Subject': subject, 'X-Forwarded-For': address },
    });
    expect(
      await statuses(callback, [
        as('alice', '203.0.113.9'),
        as('alice', '198.51.100.9'),
        as('alice', '192.0.2.9'),
        as('bob', '203.0.113.9'),
        as('bob', '203.0.113.9'),
      ]),
    ).toEqual([200, 200, 429, 200, 200]);
  });

  it('when a client searches, then the search budget refuses it first while other reads go on; the problem says which budget', async () => {
    const callback = await limitedApp({ perMinute: 10, searchPerMinute: 2 });
    const search = { path: '/api/memos?q=deploy' };
    expect(
      await statuses(callback, [search, search, search, { path: '/api/memos' }, { path: '/api/tags' }]),
    ).toEqual([200, 200, 429, 200, 200]);
    const refused = await request(callback).get('/api/memos?q=other');
    expect(refused.status).toBe(429);
    expect(refused.headers['ratelimit-limit']).toBe('2');
    expect(refused.body.detail).toContain('At most 2 searches per minute');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
