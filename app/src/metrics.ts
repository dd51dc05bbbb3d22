import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The pool statistics the db_pool_connections gauge reads at scrape time (tarn's pool API). */
export interface PoolStats {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestsTotal: Counter<'method' | 'route' | 'status'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly cacheErrors: Counter<'operation'>;
  readonly rateLimited: Counter;
  readonly dbPoolConnections: Gauge<'state'>;
  readonly dbPoolMax: Gauge;
  /** Updated by the outbox relay (app/src/events). */
  readonly outboxBacklog: Gauge;
  readonly eventsPublished: Counter;
  readonly eventsPublishErrors: Counter;
  /** Lets the pool gauge read a knex pool that is created after the metrics. */
  bindPool(pool: () => PoolStats | undefined, max: number): void;
}

/**
 * A registry per call rather than prom-client's global one, so several apps (tests, or a test
 * beside a real server) never collide on "metric already registered".
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let poolSource: () => PoolStats | undefined = () => undefined;

  const dbPoolMax = new Gauge({
    name: 'db_pool_max',
    help: 'Configured maximum of the knex pool',
    registers: [registry],
  });
  const metrics: Metrics = {
    registry,
    httpRequestsTotal: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, matched route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, matched route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'memo_cache_hits_total',
      help: 'Memo reads served from Redis',
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: 'memo_cache_misses_total',
      help: 'Memo reads that went to the database (absent, or Redis unavailable)',
      registers: [registry],
    }),
    cacheErrors: new Counter({
      name: 'memo_cache_errors_total',
      help: 'Redis operations of the cache that failed or timed out',
      labelNames: ['operation'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'http_rate_limited_total',
      help: 'Requests refused with 429 by the rate limiter',
      registers: [registry],
    }),
    dbPoolConnections: new Gauge({
      name: 'db_pool_connections',
      help: 'knex pool connections by state',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const pool = poolSource();
        if (!pool) return;
        this.set({ state: 'used' }, pool.numUsed());
        this.set({ state: 'free' }, pool.numFree());
        this.set({ state: 'pending' }, pool.numPendingAcquires());
      },
    }),
    dbPoolMax,
    outboxBacklog: new Gauge({
      name: 'memo_outbox_backlog',
      help: 'Outbox rows not yet published to Kafka',
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: 'memo_events_published_total',
      help: 'Memo events published to Kafka',
      registers: [registry],
    }),
    eventsPublishErrors: new Counter({
      name: 'memo_events_publish_errors_total',
      help: 'Failed attempts to publish memo events to Kafka',
      registers: [registry],
    }),
    bindPool(pool, max) {
      poolSource = pool;
      dbPoolMax.set(max);
    },
  };
  return metrics;
}
