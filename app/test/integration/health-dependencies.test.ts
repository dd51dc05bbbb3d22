import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import request from 'supertest';
import { createDb } from '../../src/db';
import { createEvents, Events } from '../../src/events';
import { silentLogger } from '../../src/logger';
import { buildTestApp, TestApp } from '../support/app';
import {
  createTopic,
  describeWithKafka,
  freeBrokerPorts,
  PrivateBroker,
  REPO_ROOT,
  uniqueTopic,
} from '../support/kafka';
import { eventually } from '../support/kafka-fixtures';
import { createTestDatabase, describeWithServices, TEST_DB, TestDatabase } from '../support/services';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';

/*
 * /health and /health/ready against real dependencies that really go away and come back:
 * a private Kafka broker that is stopped and restarted (the shared one on 9092 stays up for the
 * other suites), and the real MariaDB behind a TCP proxy that cuts every connection. Redis going
 * down and coming back is covered by ops.test.ts with a scratch redis-server.
 */

/** How long a dependency's change may take to show in /health (the Kafka answer is cached ~3 s). */
const NOTICE_MS = 15_000;

interface Probe {
  readonly status: number;
  readonly body: { status?: string; services?: Record<string, string>; reason?: string };
}

async function probe(callback: TestApp['callback'], url: string): Promise<Probe> {
  const res = await request(callback).get(url);
  return { status: res.status, body: res.body as Probe['body'] };
}

describeWithKafka('/health as a real Kafka broker goes down and comes back', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let broker: PrivateBroker;
  let events: Events | undefined;
  let t: TestApp;
  const health = (): Promise<Probe> => probe(t.callback, '/health');

  beforeAll(async () => {
    const { port, controllerPort } = await freeBrokerPorts();
    broker = new PrivateBroker(
      port,
      controllerPort,
      path.join(REPO_ROOT, '.services/kafka', `test-health-${process.pid}`),
    );
    broker.start();
    testDb = await createTestDatabase('health_kafka');
    const topic = uniqueTopic('health');
    await createTopic(broker.brokers, topic, 1);
    // Wired as the composition root (src/server.ts) does: /health asks the events module, whose
    // answer is cached for its default 3 s, and the relay runs beside it.
    t = await buildTestApp(testDb, { kafkaUp: () => events?.isKafkaUp() ?? Promise.resolve(false) });
    events = createEvents({
      config: { db: testDb.config.db, kafka: { brokers: broker.brokers, topic, clientId: 'memo-api-test' } },
      db: testDb.db,
      logger: silentLogger,
      metrics: t.metrics,
      options: { stopTimeoutMs: 3000 },
    });
    await events.start();
  }, 120_000);

  afterAll(async () => {
    await events?.stop();
    broker?.stop();
    if (broker) rmSync(broker.homeDir, { recursive: true, force: true });
    await t?.close();
    await testDb?.drop();
  }, 60_000);

  it('when the broker answers, then /health reports kafka up and healthy', async () => {
    const up = await eventually(
      'kafka reported up',
      health,
      (p) => p.body.services?.kafka === 'up',
      NOTICE_MS,
    );
    expect(up).toEqual({
      status: 200,
      body: {
        status: 'healthy',
        timestamp: expect.any(String),
        services: { database: 'up', redis: 'up', kafka: 'up' },
      },
    });
  });

  it('when the broker stops, then /health turns degraded with kafka down within 15 s and /health/ready stays 200', async () => {
    broker.stop();
    const down = await eventually(
      'kafka reported down',
      health,
      (p) => p.body.services?.kafka === 'down',
      NOTICE_MS,
    );
    expect(down).toEqual({
      status: 200,
      body: {
        status: 'degraded',
        timestamp: expect.any(String),
        services: { database: 'up', redis: 'up', kafka: 'down' },
      },
    });
    expect(await probe(t.callback, '/health/ready')).toEqual({ status: 200, body: { status: 'ready' } });
    // Writes only need MariaDB: the event waits in the outbox.
    await request(t.callback).post('/api/memos').send({ title: 'written while kafka is down' }).expect(201);
  });

  it('when the broker starts again on its data, then /health is healthy with kafka up again within 15 s', async () => {
    broker.start(true);
    const back = await eventually(
      'kafka reported up again',
      health,
      (p) => p.body.services?.kafka === 'up',
      NOTICE_MS,
    );
    expect(back).toEqual({
      status: 200,
      body: {
        status: 'healthy',
        timestamp: expect.any(String),
        services: { database: 'up', redis: 'up', kafka: 'up' },
      },
    });
    expect(await probe(t.callback, '/health/ready')).toEqual({ status: 200, body: { status: 'ready' } });
  });
});

