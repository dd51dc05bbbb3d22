import type { Knex } from 'knex';
import { createMemoRepository, MemoRepository } from '../../src/memos/repository';
import {
  chooseDriver,
  planPage,
  possibleDrivers,
  searchConditions,
  SearchDriver,
} from '../../src/search/planner';
import type { ListQuery } from '../../src/memos/schema';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * Every way of reading a search (walk a term's postings, a prefix's tokens, a filter's index,
 * the memos' key, collect a prefix, intersect the terms) must give the same pages, so a
 * different choice of driver never changes what a client sees, only how fast.
 */
describeWithServices('memo search drivers (repository)', ['mariadb'], () => {
  let testDb: TestDatabase;
  let repo: MemoRepository;

  const words = ['deploy', 'deployed', 'deployment', 'release', 'server', 'invoice'];
  beforeAll(async () => {
    testDb = await createTestDatabase('search_drivers');
    repo = createMemoRepository(testDb.db);
    const now = new Date('2026-01-01T00:00:00Z');
    await testDb.db.transaction(async (trx: Knex.Transaction) => {
      for (let i = 0; i < 240; i++) {
        const content = [
          words[i % words.length],
          i % 4 === 0 ? 'release' : 'note',
          i % 3 === 0 ? '서버 배포를 확인했습니다' : '회의록',
          i % 37 === 0 ? 'zeppelin' : '',
          // Two tokens of the prefix "deplo" in one memo.
          i % 6 === 0 ? 'deployment' : '',
        ].join(' ');
        await repo.insert(
          trx,
          {
            title: `memo ${i}`,
            content,
            tags: i % 5 === 0 ? ['finance'] : ['work'],
            priority: (i % 4) + 1,
            category: i % 2 === 0 ? 'ops' : 'work',
            author: i % 7 === 0 ? 'kim' : 'lee',
          },
          now,
        );
      }
    });
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  /** Every page, following the cursor the way the service does. */
  async function allPages(query: ListQuery, driver?: SearchDriver): Promise<number[][]> {
    const pages: number[][] = [];
    let after: number | undefined;
    for (;;) {
      const rows = await repo.list({ ...query, after }, driver ? { driver } : {});
      const page = rows.slice(0, query.limit).map((m) => m.id);
      pages.push(page);
      if (rows.length <= query.limit) return pages;
      after = page[page.length - 1];
    }
  }

  const queries: ListQuery[] = [
    { q: 'deploy', limit: 7 },
    { q: 'deplo release', limit: 5 },
    { q: 'release server', limit: 6 },
    { q: 'zeppelin', limit: 3 },
    { q: '배포를', limit: 9 },
    { q: '서버 확인', limit: 8, priority: 4 },
    { q: 'release', limit: 4, priority: 1, category: 'ops' },
    { q: 'invoice', limit: 5, tag: 'finance' },
    { q: 'deploy', limit: 5, author: 'kim' },
    { q: 'absentword', limit: 5, category: 'ops' },
  ];

  it.each(queries)('when %j is read by every driver, then all pages are identical', async (query) => {
    const expected = await allPages(query);
    const ids = expected.flat();
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    for (const driver of possibleDrivers(searchConditions(query))) {
      expect({ driver, pages: await allPages(query, driver) }).toEqual({ driver, pages: expected });
    }
  });

  it('when a common prefix has several tokens, then the per-token walks merge without duplicates', async () => {
    // "deplo" covers deploy, deployed, deployment: a memo with two of them comes once.
    const query: ListQuery = { q: 'deplo', limit: 10 };
    const ordered = await allPages(query, { kind: 'ordered', condition: 0 });
    expect(ordered).toEqual(await allPages(query, { kind: 'scan' }));
    expect(ordered.flat()).toHaveLength(120);
  });
});

describe('chooseDriver', () => {
  const total = 1_000_000;
  const conditions = searchConditions({ q: 'common', limit: 20, priority: 4, category: 'ops' });

  it('when the only term is common, then it is walked in id order: per token if few, else memos probed', () => {
    expect(chooseDriver(searchConditions({ q: 'deplo', limit: 20 }), [70_000], total, 21, [3])).toEqual({
      kind: 'ordered',
      condition: 0,
    });
    expect(chooseDriver(searchConditions({ q: 'de', limit: 20 }), [180_000], total, 21, [40])).toEqual({
      kind: 'scan',
    });
  });

  it('when the term is rare, then its postings are collected', () => {
    expect(chooseDriver(searchConditions({ q: 'zeppel', limit: 20 }), [30], total, 21, [40])).toEqual({
      kind: 'collect',
      condition: 0,
    });
  });

  it('when a filter is rarer than the common term, then its index drives', () => {
    expect(chooseDriver(conditions, [400_000, 250_000, 2_000], total, 21, [20, 1, 1])).toEqual({
      kind: 'ordered',
      condition: 2,
    });
  });
});

describe('planPage', () => {
  const total = 1_000_000;

  it('when several terms are all rare, then their postings are intersected and each is a semi-join', () => {
    const conditions = searchConditions({ q: 'zeppelin airship', limit: 20 });
    const plan = planPage(conditions, [30, 900], total, 21, [1, 1]);
    expect(plan.driver).toEqual({ kind: 'intersect' });
    expect(conditions.map(plan.semiJoin)).toEqual([true, true]);
  });

  it('when one term is common, then chooseDriver picks the driver and only the rare conditions are semi-joins', () => {
    const conditions = searchConditions({ q: 'common zeppelin', limit: 20 });
    const plan = planPage(conditions, [400_000, 30], total, 21, [20, 1]);
    expect(plan.driver).toEqual(chooseDriver(conditions, [400_000, 30], total, 21, [20, 1]));
    expect(plan.driver).toEqual({ kind: 'ordered', condition: 1 });
    expect(conditions.map(plan.semiJoin)).toEqual([false, true]);
  });
});
