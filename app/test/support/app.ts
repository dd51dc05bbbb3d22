import type Koa from 'koa';
import type Redis from 'ioredis';
import { createApp, AppDeps } from '../../src/app';
import type { Config } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createMetrics, Metrics } from '../../src/metrics';
import { createRedis } from '../../src/redis';
import type { TestDatabase } from './services';

export interface TestApp {
  readonly app: Koa;
  readonly callback: ReturnType<Koa['callback']>;
  readonly redis: Redis;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/** Waits until ioredis reports ready (its offline queue is off, so commands before that fail). */
export async function redisReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (redis.status !== 'ready') {
    if (Date.now() - start > timeoutMs)
      throw new Error(`redis not ready after ${timeoutMs} ms (${redis.status})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The real app over the suite's database and real Redis; keys get a per-suite prefix so suites
 * sharing one Redis never read each other's memo:{id}. Kafka is not needed here: the outbox row
 * is still written, and the relay is tested by the events suites.
 */
export async function buildTestApp(
  testDb: TestDatabase,
  options: {
    config?: Partial<Config>;
    redis?: Redis;
    kafkaUp?: () => Promise<boolean>;
    keyPrefix?: string;
  } & Partial<Pick<AppDeps, 'isShuttingDown' | 'db' | 'auth' | 'readinessDb'>> = {},
): Promise<TestApp> {
  const config: Config = { ...testDb.config, ...options.config };
  const redis =
    options.redis ?? createRedis(config.redis, { keyPrefix: options.keyPrefix ?? `${testDb.name}:` });
  redis.on('error', () => undefined);
  await redisReady(redis).catch(() => undefined);
  const metrics = createMetrics();
  const app = createApp({
    config,
    db: options.db ?? testDb.db,
    readinessDb: options.readinessDb,
    redis,
    logger: silentLogger,
    metrics,
    kafkaHealth: options.kafkaUp ?? (async () => true),
    isShuttingDown: options.isShuttingDown,
    auth: options.auth,
  });
  return {
    app,
    callback: app.callback(),
    redis,
    metrics,
    async close() {
      redis.disconnect();
    },
  };
}
