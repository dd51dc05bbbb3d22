import { createTagPageCache } from '../../src/memos/tag-cache';

describe('tag page cache', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 0;
  });

  it('when a page is asked for again within the TTL, then the first read serves it; after the TTL it is read again', async () => {
    const cache = createTagPageCache<number>(1000, 10, now);
    let reads = 0;
    const load = async (): Promise<number> => ++reads;
    expect(await cache.get('a', load)).toBe(1);
    clock = 999;
    expect(await cache.get('a', load)).toBe(1);
    clock = 1000;
    expect(await cache.get('a', load)).toBe(2);
  });

  it('when several requests miss one page at once, then one read serves them all', async () => {
    const cache = createTagPageCache<string>(1000, 10, now);
    let reads = 0;
    let release: (v: string) => void = () => undefined;
    const load = (): Promise<string> => {
      reads++;
      return new Promise((resolve) => {
        release = resolve;
      });
    };
    const pending = [cache.get('p', load), cache.get('p', load), cache.get('p', load)];
    release('page');
    expect(await Promise.all(pending)).toEqual(['page', 'page', 'page']);
    expect(reads).toBe(1);
  });

  it('when a read fails, then it is not kept: the next request reads again', async () => {
    const cache = createTagPageCache<string>(1000, 10, now);
    await expect(cache.get('f', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get('f', async () => 'fresh')).toBe('fresh');
  });

  it('when more pages than the cap are asked for, then the oldest are dropped and the count stays bounded', async () => {
    const cache = createTagPageCache<string>(1000, 3, now);
    let reads = 0;
    const load = (key: string) => async (): Promise<string> => {
      reads++;
      return key;
    };
    for (const key of ['k1', 'k2', 'k3', 'k4']) await cache.get(key, load(key));
    expect(reads).toBe(4);
    await cache.get('k4', load('k4'));
    await cache.get('k2', load('k2'));
    expect(reads).toBe(4);
    await cache.get('k1', load('k1'));
    expect(reads).toBe(5);
  });
});