describeWithServices(
  '/health as the database connection is cut and restored (TCP proxy before MariaDB)',
  ['mariadb', 'redis'],
  () => {
    let testDb: TestDatabase;
    let proxy: TcpProxy;
    let proxiedDb: Knex;
    let t: TestApp;
    const api = () => request(t.callback);
    const health = (): Promise<Probe> => probe(t.callback, '/health');

    beforeAll(async () => {
      testDb = await createTestDatabase('health_db');
      proxy = await startTcpProxy(TEST_DB);
      proxiedDb = createDb(
        { ...TEST_DB, host: proxy.host, port: proxy.port, name: testDb.name, poolMax: 2 },
        { acquireTimeoutMs: 1000 },
      );
      t = await buildTestApp(testDb, { db: proxiedDb });
    });

    afterAll(async () => {
      await t?.close();
      await proxiedDb?.destroy();
      await proxy?.close();
      await testDb?.drop();
    });

    it('when the database answers through the proxy, then /health is healthy and /health/ready is 200', async () => {
      expect(await health()).toEqual({
        status: 200,
        body: {
          status: 'healthy',
          timestamp: expect.any(String),
          services: { database: 'up', redis: 'up', kafka: 'up' },
        },
      });
      expect(await probe(t.callback, '/health/ready')).toEqual({ status: 200, body: { status: 'ready' } });
      await api().post('/api/memos').send({ title: 'before the cut' }).expect(201);
      // The app's pool really goes through the proxy, and keeps its connections open.
      expect(proxy.liveConnections).toBeGreaterThan(0);
    });

    it('when the connection is cut, then /health is 503 unhealthy, not ready, still live, and memo requests get a 503 problem', async () => {
      await proxy.cut();
      expect(await health()).toEqual({
        status: 503,
        body: {
          status: 'unhealthy',
          timestamp: expect.any(String),
          services: { database: 'down', redis: 'up', kafka: 'up' },
        },
      });
      expect(await probe(t.callback, '/health/ready')).toEqual({
        status: 503,
        body: { status: 'not ready', reason: 'database unreachable' },
      });
      await api().get('/health/live').expect(200, { status: 'alive' });

      for (const failed of [
        await api().get('/api/memos'),
        await api().post('/api/memos').send({ title: 'during the cut' }),
      ]) {
        expect(failed.status).toBe(503);
        expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(failed.headers['retry-after']).toBe('5');
        expect(failed.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
      }
    });

    it('when the connection is restored, then /health is healthy and ready again within 15 s and a memo can be created', async () => {
      await proxy.restore();
      const back = await eventually('database reported up again', health, (p) => p.status === 200, NOTICE_MS);
      expect(back).toEqual({
        status: 200,
        body: {
          status: 'healthy',
          timestamp: expect.any(String),
          services: { database: 'up', redis: 'up', kafka: 'up' },
        },
      });
      expect(await probe(t.callback, '/health/ready')).toEqual({ status: 200, body: { status: 'ready' } });

      const created = await api().post('/api/memos').send({ title: 'after the cut' }).expect(201);
      const read = await api().get(`/api/memos/${created.body.id}`).expect(200);
      expect(read.body).toMatchObject({ id: created.body.id, title: 'after the cut' });
      const list = await api().get('/api/memos').expect(200);
      expect(JSON.stringify(list.body)).toContain('after the cut');
    });
  },
);
