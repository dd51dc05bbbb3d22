import type { Knex } from 'knex';
import request from 'supertest';
import { createDb } from '../../src/db';
import { MemoError } from '../../src/memos/errors';
import { createMemoRepository } from '../../src/memos/repository';
import { LIMITS } from '../../src/memos/schema';
import { buildTestApp, TestApp } from '../support/app';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * The limits that keep a caller without credentials from taking the service down cheaply:
 * search terms per query, rows examined per search page, index rows per memo, the statement
 * time limit, readiness on its own connection, and /api/tags paged and cached. Against the real
 * MariaDB and Redis; slow statements are made real by a row lock another connection holds.
 */

/** Far above any bound asserted here, far below InnoDB's 50 s lock wait: a hang would show. */
const HANG_MS = 10_000;

const expectProblem = (res: request.Response, status: number): void => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
};

/** Han text of `chars` characters whose bigrams are (nearly) all distinct. */
const hanText = (chars: number): string =>
  Array.from({ length: chars }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20_992))).join('');

/** Resolves once `sessions` statements of this account wait for a row lock in `database`. */
async function lockWaiters(db: Knex, database: string, sessions: number): Promise<void> {
  const deadline = Date.now() + HANG_MS;
  for (;;) {
    const [[{ waiting }]] = (await db.raw(
      `SELECT COUNT(*) AS waiting FROM information_schema.PROCESSLIST
        WHERE DB = ? AND ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE '%for update%'`,
      [database],
    )) as [[{ waiting: number }]];
    if (Number(waiting) >= sessions) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${sessions} sessions waiting on the lock`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWithServices('abuse limits', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let t: TestApp;
  const api = () => request(t.callback);

  beforeAll(async () => {
    testDb = await createTestDatabase('abuse');
    t = await buildTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
    await testDb?.drop();
  });

  describe('search plans', () => {
    it('when q is the 200-character query of 67 two-letter words, then 400 names the term limit', async () => {
      const words = Array.from(
        { length: 67 },
        (_, i) => `${'abcdefghijklmnopqrstuvwxyz'[i % 26]}${'xyz'[i % 3]}`,
      );
      const q = words.join(' ');
      expect(q.length).toBe(200);
      const res = await api().get('/api/memos').query({ q });
      expectProblem(res, 400);
      expect(res.body.errors[0]).toMatchObject({ field: 'q' });
      expect(res.body.errors[0].message).toContain(`at most ${LIMITS.searchTerms}`);
    });

    it('when two common terms never occur together, then the page stops at the rows-examined bound (422), and a bound that suffices serves it', async () => {
      const repo = createMemoRepository(testDb.db);
      await testDb.db.transaction(async (trx) => {
        for (let i = 0; i < 300; i++) {
          const word = i % 2 === 0 ? 'evenmarker' : 'oddmarker';
          const input = {
            title: `m${i}`,
            content: `a note ${word}`,
            tags: [],
            priority: 2,
            category: null,
            author: null,
          };
          await repo.insert(trx, input, new Date());
        }
      });
      await testDb.db.raw('ANALYZE TABLE memos, memo_tokens');
      const query = { q: 'evenmarker oddmarker', limit: 20 };
      let refused: unknown;
      try {
        await repo.list(query, { rowsExamined: 200 });
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(MemoError);
      expect((refused as MemoError).kind).toBe('search_too_broad');
      expect((refused as MemoError).message).toContain('examined 200');
      // The same walk with room for the whole table: no match, served (an empty page).
      expect(await repo.list(query, { rowsExamined: 100_000 })).toEqual([]);
      // Under the same small bound, a term in every memo is walked in id order on its own index
      // and fills its page after ~21 rows: the bound refuses walks, not common words.
      expect(await repo.list({ q: 'a', limit: 20 }, { rowsExamined: 200 })).toHaveLength(21);
    });
  });

  describe('index rows per memo', () => {
    const count = async (): Promise<number> =>
      Number(((await testDb.db('memos').count({ n: '*' })) as [{ n: number }])[0].n);

    it('when a 64 KiB POST of Han characters would write ~21,000 index rows, then 422 names the limit and nothing is stored', async () => {
      const before = await count();
      const content = hanText(21_800);
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(LIMITS.contentBytes);
      const res = await api().post('/api/memos').send({ title: 'han', content });
      expectProblem(res, 422);
      expect(res.body.detail).toContain(`at most ${LIMITS.indexTermsPerMemo}`);
      expect(res.body.errors).toEqual([
        { field: 'content', message: expect.stringContaining('distinct search terms') },
      ]);
      expect(await count()).toBe(before);
    });

    it('when a memo has exactly the limit of index terms, then it is stored; one more and PATCH is refused, the memo unchanged', async () => {
      // "h" is one term, the Han run of n characters n - 1 bigrams and one unigram: n + 1.
      const atLimit = hanText(LIMITS.indexTermsPerMemo - 1);
      const created = await api().post('/api/memos').send({ title: 'h', content: atLimit }).expect(201);
      const res = await api()
        .patch(`/api/memos/${created.body.id}`)
        .set('If-Match', '"1"')
        .send({ content: hanText(LIMITS.indexTermsPerMemo) });
      expectProblem(res, 422);
      const read = await api().get(`/api/memos/${created.body.id}`).expect(200);
      expect(read.body).toMatchObject({ version: 1, content: atLimit });
    });
  });

  describe('statement time limit', () => {
    it('when a statement runs past DB_STATEMENT_TIMEOUT_MS, then the client gets 503 with Retry-After, not a hang or a 500', async () => {
      const limitMs = 300;
      const limited = createDb(testDb.config.db, { statementTimeoutMs: limitMs });
      const app = await buildTestApp(testDb, { db: limited });
      const id = (await api().post('/api/memos').send({ title: 'locked' }).expect(201)).body.id as number;
      const holder = await testDb.db.transaction();
      try {
        await holder.raw('SELECT id FROM memos WHERE id = ? FOR UPDATE', [id]);
        const start = performance.now();
        const res = await request(app.callback)
          .patch(`/api/memos/${id}`)
          .set('If-Match', '"1"')
          .send({ title: 'x' });
        const elapsed = performance.now() - start;
        expectProblem(res, 503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.body.detail).toContain('statement time limit');
        expect(elapsed).toBeGreaterThanOrEqual(limitMs - 50);
        expect(elapsed).toBeLessThan(HANG_MS);
      } finally {
        await holder.rollback();
        await app.close();
        await limited.destroy();
      }
      // The aborted statement left its connection usable and the row as it was.
      const read = await api().get(`/api/memos/${id}`).expect(200);
      expect(read.body).toMatchObject({ title: 'locked', version: 1 });
    });
  });

  describe('readiness', () => {
    it('when every pooled connection is busy, then readiness on its own connection stays 200, and on the shared pool it fails', async () => {
      const busyPool = createDb({ ...testDb.config.db, poolMax: 2 }, { statementTimeoutMs: HANG_MS });
      const probeDb = createDb(
        { ...testDb.config.db, poolMax: 1 },
        { acquireTimeoutMs: 1000, statementTimeoutMs: 1000 },
      );
      const own = await buildTestApp(testDb, { db: busyPool, readinessDb: probeDb });
      const shared = await buildTestApp(testDb, { db: busyPool });
      const ids: number[] = [];
      for (let i = 0; i < 2; i++)
        ids.push(
          (
            await api()
              .post('/api/memos')
              .send({ title: `busy ${i}` })
              .expect(201)
          ).body.id,
        );
      const holder = await testDb.db.transaction();
      let writes: Promise<request.Response>[] = [];
      try {
        await holder.raw('SELECT id FROM memos WHERE id IN (?, ?) FOR UPDATE', ids);
        writes = ids.map((id) =>
          request(own.callback)
            .patch(`/api/memos/${id}`)
            .set('If-Match', '"1"')
            .send({ title: 'later' })
            .then((r) => r),
        );
        await lockWaiters(testDb.db, testDb.name, 2);
        const ready = await request(own.callback).get('/health/ready');
        expect(ready.status).toBe(200);
        const starved = await request(shared.callback).get('/health/ready');
        expect(starved.status).toBe(503);
      } finally {
        await holder.rollback();
        const done = await Promise.all(writes);
        expect(done.map((r) => r.status)).toEqual(ids.map(() => 200));
        await own.close();
        await shared.close();
        await busyPool.destroy();
        await probeDb.destroy();
      }
    });
  });

  describe('/api/tags', () => {
    it('when tags are paged with limit and cursor, then every tag comes once, in name order, with its count', async () => {
      const fresh = await buildTestApp(testDb);
      try {
        const tags = ['pg-e', 'pg-a', 'pg-d', 'pg-b', 'pg-c'];
        for (const [i, tag] of tags.entries()) {
          for (let n = 0; n <= i; n++)
            await api()
              .post('/api/memos')
              .send({ title: `t ${tag}`, tags: [tag] })
              .expect(201);
        }
        const seen: { tag: string; count: number }[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const res: request.Response = await request(fresh.callback)
            .get('/api/tags')
            .query(cursor === null ? { limit: 2 } : { limit: 2, cursor })
            .expect(200);
          expect(res.body.items.length).toBeLessThanOrEqual(2);
          seen.push(...res.body.items);
          cursor = res.body.next_cursor;
          pages++;
        } while (cursor !== null && pages < 50);
        const mine = seen.filter((s) => s.tag.startsWith('pg-'));
        expect(mine).toEqual([
          { tag: 'pg-a', count: 2 },
          { tag: 'pg-b', count: 4 },
          { tag: 'pg-c', count: 5 },
          { tag: 'pg-d', count: 3 },
          { tag: 'pg-e', count: 1 },
        ]);
        expect(seen.map((s) => s.tag)).toEqual([...seen.map((s) => s.tag)].sort());
        expect(new Set(seen.map((s) => s.tag)).size).toBe(seen.length);
      } finally {
        await fresh.close();
      }
    });

    it('when a page was read a moment ago, then it is served from the cache: a new tag shows only after the TTL', async () => {
      const fresh = await buildTestApp(testDb);
      try {
        const first = await request(fresh.callback).get('/api/tags').query({ limit: 500 }).expect(200);
        await api()
          .post('/api/memos')
          .send({ title: 'new tag', tags: ['cache-new-tag'] })
          .expect(201);
        const again = await request(fresh.callback).get('/api/tags').query({ limit: 500 }).expect(200);
        expect(again.body).toEqual(first.body);
        // Another page key is read from the database and has it.
        const other = await request(fresh.callback).get('/api/tags').query({ limit: 499 }).expect(200);
        expect(other.body.items.map((i: { tag: string }) => i.tag)).toContain('cache-new-tag');
      } finally {
        await fresh.close();
      }
    });

    it.each([
      [{ limit: '0' }, 'limit'],
      [{ limit: String(LIMITS.tagPageMax + 1) }, 'limit'],
      [{ cursor: 'not-a-cursor' }, 'cursor'],
      [{ sort: 'count' }, 'sort'],
    ])('when the query is %j, then 400 names %s', async (query, field) => {
      const res = await api().get('/api/tags').query(query);
      expectProblem(res, 400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    });
  });
});
