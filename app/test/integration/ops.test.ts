import request from 'supertest';
import { createDb } from '../../src/db';
import { silentLogger } from '../../src/logger';
import { metricsRequestListener } from '../../src/metrics-endpoint';
import { createRedis } from '../../src/redis';
import { buildTestApp, redisReady, TestApp } from '../support/app';
import { createScratchRedis, ScratchRedis } from '../support/scratch-redis';
import { createTestDatabase, describeWithServices, TEST_DB, TestDatabase } from '../support/services';

describeWithServices(
  'operations endpoints (/health, /metrics, /openapi.json, /docs)',
  ['mariadb', 'redis'],
  () => {
    let testDb: TestDatabase;
    let scratch: ScratchRedis;
    let t: TestApp;
    let kafkaUp = true;
    let shuttingDown = false;
    const api = () => request(t.callback);
    const metricsPort = () => request(metricsRequestListener(t.metrics, silentLogger));

    beforeAll(async () => {
      testDb = await createTestDatabase('ops');
      scratch = await createScratchRedis();
      const redis = createRedis({ host: '127.0.0.1', port: scratch.port, password: '' });
      t = await buildTestApp(testDb, {
        redis,
        kafkaUp: async () => kafkaUp,
        isShuttingDown: () => shuttingDown,
      });
      await redisReady(redis);
    });
    afterAll(async () => {
      await t?.close();
      await scratch?.stop();
      await testDb?.drop();
    });

    describe('/health', () => {
      it('when every dependency answers, then healthy with each service up', async () => {
        const res = await api().get('/health').expect(200);
        expect(res.body).toEqual({
          status: 'healthy',
          timestamp: expect.any(String),
          services: { database: 'up', redis: 'up', kafka: 'up' },
        });
        expect(Date.parse(res.body.timestamp)).not.toBeNaN();
      });

      it('when Redis goes down and comes back, then health goes degraded (still ready) and back to healthy', async () => {
        await scratch.stop();
        const down = await api().get('/health').expect(200);
        expect(down.body).toMatchObject({
          status: 'degraded',
          services: { database: 'up', redis: 'down', kafka: 'up' },
        });
        await api().get('/health/ready').expect(200);

        await scratch.start();
        await redisReady(t.redis, 10_000);
        const back = await api().get('/health').expect(200);
        expect(back.body).toMatchObject({ status: 'healthy', services: { redis: 'up' } });
      });

      it('when Kafka is unreachable, then degraded and still ready', async () => {
        kafkaUp = false;
        try {
          const res = await api().get('/health').expect(200);
          expect(res.body).toMatchObject({ status: 'degraded', services: { kafka: 'down', database: 'up' } });
          await api().get('/health/ready').expect(200);
        } finally {
          kafkaUp = true;
        }
        await api()
          .get('/health')
          .expect(200, /"healthy"/);
      });

      it('when the database is unreachable, then unhealthy 503 and not ready, while live stays 200', async () => {
        // Port 1 on loopback: nothing listens there, so connections are refused at once.
        const deadDb = createDb(
          { ...TEST_DB, port: 1, name: testDb.name, poolMax: 2 },
          { acquireTimeoutMs: 500 },
        );
        const dead = await buildTestApp(testDb, { db: deadDb, redis: t.redis });
        try {
          const res = await request(dead.callback).get('/health').expect(503);
          expect(res.body).toMatchObject({
            status: 'unhealthy',
            services: { database: 'down', redis: 'up' },
          });
          const ready = await request(dead.callback).get('/health/ready').expect(503);
          expect(ready.body.reason).toBe('database unreachable');
          await request(dead.callback).get('/health/live').expect(200);
          // Requests that need the database fail as a problem, not a crash.
          const failed = await request(dead.callback).get('/api/memos').expect(503);
          expect(failed.headers['retry-after']).toBe('5');
          expect(failed.headers['content-type']).toMatch(/problem\+json/);
        } finally {
          await deadDb.destroy();
        }
        await api().get('/health/ready').expect(200);
      });

      it('when shutdown has begun, then readiness reports 503 while liveness stays 200', async () => {
        shuttingDown = true;
        try {
          const res = await api().get('/health/ready').expect(503);
          expect(res.body.reason).toBe('shutting down');
          await api().get('/health/live').expect(200);
        } finally {
          shuttingDown = false;
        }
      });
    });

    describe('/metrics', () => {
      it('when scraped after some traffic, then every contract series is exposed', async () => {
        const created = await api().post('/api/memos').send({ title: 'metered' }).expect(201);
        await api().get(`/api/memos/${created.body.id}`).expect(200);
        await api().get('/api/memos/123456789').expect(404);
        const res = await metricsPort()
          .get('/metrics')
          .expect(200)
          .expect('Content-Type', /text\/plain/);
        const text = res.text;
        for (const series of [
          'http_requests_total{method="POST",route="/api/memos",status="201"} 1',
          'http_requests_total{method="GET",route="/api/memos/:id",status="404"} 1',
          'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/api/memos/:id",status="200"}',
          'memo_cache_hits_total',
          'memo_cache_misses_total',
          'db_pool_connections{state="used"}',
          'db_pool_connections{state="free"}',
          'db_pool_connections{state="pending"}',
          'db_pool_max 5',
          'memo_outbox_backlog',
          'memo_events_published_total',
          'memo_events_publish_errors_total',
          'process_cpu_user_seconds_total',
          'nodejs_eventloop_lag_seconds',
        ]) {
          expect(text).toContain(series);
        }
      });

      it('when /metrics is asked on the public port, then it is 404: only the metrics port serves it', async () => {
        const res = await api()
          .get('/metrics')
          .expect(404)
          .expect('Content-Type', /problem\+json/);
        expect(res.body.detail).toBe('No route for GET /metrics');
      });

      it('when the metrics port is asked another path or method, then 404 or 405 as problem+json', async () => {
        const other = await metricsPort()
          .get('/api/memos')
          .expect(404)
          .expect('Content-Type', /problem\+json/);
        expect(other.body).toMatchObject({ status: 404, title: 'Not Found', instance: '/api/memos' });
        const post = await metricsPort()
          .post('/metrics')
          .expect(405)
          .expect('Allow', 'GET, HEAD')
          .expect('Content-Type', /problem\+json/);
        expect(post.body).toMatchObject({ status: 405, title: 'Method Not Allowed' });
        await metricsPort().head('/metrics').expect(200);
      });
    });

    describe('/openapi.json and /docs', () => {
      it('when the document is fetched, then it is OpenAPI 3.0 and describes every route with problem responses', async () => {
        const res = await api().get('/openapi.json').expect(200);
        expect(res.body.openapi).toMatch(/^3\.0\./);
        expect(Object.keys(res.body.paths).sort()).toEqual(
          [
            '/api/memos',
            '/api/memos/{id}',
            '/api/tags',
            '/docs',
            '/health',
            '/health/live',
            '/health/ready',
            '/openapi.json',
          ].sort(),
        );
        expect(Object.keys(res.body.paths['/api/memos/{id}']).sort()).toEqual([
          'delete',
          'get',
          'parameters',
          'patch',
          'put',
        ]);
        expect(res.body.paths['/api/memos'].post.responses['415'].content).toHaveProperty(
          'application/problem+json',
        );
        expect(res.body.components.schemas.Problem.required).toEqual([
          'type',
          'title',
          'status',
          'detail',
          'instance',
        ]);
      });

      it('when /docs is opened, then Swagger UI loads from this server pointing at /openapi.json', async () => {
        const page = await api()
          .get('/docs')
          .expect(200)
          .expect('Content-Type', /text\/html/);
        expect(page.text).toContain('/docs/swagger-ui-bundle.js');
        expect(page.headers['content-security-policy']).toContain("script-src 'self'");
        const init = await api().get('/docs/init.js').expect(200);
        expect(init.text).toContain("url: '/openapi.json'");
        const bundle = await api()
          .get('/docs/swagger-ui-bundle.js')
          .expect(200)
          .expect('Content-Type', /javascript/);
        expect(bundle.text.length).toBeGreaterThan(100_000);
        await api()
          .get('/docs/swagger-ui.css')
          .expect(200)
          .expect('Content-Type', /text\/css/);
        await api().get('/docs/package.json').expect(404);
      });
    });
  },
);
