import { rmSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import { OUTBOX_COLUMNS as C, OUTBOX_TABLE } from '../../src/events/outbox-table';
import type { MemoService } from '../../src/memos/service';
import {
  collectEvents,
  Collector,
  createTopic,
  describeWithKafka,
  freeBrokerPorts,
  PrivateBroker,
  REPO_ROOT,
  uniqueTopic,
} from '../support/kafka';
import {
  eventually,
  historyByMemo,
  memoInput,
  memoService,
  metricValue,
  outboxEventIds,
  RunningRelay,
  startRelay,
  testRedis,
} from '../support/kafka-fixtures';
import { createTestDatabase, TestDatabase } from '../support/services';

/*
 * Stops and restarts a broker, so it uses a private one (own ports and directory, through
 * scripts/services/kafka.sh) and leaves the shared broker on 9092 to the other suites.
 */
describeWithKafka('outbox relay (app/src/events) across a Kafka outage', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let redis: Redis;
  let service: MemoService;
  let broker: PrivateBroker;
  let relay: RunningRelay | undefined;
  let consumer: Collector | undefined;

  beforeAll(async () => {
    const { port, controllerPort } = await freeBrokerPorts();
    broker = new PrivateBroker(
      port,
      controllerPort,
      path.join(REPO_ROOT, '.services/kafka', `test-outage-${process.pid}`),
    );
    broker.start();
    testDb = await createTestDatabase('events_outage');
    redis = testRedis(testDb);
    service = memoService(testDb, redis);
  }, 120_000);

  afterAll(async () => {
    await relay?.events.stop();
    await consumer?.stop();
    broker?.stop();
    if (broker) rmSync(broker.homeDir, { recursive: true, force: true });
    redis?.disconnect();
    await testDb?.drop();
  }, 60_000);

  it('when the broker is stopped, then writes still succeed and every event arrives once, in order per memo, after it restarts', async () => {
    const topic = uniqueTopic('outage');
    await createTopic(broker.brokers, topic, 3);
    relay = await startRelay(testDb, broker.brokers, topic);
    const { events, metrics } = relay;

    consumer = await collectEvents(broker.brokers, topic);
    const memos: number[] = [];
    for (let i = 0; i < 3; i++) memos.push((await service.create(memoInput(`before ${i}`))).id);
    await consumer.waitFor(3);
    await consumer.stop();
    consumer = undefined;

    broker.stop();
    await eventually(
      'Kafka reported down',
      () => events.isKafkaUp(),
      (up) => !up,
    );

    // Every write commits while Kafka is gone: it only touches MariaDB.
    const slowest = { ms: 0 };
    const timed = async <T>(write: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      const result = await write();
      slowest.ms = Math.max(slowest.ms, Date.now() - started);
      return result;
    };
    for (const id of memos) await timed(() => service.patch(id, { title: `during ${id}` }, 1));
    for (let i = 0; i < 4; i++) memos.push((await timed(() => service.create(memoInput(`during ${i}`)))).id);
    await timed(() => service.remove(memos[0], 2));
    for (const id of memos.slice(3)) await timed(() => service.patch(id, { priority: 1 }, 1));
    const written = 3 + 4 + 1 + 4;
    expect(slowest.ms).toBeLessThan(1000);

    await eventually(
      'backlog gauge counts the waiting events',
      () => metricValue(metrics, 'memo_outbox_backlog'),
      (v) => v === written,
    );
    await eventually(
      'publish errors counted',
      () => metricValue(metrics, 'memo_events_publish_errors_total'),
      (v) => v > 0,
    );
    const pending = await testDb.db(OUTBOX_TABLE).whereNull(C.publishedAt).count({ n: '*' });
    expect(Number(pending[0].n)).toBe(written);

    broker.start(true);
    consumer = await collectEvents(broker.brokers, topic);
    const received = await consumer.waitFor(3 + written, 60_000);
    await new Promise((r) => setTimeout(r, 1500));

    const ids = received.map((e) => e.value.event_id);
    expect(ids).toHaveLength(3 + written);
    expect(new Set(ids).size).toBe(3 + written);
    expect([...ids].sort()).toEqual((await outboxEventIds(testDb)).sort());
    const history = historyByMemo(received);
    expect(history.get(memos[0])).toEqual(['memo_created@1', 'memo_updated@2', 'memo_deleted@2']);
    for (const id of memos.slice(1, 3)) expect(history.get(id)).toEqual(['memo_created@1', 'memo_updated@2']);
    for (const id of memos.slice(3)) expect(history.get(id)).toEqual(['memo_created@1', 'memo_updated@2']);

    await eventually(
      'backlog gauge drained',
      () => metricValue(metrics, 'memo_outbox_backlog'),
      (v) => v === 0,
    );
    expect(await events.isKafkaUp()).toBe(true);
  });
});
