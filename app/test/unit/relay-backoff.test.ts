import { backoffMs } from '../../src/events/relay';

describe('the outbox relay back-off (events/relay.ts)', () => {
  it('when failures follow one another, then the pause doubles from 500 ms', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 10_000))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('when the failures go on, then the pause stays at the bound', () => {
    expect(backoffMs(6, 10_000)).toBe(10_000);
    expect(backoffMs(1_000, 10_000)).toBe(10_000);
    expect(backoffMs(1_000, 300_000)).toBe(256_000);
  });
});
