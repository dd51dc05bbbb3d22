import type { Middleware } from 'koa';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { RedisGate } from '../redis';
import { HttpProblem } from './errors';

export interface RateLimitOptions {
  readonly redis: RedisGate;
  readonly perMinute: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly windowMs?: number;
}

/**
 * Fixed window per client IP in Redis (INCR + PEXPIRE in one MULTI), so all replicas share
 * one count. It fails open: when Redis is down or slow the request goes through, because
 * refusing all traffic for a cache outage would be worse than briefly not limiting it.
 */
export function rateLimit(options: RateLimitOptions): Middleware {
  const { redis, perMinute, metrics, logger } = options;
  const windowMs = options.windowMs ?? 60_000;
  return async (ctx, next) => {
    if (perMinute === 0) return next();
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const resetMs = (window + 1) * windowMs - now;
    let count: number | undefined;
    try {
      const key = `ratelimit:${ctx.ip}:${window}`;
      const result = await redis.run((r) => r.multi().incr(key).pexpire(key, windowMs).exec());
      count = Number(result?.[0]?.[1]);
    } catch (err) {
      logger.debug('rate limit skipped: redis unavailable', { error: (err as Error).message });
      return next();
    }
    const resetSeconds = Math.ceil(resetMs / 1000);
    ctx.set({
      'RateLimit-Limit': String(perMinute),
      'RateLimit-Remaining': String(Math.max(0, perMinute - count)),
      'RateLimit-Reset': String(resetSeconds),
    });
    if (count > perMinute) {
      metrics.rateLimited.inc();
      throw new HttpProblem(
        429,
        'Too Many Requests',
        `At most ${perMinute} requests per minute per client; retry in ${resetSeconds} s`,
        [],
        { 'Retry-After': String(resetSeconds) },
      );
    }
    return next();
  };
}
