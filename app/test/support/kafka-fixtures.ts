import type Redis from 'ioredis';
import { createMemoCache } from '../../src/memos/cache';
import { createEvents, Events, EventsOptions } from '../../src/events';
import { OUTBOX_COLUMNS as C, OUTBOX_TABLE } from '../../src/events/outbox-table';
import { silentLogger } from '../../src/logger';
import { createOutboxEvents, MemoEvents } from '../../src/memos/events';
import { createMemoService, MemoService } from '../../src/memos/service';
import type { MemoInput } from '../../src/memos/schema';
import { createMetrics, Metrics } from '../../src/metrics';
import { createRedis, createRedisGate } from '../../src/redis';
import type { ReceivedEvent } from './kafka';
import type { TestDatabase } from './services';

/** Fast enough for tests: short polls and back-offs, frequent gauge refreshes. */
export const FAST_RELAY: EventsOptions = {
  pollIntervalMs: 50,
  leaderRetryMs: 300,
  maxBackoffMs: 1000,
  backlogIntervalMs: 200,
  healthCacheMs: 0,
  stopTimeoutMs: 3000,
};

/** The memo service exactly as the app builds it (real cache over real Redis, real outbox writer). */
export function memoService(
  testDb: TestDatabase,
  redis: Redis,
  events: MemoEvents = createOutboxEvents(),
): MemoService {
  const metrics = createMetrics();
  const cache = createMemoCache({
    redis: createRedisGate(redis, silentLogger),
    ttlSeconds: 300,
    logger: silentLogger,
    metrics,
  });
  return createMemoService({ db: testDb.db, cache, events, logger: silentLogger });
}

export function testRedis(testDb: TestDatabase): Redis {
  const redis = createRedis(testDb.config.redis, { keyPrefix: `${testDb.name}:` });
  redis.on('error', () => undefined);
  return redis;
}

export function memoInput(title: string): MemoInput {
  return {
    title,
    content: `content of ${title}`,
    tags: ['events'],
    priority: 2,
    category: null,
    author: 'relay-test',
  };
}

export interface RunningRelay {
  readonly events: Events;
  readonly metrics: Metrics;
}

/** A relay as the composition root builds it, on the suite's database and the given topic. */
export async function startRelay(
  testDb: TestDatabase,
  brokers: readonly string[],
  topic: string,
  options: EventsOptions = {},
): Promise<RunningRelay> {
  const metrics = createMetrics();
  const events = createEvents({
    config: { db: testDb.config.db, kafka: { brokers, topic, clientId: 'memo-api-test' } },
    db: testDb.db,
    logger: silentLogger,
    metrics,
    options: { ...FAST_RELAY, ...options },
  });
  await events.start();
  return { events, metrics };
}

export async function metricValue(metrics: Metrics, name: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Number(metric?.values[0]?.value ?? 0);
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

/** Events of each memo, in log order (partition, then offset), as "type@version" strings. */
export function historyByMemo(events: readonly ReceivedEvent[]): Map<number, string[]> {
  const sorted = [...events].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  const byMemo = new Map<number, string[]>();
  for (const e of sorted) {
    const list = byMemo.get(e.value.memo_id) ?? [];
    list.push(`${e.value.event_type}@${e.value.version}`);
    byMemo.set(e.value.memo_id, list);
  }
  return byMemo;
}

/** Every published event_id of the suite's outbox, to compare with what the topic holds. */
export async function outboxEventIds(testDb: TestDatabase): Promise<string[]> {
  const rows = (await testDb.db(OUTBOX_TABLE).select({ eventId: C.eventId }).orderBy(C.id)) as {
    eventId: string;
  }[];
  return rows.map((r) => r.eventId);
}
