import type { Principal } from '../../src/auth/principal';
import { createVerifiedTokens, VerifiedTokens } from '../../src/auth/verified-tokens';

/* The cache of verified tokens on its own: its bounds, with a clock and a key-set version the test moves. */

const principal = (subject: string): Principal => ({
  subject,
  issuer: 'https://issuer.example',
  displayName: subject,
  roles: [],
  isAdmin: false,
});
/** A token-shaped string of `chars` characters, different per name. */
const token = (name: string, chars = 600): string => `${name}.`.padEnd(chars, 'x');

describe('verified tokens', () => {
  let clock: number;
  let version: number;
  let cache: VerifiedTokens;
  const expInSeconds = (ms: number): number => (clock + ms) / 1000;
  const build = (options: { maxChars?: number; maxAgeMs?: number } = {}): void => {
    cache = createVerifiedTokens({ ...options, keysVersion: () => version, now: () => clock });
  };

  beforeEach(() => {
    clock = 1_700_000_000_000;
    version = 1;
    build();
  });

  it('when a verified token comes again, then its principal is returned; another token is not known', () => {
    cache.remember(token('a'), principal('a'), expInSeconds(300_000), version);
    expect(cache.get(token('a'))).toEqual(principal('a'));
    expect(cache.get(token('b'))).toBeUndefined();
  });

  it('when the token reaches its exp, or the cache its own age bound first, then it must be checked again', () => {
    build({ maxAgeMs: 60_000 });
    cache.remember(token('short'), principal('short'), expInSeconds(10_000), version);
    cache.remember(token('long'), principal('long'), expInSeconds(3_600_000), version);
    clock += 9_999;
    expect(cache.get(token('short'))).toBeDefined();
    clock += 1;
    expect(cache.get(token('short'))).toBeUndefined();
    clock += 50_000 - 1;
    expect(cache.get(token('long'))).toBeDefined();
    clock += 1;
    expect(cache.get(token('long'))).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it('when a token is already past its exp (accepted within the leeway), then it is not kept', () => {
    cache.remember(token('late'), principal('late'), expInSeconds(-5_000), version);
    expect(cache.get(token('late'))).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it('when the key set is replaced, then tokens checked with the older set are checked again', () => {
    cache.remember(token('a'), principal('a'), expInSeconds(300_000), version);
    version++;
    expect(cache.get(token('a'))).toBeUndefined();
  });

  it('when the key set was replaced while a token was being checked, then the entry counts for the older set', () => {
    const before = version;
    version++; // a refetch finished during the check
    cache.remember(token('a'), principal('a'), expInSeconds(300_000), before);
    expect(cache.get(token('a'))).toBeUndefined();
  });

  it('when the room is full, then the least recently used tokens leave first', () => {
    // Room for three entries of 600 characters plus overhead, not four.
    build({ maxChars: 3 * (600 + 256) });
    for (const name of ['a', 'b', 'c'])
      cache.remember(token(name), principal(name), expInSeconds(300_000), version);
    expect(cache.get(token('a'))).toBeDefined(); // now b is the least recent
    cache.remember(token('d'), principal('d'), expInSeconds(300_000), version);
    expect(cache.size()).toBe(3);
    expect(cache.get(token('b'))).toBeUndefined();
    for (const name of ['a', 'c', 'd']) expect(cache.get(token(name))).toEqual(principal(name));
  });

  it('when large tokens arrive, then the room is counted in characters: fewer of them fit, and one larger than the room is not kept', () => {
    build({ maxChars: 10_000 });
    for (let i = 0; i < 10; i++)
      cache.remember(token(`big${i}`, 4_000), principal(`big${i}`), expInSeconds(300_000), version);
    expect(cache.size()).toBe(2);
    cache.remember(token('huge', 20_000), principal('huge'), expInSeconds(300_000), version);
    expect(cache.get(token('huge', 20_000))).toBeUndefined();
    expect(cache.size()).toBe(2);
  });

  it('when the same token is remembered twice, then it takes its room once', () => {
    build({ maxChars: 2 * (600 + 256) });
    cache.remember(token('a'), principal('a'), expInSeconds(300_000), version);
    cache.remember(token('a'), principal('a'), expInSeconds(300_000), version);
    cache.remember(token('b'), principal('b'), expInSeconds(300_000), version);
    expect(cache.get(token('a'))).toBeDefined();
    expect(cache.get(token('b'))).toBeDefined();
  });
});
