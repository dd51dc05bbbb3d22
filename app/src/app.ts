import Koa from 'koa';
import Router from '@koa/router';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { Auth, createAuth } from './auth';
import { createMemoCache } from './memos/cache';
import type { Config } from './config';
import { poolStats } from './db';
import { createHealth, healthRoutes } from './health';
import { HttpProblem } from './http/errors';
import { errorMiddleware, observeMiddleware, RequestState } from './http/middleware';
import { rateLimit } from './http/rate-limit';
import { cors, securityHeaders } from './http/security';
import type { Logger } from './logger';
import { createOutboxEvents, MemoEvents } from './memos/events';
import { memoErrorStatus } from './memos/errors';
import { memoRoutes } from './memos/routes';
import { createMemoService } from './memos/service';
import type { Metrics } from './metrics';
import { docsRoutes } from './openapi';
import { createRedisGate } from './redis';

export interface AppDeps {
  readonly config: Pick<
    Config,
    | 'corsOrigins'
    | 'rateLimitPerMinute'
    | 'rateLimitSearchPerMinute'
    | 'trustedProxyCidrs'
    | 'cacheTtlSeconds'
    | 'db'
  > &
    Partial<Pick<Config, 'auth'>>;
  readonly db: Knex;
  /**
   * A connection of its own for readiness, so a pool busy with slow requests cannot fail it.
   * @default db
   */
  readonly readinessDb?: Knex;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Kafka reachability, from the events module (src/events). */
  readonly kafkaHealth: () => Promise<boolean>;
  /** True once shutdown has begun: readiness then reports 503. */
  readonly isShuttingDown?: () => boolean;
  /** @default the transactional outbox writer */
  readonly events?: MemoEvents;
  /** Token checking for `config.auth`. @default - built from `config.auth` (none without an issuer) */
  readonly auth?: Auth;
}

/** Builds the Koa application without listening, so tests drive it through supertest. */
export function createApp(deps: AppDeps): Koa<RequestState> {
  const { config, db, logger, metrics } = deps;
  // X-Forwarded-* are believed only from the configured proxy ranges, and only the rate limiter
  // needs the client's address (http/addresses.ts): Koa itself trusts none of them.
  const app = new Koa<RequestState>({ proxy: false });
  const gate = createRedisGate(deps.redis, logger);
  const cache = createMemoCache({ redis: gate, ttlSeconds: config.cacheTtlSeconds, logger, metrics });
  const auth = deps.auth ?? (config.auth ? createAuth(config.auth, logger) : undefined);
  if (auth === undefined) {
    logger.warn(
      'OIDC_ISSUER_URL is not set: anyone who reaches the API may create, change and delete every memo',
    );
  }
  const service = createMemoService({
    db,
    cache,
    events: deps.events ?? createOutboxEvents(),
    logger,
    ownership: auth !== undefined,
  });
  const health = createHealth({
    db: deps.readinessDb ?? db,
    redis: deps.redis,
    kafkaHealth: deps.kafkaHealth,
    isShuttingDown: deps.isShuttingDown ?? (() => false),
    authKeysLoaded: auth ? () => auth.keysLoaded() : undefined,
  });
  metrics.bindPool(() => poolStats(db), config.db.poolMax);

  const health$ = healthRoutes(health);
  const docs = docsRoutes();
  const api = memoRoutes(service);

  const statusMaps = [memoErrorStatus];
  app.use(errorMiddleware(logger, statusMaps));
  app.use(observeMiddleware(metrics, statusMaps));
  app.use(securityHeaders());
  app.use(cors(config.corsOrigins));
  // /metrics is not here: it has a port of its own (metrics-endpoint.ts), closed to all but Prometheus.
  for (const router of [health$, docs]) {
    app.use(router.routes());
    app.use(methodNotAllowed(router));
  }
  // Before the limiter, so that it can tell callers apart by their verified subject.
  if (auth !== undefined) {
    const authenticated = auth.middleware;
    app.use(async (ctx, next) => (ctx.path.startsWith('/api/') ? authenticated(ctx, next) : next()));
  }
  // Probes and docs are not rate limited: only the API behind them is.
  const limited = rateLimit({
    redis: gate,
    perMinute: config.rateLimitPerMinute,
    searchPerMinute: config.rateLimitSearchPerMinute,
    trustedProxyCidrs: config.trustedProxyCidrs,
    metrics,
    logger,
  });
  app.use(async (ctx, next) => (ctx.path.startsWith('/api/') ? limited(ctx, next) : next()));
  app.use(api.routes());
  app.use(methodNotAllowed(api));
  app.on('error', (err: unknown) => {
    const code = (err as { code?: unknown })?.code;
    // Bytes Node's HTTP parser rejects (HPE_*) or a client hanging up mid-request reach Koa as
    // socket errors: the client's fault, worth a warning, not an error alert for this service.
    if (typeof code === 'string' && (code.startsWith('HPE_') || code === 'ECONNRESET' || code === 'EPIPE')) {
      logger.warn('client connection error', { code, error: (err as Error).message });
      return;
    }
    logger.error('unhandled koa error', { error: err });
  });
  return app;
}

/**
 * The router's answer to a method it has no route for, as a problem. Its own throwing variant
 * answers a method no route uses at all (TRACE, PROPFIND ...) with 501, which http-errors marks
 * as not for clients, so it reached them as a 500 logged as a server failure. A method the
 * client should not have used is a 405 naming the allowed ones; a path no route matches, a 404.
 */
function methodNotAllowed(router: Router): ReturnType<Router['allowedMethods']> {
  const allowedMethods = router.allowedMethods();
  return async (ctx, next) => {
    await allowedMethods(ctx, next);
    if ((ctx.status !== 405 && ctx.status !== 501) || ctx.body != null) return;
    const allow = ctx.response.get('Allow');
    if (allow === '') {
      ctx.remove('Allow');
      throw new HttpProblem(404, 'Not Found', `No route for ${ctx.method} ${ctx.path}`);
    }
    throw new HttpProblem(
      405,
      'Method Not Allowed',
      `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allow}`,
      [],
      { Allow: allow },
    );
  };
}
