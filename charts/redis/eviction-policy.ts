/**
 * Redis' `maxmemory-policy`: which keys go when the cache is full.
 * @see https://redis.io/docs/latest/develop/reference/eviction/
 */
export enum EvictionPolicy {
  /** The least recently used keys, of all keys: a plain cache. */
  ALLKEYS_LRU = 'allkeys-lru',
  /** The least frequently used keys, of all keys. */
  ALLKEYS_LFU = 'allkeys-lfu',
  /** Random keys, of all keys. */
  ALLKEYS_RANDOM = 'allkeys-random',
  /** The least recently used keys that have an expiry. */
  VOLATILE_LRU = 'volatile-lru',
  /** The least frequently used keys that have an expiry. */
  VOLATILE_LFU = 'volatile-lfu',
  /** Random keys that have an expiry. */
  VOLATILE_RANDOM = 'volatile-random',
  /** The keys with an expiry that expire soonest. */
  VOLATILE_TTL = 'volatile-ttl',
  /** None: writes fail when memory is full. */
  NOEVICTION = 'noeviction',
}
