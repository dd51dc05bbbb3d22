import Redis from 'ioredis';
import type { RedisConfig } from './config';
import type { Logger } from './logger';

/** Upper bound of one Redis command as seen by a request (ioredis commandTimeout). */
export const REDIS_COMMAND_TIMEOUT_MS = 100;
/** After a failure, Redis is skipped outright for this long, so a slow Redis costs one timeout per second, not one per request. */
export const REDIS_COOLDOWN_MS = 1000;

export interface RedisOptions {
  /** Prepended to every key; tests use it to keep suites apart. */
  readonly keyPrefix?: string;
}

/**
 * Redis is an optimisation here, never a dependency: no offline queue (a command while
 * disconnected fails at once), no per-command retries, short connect and command timeouts.
 * Reconnection continues in the background.
 */
export function createRedis(config: RedisConfig, options: RedisOptions = {}): Redis {
  return new Redis({
    host: config.host,
    port: config.port,
    password: config.password === '' ? undefined : config.password,
    keyPrefix: options.keyPrefix,
    connectTimeout: 500,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Ready check issues INFO with the offline queue disabled; keep it but bound the retry pace.
    retryStrategy: (times) => Math.min(200 * times, 2000),
    lazyConnect: false,
  });
}

export class RedisUnavailable extends Error {
  constructor(reason: string) {
    super(`redis unavailable: ${reason}`);
    this.name = 'RedisUnavailable';
  }
}

export interface RedisGate {
  readonly client: Redis;
  /** Runs a command, or throws RedisUnavailable at once while Redis is known to be down. */
  run<T>(fn: (redis: Redis) => Promise<T>): Promise<T>;
}

/** A minimal circuit breaker around the client, shared by the cache and the rate limiter. */
export function createRedisGate(client: Redis, logger: Logger, cooldownMs = REDIS_COOLDOWN_MS): RedisGate {
  let openUntil = 0;
  let lastLog = 0;
  return {
    client,
    async run(fn) {
      if (client.status !== 'ready') throw new RedisUnavailable(`connection ${client.status}`);
      if (Date.now() < openUntil) throw new RedisUnavailable('cooling down after a failure');
      try {
        return await fn(client);
      } catch (err) {
        openUntil = Date.now() + cooldownMs;
        if (Date.now() - lastLog > cooldownMs) {
          lastLog = Date.now();
          logger.warn('redis command failed; serving without it', { error: (err as Error).message });
        }
        throw err;
      }
    },
  };
}
