import Router from '@koa/router';
import type Redis from 'ioredis';
import type { Knex } from 'knex';

export type ServiceStatus = 'up' | 'down';

export interface HealthReport {
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  readonly timestamp: string;
  readonly services: {
    readonly database: ServiceStatus;
    readonly redis: ServiceStatus;
    readonly kafka: ServiceStatus;
  };
}

export interface HealthDeps {
  readonly db: Knex;
  readonly redis: Redis;
  readonly kafkaHealth: () => Promise<boolean>;
  readonly isShuttingDown: () => boolean;
  /** With sign-in on: whether the issuer's signing keys are loaded. */
  readonly authKeysLoaded?: () => boolean;
  /** Bound of each dependency check, so a hanging dependency cannot hang the probe. */
  readonly timeoutMs?: number;
}

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<ServiceStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const result = await Promise.race([check().then((r) => r !== false), timeout]);
    return result ? 'up' : 'down';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** What a readiness answer says; `auth_keys` only with sign-in on. */
export interface Readiness {
  readonly ready: boolean;
  readonly reason?: string;
  readonly auth_keys?: 'loaded' | 'not loaded';
}

/** The dependency checks behind /health and /health/ready. */
export interface Health {
  /**
   * The seed's shape. The database is essential (unhealthy, 503); Redis and Kafka are not:
   * without Redis reads come from the database, without Kafka events wait in the outbox.
   */
  report(): Promise<HealthReport>;
  /**
   * Ready means: able to serve requests now. Only the database and shutdown decide that. The
   * issuer's keys are reported (`auth_keys`) but do not decide: without them reads still work,
   * and taking every replica out of the Service because the identity provider is down would
   * turn its outage into this service's.
   */
  ready(): Promise<Readiness>;
}

export function createHealth(deps: HealthDeps): Health {
  const timeoutMs = deps.timeoutMs ?? 1000;
  const database = (): Promise<ServiceStatus> => probe(() => deps.db.raw('SELECT 1'), timeoutMs);
  const redis = (): Promise<ServiceStatus> =>
    deps.redis.status === 'ready' ? probe(() => deps.redis.ping(), timeoutMs) : Promise.resolve('down');
  const kafka = (): Promise<ServiceStatus> => probe(() => deps.kafkaHealth(), timeoutMs);

  return {
    async report() {
      const [db, rd, kf] = await Promise.all([database(), redis(), kafka()]);
      const status = db === 'down' ? 'unhealthy' : rd === 'down' || kf === 'down' ? 'degraded' : 'healthy';
      return {
        status,
        timestamp: new Date().toISOString(),
        services: { database: db, redis: rd, kafka: kf },
      };
    },

    async ready() {
      const keys = deps.authKeysLoaded
        ? ({ auth_keys: deps.authKeysLoaded() ? 'loaded' : 'not loaded' } as const)
        : {};
      if (deps.isShuttingDown()) return { ready: false, reason: 'shutting down', ...keys };
      return (await database()) === 'up'
        ? { ready: true, ...keys }
        : { ready: false, reason: 'database unreachable', ...keys };
    },
  };
}

export function healthRoutes(health: Health): Router {
  const router = new Router();
  router.get('/health', async (ctx) => {
    const report = await health.report();
    ctx.status = report.status === 'unhealthy' ? 503 : 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  router.get('/health/live', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'alive' };
  });
  router.get('/health/ready', async (ctx) => {
    const result = await health.ready();
    ctx.status = result.ready ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    const keys = result.auth_keys === undefined ? {} : { auth_keys: result.auth_keys };
    ctx.body = result.ready
      ? { status: 'ready', ...keys }
      : { status: 'not ready', reason: result.reason, ...keys };
  });
  return router;
}
