import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Memo } from './memos/repository';
import type { RedisGate } from './redis';

export interface MemoCache {
  /** Cache-aside read: Redis first, else the loader (once per key at a time), then fill Redis. */
  getOrLoad(id: number, load: () => Promise<Memo | undefined>): Promise<Memo | undefined>;
  /** Drops the entry; called after the transaction that changed the memo has committed. */
  invalidate(id: number): Promise<void>;
}

export interface CacheDeps {
  readonly redis: RedisGate;
  readonly ttlSeconds: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export const cacheKey = (id: number): string => `memo:${id}`;

/**
 * Stampede protection is a single flight per key in this process: concurrent misses for one
 * memo share one database read. An invalidation marks the flight in progress stale, and that
 * load does not write its (possibly old) result back, so an update racing a read does not
 * leave the old version cached for a whole TTL.
 */
export function createMemoCache(deps: CacheDeps): MemoCache {
  const { redis, ttlSeconds, logger, metrics } = deps;
  const inflight = new Map<string, { promise: Promise<Memo | undefined>; stale: boolean }>();

  const failed = (operation: string, err: unknown): void => {
    metrics.cacheErrors.inc({ operation });
    logger.debug('cache operation failed', { operation, error: (err as Error).message });
  };

  return {
    async getOrLoad(id, load) {
      const key = cacheKey(id);
      try {
        const cached = await redis.run((r) => r.get(key));
        if (cached !== null) {
          metrics.cacheHits.inc();
          return JSON.parse(cached) as Memo;
        }
      } catch (err) {
        failed('get', err);
      }
      metrics.cacheMisses.inc();
      const running = inflight.get(key);
      if (running) return running.promise;
      const flight = { promise: Promise.resolve<Memo | undefined>(undefined), stale: false };
      flight.promise = load()
        .then((memo) => {
          if (memo && !flight.stale) {
            // Not awaited: the response need not wait for the cache fill.
            redis
              .run((r) => r.set(key, JSON.stringify(memo), 'EX', ttlSeconds))
              .catch((err) => failed('set', err));
          }
          return memo;
        })
        .finally(() => {
          if (inflight.get(key) === flight) inflight.delete(key);
        });
      inflight.set(key, flight);
      return flight.promise;
    },

    async invalidate(id) {
      const key = cacheKey(id);
      const running = inflight.get(key);
      if (running) {
        running.stale = true;
        inflight.delete(key);
      }
      try {
        await redis.run((r) => r.del(key));
      } catch (err) {
        // The entry (if any) expires with its TTL; the version in ETag/If-Match still stops lost updates.
        failed('del', err);
      }
    },
  };
}
