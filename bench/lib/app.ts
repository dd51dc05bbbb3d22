import Redis from 'ioredis';
import { closedPort, ServerChild, startServer } from './proc';
import { SERVICES } from './services';
import type { Context } from './context';

export interface AppServerOptions {
  readonly database: string;
  /** off: CACHE_TTL_SECONDS=0, the service's own switch (no Redis command for memos at all). */
  readonly cache: 'on' | 'off';
  readonly relay?: 'on' | 'off';
  readonly topic?: string;
  readonly poolMax?: number;
  /** Sign-in with an OpenID Connect issuer; absent: no issuer, every request anonymous. */
  readonly auth?: {
    readonly issuerUrl: string;
    readonly audience: string;
    /** AUTH_REQUIRED_FOR_READS: GETs need a valid token too. */
    readonly requiredForReads: boolean;
  };
}

export interface AppStats {
  readonly queries: number;
  readonly selects: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly eventsPublished: number;
  /** PATCH requests the service answered (its http_requests_total). */
  readonly patches: number;
  readonly leader: boolean;
}

export const REDIS_PREFIX = 'bench:';

/** Starts the memo service in a child process, configured only through its environment variables. */
export async function startApp(ctx: Context, options: AppServerOptions): Promise<ServerChild> {
  const port = await closedPort();
  return startServer('app-server.ts', {
    cpuProfDir: ctx.cpuProfDir,
    env: {
      PORT: String(port),
      LOG_LEVEL: 'error',
      DB_HOST: SERVICES.db.host,
      DB_PORT: String(SERVICES.db.port),
      DB_USER: SERVICES.db.user,
      DB_PASSWORD: SERVICES.db.password,
      DB_NAME: options.database,
      DB_POOL_MAX: String(options.poolMax ?? 10),
      REDIS_HOST: SERVICES.redis.host,
      REDIS_PORT: String(SERVICES.redis.port),
      CACHE_TTL_SECONDS: options.cache === 'on' ? '300' : '0',
      KAFKA_BROKERS: SERVICES.kafka.broker,
      KAFKA_TOPIC: options.topic ?? 'memo_bench_events',
      KAFKA_CLIENT_ID: 'memo-bench',
      // Rate limiting would turn a benchmark into a 429 benchmark.
      RATE_LIMIT_PER_MINUTE: '0',
      SHUTDOWN_DELAY_MS: '0',
      BENCH_CACHE: options.cache,
      BENCH_RELAY: options.relay ?? 'off',
      BENCH_REDIS_PREFIX: REDIS_PREFIX,
      ...(options.auth
        ? {
            OIDC_ISSUER_URL: options.auth.issuerUrl,
            OIDC_AUDIENCE: options.auth.audience,
            AUTH_REQUIRED_FOR_READS: String(options.auth.requiredForReads),
          }
        : {}),
    },
  });
}

/** Empties the bench's own cache entries (and only those), so a scenario starts cold. */
export async function flushBenchCache(): Promise<void> {
  const redis = new Redis({ host: SERVICES.redis.host, port: SERVICES.redis.port, lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function diffStats(after: AppStats, before: AppStats): AppStats {
  return {
    queries: after.queries - before.queries,
    selects: after.selects - before.selects,
    cacheHits: after.cacheHits - before.cacheHits,
    cacheMisses: after.cacheMisses - before.cacheMisses,
    eventsPublished: after.eventsPublished - before.eventsPublished,
    patches: after.patches - before.patches,
    leader: after.leader,
  };
}
