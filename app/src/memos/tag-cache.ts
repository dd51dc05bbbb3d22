/**
 * Pages of GET /api/tags, kept in this process for a few seconds. Tag counts change with every
 * write of any memo, so invalidating them on write would empty the cache under exactly the
 * load it is for; a short TTL bounds how stale a count can be instead (TAG_CACHE_TTL_MS, in
 * README). Concurrent misses of one page share one database read, and the number of pages
 * held is capped, so a client walking many cursors cannot grow the process without bound.
 */

export const TAG_CACHE_TTL_MS = 10_000;
export const TAG_CACHE_MAX_PAGES = 1000;

export interface TagPageCache<T> {
  get(key: string, load: () => Promise<T>): Promise<T>;
}

export function createTagPageCache<T>(
  ttlMs = TAG_CACHE_TTL_MS,
  maxPages = TAG_CACHE_MAX_PAGES,
  now: () => number = () => performance.now(),
): TagPageCache<T> {
  const pages = new Map<string, { value: Promise<T>; expires: number }>();
  return {
    get(key, load) {
      const held = pages.get(key);
      if (held !== undefined && held.expires > now()) return held.value;
      if (held !== undefined) pages.delete(key);
      // Oldest first: a Map iterates in insertion order.
      while (pages.size >= maxPages) pages.delete(pages.keys().next().value as string);
      const value = load();
      pages.set(key, { value, expires: now() + ttlMs });
      // A failed read is not kept: the next request tries the database again.
      value.catch(() => {
        if (pages.get(key)?.value === value) pages.delete(key);
      });
      return value;
    },
  };
}
