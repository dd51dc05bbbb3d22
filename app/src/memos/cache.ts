import type Redis from 'ioredis';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { RedisGate } from '../redis';
import type { Memo } from './repository';

export interface MemoCache {
  /**
   * Cache-aside read: Redis first, else the loader (once per key at a time), then fill Redis.
   * A tombstone answers "no such memo" without the loader.
   */
  getOrLoad(id: number, load: () => Promise<Memo | undefined>): Promise<Memo | undefined>;
  /**
   * Fills the entry with what a reader loaded, unless Redis already holds this or a newer
   * version (or the tombstone of the memo). Never throws.
   */
  populate(memo: Memo): Promise<void>;
  /** Write-through after the transaction that made this version has committed. Never throws. */
  updated(memo: Memo): Promise<void>;
  /** After the transaction that deleted the memo (last at this version) has committed. Never throws. */
  deleted(id: number, lastVersion: number): Promise<void>;
}

export interface CacheDeps {
  readonly redis: RedisGate;
  /** 0 turns the memo cache off: no Redis command for memos at all. */
  readonly ttlSeconds: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export const cacheKey = (id: number): string => `memo:${id}`;

/**
 * How long a tombstone lives. It must outlive every reader that read the row before the
 * delete committed and has not yet written it back; LOAD_MAX_AGE_MS caps that reader's part,
 * and the rest covers a populate that left while Redis stalled (ioredis gives up on it after
 * the command timeout, but Redis still runs it once the stall ends). Tombstones are tiny.
 */
export const TOMBSTONE_TTL_SECONDS = 60;
/**
 * A load that took longer than this is served but not written back: a row read this long ago
 * may predate a tombstone that has since expired. DB_STATEMENT_TIMEOUT_MS bounds each statement
 * of a load, not the pool wait before it, so the load as a whole still needs its own bound.
 */
export const LOAD_MAX_AGE_MS = 10_000;

/** What a deleted memo's entry holds; its version is above every version the row ever had. */
interface Tombstone {
  readonly deleted: true;
  readonly version: number;
}

/**
 * The one way any entry is written: set only if the key is absent or holds an older version.
 * Versions compare as numbers. Entries written before versions were compared are memo JSON
 * with a version as well; anything without one is overwritten.
 * KEYS[1] entry, ARGV[1] version, ARGV[2] value, ARGV[3] TTL in seconds.
 */
const SET_IF_NEWER_LUA = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, held = pcall(cjson.decode, current)
  local heldVersion = ok and type(held) == 'table' and tonumber(held.version)
  if heldVersion and heldVersion >= tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
`;

const SET_IF_NEWER = 'memoSetIfNewer';
type SetIfNewer = (key: string, version: number, value: string, ttlSeconds: number) => Promise<number>;

/**
 * ioredis sends a defined command as EVALSHA and falls back to EVAL on NOSCRIPT (a restarted
 * or flushed Redis), and applies the client's key prefix to KEYS.
 */
function setIfNewer(
  client: Redis,
  key: string,
  version: number,
  value: string,
  ttlSeconds: number,
): Promise<number> {
  if (!(SET_IF_NEWER in client)) {
    client.defineCommand(SET_IF_NEWER, { numberOfKeys: 1, lua: SET_IF_NEWER_LUA });
  }
  const command = (client as unknown as Record<string, SetIfNewer>)[SET_IF_NEWER];
  return command.call(client, key, version, value, ttlSeconds);
}

function isTombstone(entry: Memo | Tombstone): entry is Tombstone {
  return (entry as Partial<Tombstone>).deleted === true;
}

/** With caching off, every read goes to the database and Redis is never asked. */
function createUncachedMemos(metrics: Metrics): MemoCache {
  return {
    async getOrLoad(_id, load) {
      metrics.cacheMisses.inc();
      return load();
    },
    async populate() {},
    async updated() {},
    async deleted() {},
  };
}

/**
 * Entries carry the memo's version and are written only through SET_IF_NEWER, so whatever
 * order writers and readers of any replica reach Redis in, an entry never goes back to an
 * older version: a reader that loaded v1 before v2 committed cannot overwrite v2, nor the
 * tombstone of a deleted memo. Updates write the new version through (the next read is a
 * hit), deletes write a tombstone.
 *
 * Stampede protection is a single flight per key in this process: concurrent misses for one
 * memo share one database read. A write detaches the flight in progress, so readers arriving
 * after the write do not get the pre-write row from it, and that flight does not write back
 * (it would lose to the new version anyway, unless the write-through itself failed).
 */
export function createMemoCache(deps: CacheDeps): MemoCache {
  const { redis, ttlSeconds, logger, metrics } = deps;
  if (ttlSeconds === 0) return createUncachedMemos(metrics);
  const inflight = new Map<string, { promise: Promise<Memo | undefined>; stale: boolean }>();
  const loadMaxAgeMs = Math.min(LOAD_MAX_AGE_MS, ttlSeconds * 1000);

  const failed = (operation: string, err: unknown): void => {
    metrics.cacheErrors.inc({ operation });
    logger.debug('cache operation failed', { operation, error: (err as Error).message });
  };

  const detach = (key: string): void => {
    const running = inflight.get(key);
    if (running) {
      running.stale = true;
      inflight.delete(key);
    }
  };

  /** A write after commit: the guarded write, else drop the entry so an old version is not left. */
  const writeAfterCommit = async (
    operation: string,
    id: number,
    version: number,
    value: string,
    ttl: number,
  ): Promise<void> => {
    const key = cacheKey(id);
    detach(key);
    try {
      await redis.run((r) => setIfNewer(r, key, version, value, ttl));
      return;
    } catch (err) {
      failed(operation, err);
      try {
        // A reply error means Redis answered and refused (out of memory refuses the script's
        // SET, never a DEL), so the breaker the failure has just opened is no reason to skip
        // the DEL. After a timeout or a lost connection the DEL goes through the breaker,
        // which refuses it at once: the request must not wait for Redis twice.
        if ((err as Error).name === 'ReplyError') await redis.client.del(key);
        else await redis.run((r) => r.del(key));
      } catch (delErr) {
        // The old entry (if any) expires with its TTL; the version in ETag/If-Match still
        // stops lost updates.
        failed('del', delErr);
      }
    }
  };

  const populate = async (memo: Memo): Promise<void> => {
    try {
      await redis.run((r) =>
        setIfNewer(r, cacheKey(memo.id), memo.version, JSON.stringify(memo), ttlSeconds),
      );
    } catch (err) {
      failed('set', err);
    }
  };

  return {
    async getOrLoad(id, load) {
      const key = cacheKey(id);
      try {
        const cached = await redis.run((r) => r.get(key));
        if (cached !== null) {
          metrics.cacheHits.inc();
          const entry = JSON.parse(cached) as Memo | Tombstone;
          // The memo was deleted and AUTO_INCREMENT never hands its id out again.
          return isTombstone(entry) ? undefined : entry;
        }
      } catch (err) {
        failed('get', err);
      }
      metrics.cacheMisses.inc();
      const running = inflight.get(key);
      if (running) return running.promise;
      const flight = { promise: Promise.resolve<Memo | undefined>(undefined), stale: false };
      const started = performance.now();
      flight.promise = load()
        .then((memo) => {
          if (memo && !flight.stale && performance.now() - started <= loadMaxAgeMs) {
            // Not awaited: the response need not wait for the cache fill.
            void populate(memo);
          }
          return memo;
        })
        .finally(() => {
          if (inflight.get(key) === flight) inflight.delete(key);
        });
      inflight.set(key, flight);
      return flight.promise;
    },

    populate,

    async updated(memo) {
      await writeAfterCommit('write', memo.id, memo.version, JSON.stringify(memo), ttlSeconds);
    },

    async deleted(id, lastVersion) {
      // One above the last version the row had, so no reader's copy of the row can win over it.
      const tombstone: Tombstone = { deleted: true, version: lastVersion + 1 };
      await writeAfterCommit(
        'tombstone',
        id,
        tombstone.version,
        JSON.stringify(tombstone),
        TOMBSTONE_TTL_SECONDS,
      );
    },
  };
}
