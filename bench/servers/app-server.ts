import http from 'node:http';
import { createApp } from '../../app/src/app';
import { loadConfig } from '../../app/src/config';
import { createDb } from '../../app/src/db';
import { createEvents, Events } from '../../app/src/events';
import { createLogger } from '../../app/src/logger';
import { createMetrics } from '../../app/src/metrics';
import { createRedis } from '../../app/src/redis';
import { fail, serve } from './ipc';

/*
 * The memo service as its composition root wires it (app/src/server.ts), from the same
 * environment variables, with two additions for measuring: a count of the SQL statements the
 * service's knex sends (to report database queries per read) and a Redis key prefix so the
 * bench's cache entries never mix with a test suite's. The relay runs only when a scenario
 * needs it (BENCH_RELAY=on), so read benchmarks do not pay for its polling.
 */

const counts = { queries: 0, selects: 0 };

type Labels = Record<string, string | number | undefined>;
async function counter(
  metric: { get(): Promise<{ values: { value: number; labels: Labels }[] }> },
  match: (labels: Labels) => boolean = () => true,
): Promise<number> {
  return (await metric.get()).values.filter((v) => match(v.labels)).reduce((a, v) => a + v.value, 0);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const db = createDb(config.db);
  db.on('query', (q: { sql: string }) => {
    counts.queries++;
    if (/^\s*select/i.test(q.sql)) counts.selects++;
  });
  const redis = createRedis(config.redis, { keyPrefix: process.env.BENCH_REDIS_PREFIX ?? 'bench:' });
  redis.on('error', () => undefined);
  let events: Events | undefined;
  if (process.env.BENCH_RELAY === 'on') {
    // The relay's defaults, as the composition root uses them (batch 500, poll 200 ms).
    events = createEvents({ config, db, logger, metrics });
  }
  const app = createApp({
    config,
    db,
    redis,
    logger,
    metrics,
    kafkaHealth: async () => (events ? events.isKafkaUp() : true),
  });
  const handler = app.callback();
  // Handlers outlive their sockets: a request the load generator gave up on still holds a pooled
  // connection, so the pools close only once every started handler has finished.
  let inflight = 0;
  const server = http.createServer((req, res) => {
    inflight++;
    void handler(req, res).finally(() => inflight--);
  });
  server.keepAliveTimeout = 65_000;
  if (process.env.BENCH_CACHE !== 'off') {
    // Reads before Redis is ready would all miss; wait for it (bounded) before reporting a port.
    const start = Date.now();
    while (redis.status !== 'ready' && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    if (redis.status !== 'ready') throw new Error(`redis not ready after 5 s (${redis.status})`);
  }
  await events?.start();
  await serve(
    server,
    {
      stats: async () => ({
        ...counts,
        cacheHits: await counter(metrics.cacheHits),
        cacheMisses: await counter(metrics.cacheMisses),
        eventsPublished: await counter(metrics.eventsPublished),
        patches: await counter(metrics.httpRequestsTotal, (l) => l.method === 'PATCH'),
        leader: events?.isLeader() ?? false,
      }),
    },
    async () => {
      const deadline = Date.now() + 10_000;
      while (inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await events?.stop();
      await db.destroy();
      redis.disconnect();
    },
    config.port,
  );
}

main().catch(fail);
