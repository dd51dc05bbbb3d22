import request from 'supertest';
import { buildTestApp, TestApp } from '../support/app';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

interface Page {
  items: { id: number; title: string }[];
  next_cursor: string | null;
}

describeWithServices('memo search and pagination (GET /api/memos)', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let t: TestApp;
  const api = () => request(t.callback);
  const ids: Record<string, number> = {};

  const titles = async (qs: string): Promise<string[]> => {
    const res = await api().get(`/api/memos?${qs}`).expect(200);
    return (res.body as Page).items.map((m) => m.title).sort();
  };

  beforeAll(async () => {
    testDb = await createTestDatabase('search');
    t = await buildTestApp(testDb);
    const memos = [
      {
        title: 'Meeting notes',
        content: 'Discuss the deployment schedule',
        tags: ['work'],
        priority: 3,
        category: 'work',
        author: 'kim',
      },
      {
        title: 'Groceries',
        content: 'milk, eggs, meetballs',
        tags: ['home'],
        priority: 1,
        category: 'home',
        author: 'lee',
      },
      {
        title: '주간 회의',
        content: '회의 메모를 정리했습니다',
        tags: ['work', '회의'],
        priority: 3,
        category: 'work',
        author: 'kim',
      },
      {
        title: '장보기 메모',
        content: '우유와 계란',
        tags: ['home'],
        priority: 2,
        category: 'home',
        author: 'lee',
      },
      {
        title: 'Deploy checklist',
        content: 'Rollout plan: canary first. 배포 메모',
        tags: ['work'],
        priority: 4,
        category: 'ops',
        author: 'park',
      },
      { title: '메모장', content: 'scratch', priority: 1 },
      { title: '메모 모를', content: 'both bigrams of the word, not adjacent', priority: 1 },
    ];
    for (const memo of memos) {
      const res = await api().post('/api/memos').send(memo).expect(201);
      ids[memo.title] = res.body.id;
    }
  });
  afterAll(async () => {
    await t?.close();
    await testDb?.drop();
  });

  it('when searching an English word, then memos with it in title or content are found, case-insensitively', async () => {
    expect(await titles('q=meeting')).toEqual(['Meeting notes']);
    expect(await titles('q=SCHEDULE')).toEqual(['Meeting notes']);
  });

  it('when searching an English prefix, then words starting with it match', async () => {
    expect(await titles('q=meet')).toEqual(['Groceries', 'Meeting notes']);
    expect(await titles('q=deplo')).toEqual(['Deploy checklist', 'Meeting notes']);
  });

  it('when searching several words, then every word must match', async () => {
    expect(await titles('q=deploy%20canary')).toEqual(['Deploy checklist']);
    expect(await titles('q=deploy%20milk')).toEqual([]);
  });

  it('when searching a Korean substring, then memos containing it inside longer words match', async () => {
    // 메모 occurs inside 메모를 and 메모장, and alone.
    expect(await titles(`q=${encodeURIComponent('메모')}`)).toEqual([
      'Deploy checklist',
      '메모 모를',
      '메모장',
      '장보기 메모',
      '주간 회의',
    ]);
    // Both bigrams of 메모를 occur in "메모 모를" as well, but not adjacent: verification drops it.
    expect(await titles(`q=${encodeURIComponent('메모를')}`)).toEqual(['주간 회의']);
    expect(await titles(`q=${encodeURIComponent('모를')}`)).toEqual(['메모 모를', '주간 회의']);
    expect(await titles(`q=${encodeURIComponent('정리했')}`)).toEqual(['주간 회의']);
    expect(await titles(`q=${encodeURIComponent('계')}`)).toEqual(['장보기 메모']);
    expect(await titles(`q=${encodeURIComponent('없는말')}`)).toEqual([]);
  });

  it('when search is combined with filters, then both apply', async () => {
    expect(await titles(`q=${encodeURIComponent('메모')}&category=work`)).toEqual(['주간 회의']);
    expect(await titles(`q=${encodeURIComponent('메모')}&author=lee`)).toEqual(['장보기 메모']);
    expect(await titles(`q=${encodeURIComponent('메모')}&tag=work&priority=4`)).toEqual(['Deploy checklist']);
    expect(await titles(`q=meet&tag=home`)).toEqual(['Groceries']);
    expect(await titles(`tag=${encodeURIComponent('회의')}`)).toEqual(['주간 회의']);
  });

  it('when a memo is updated or deleted, then search follows its current text', async () => {
    const created = await api().post('/api/memos').send({ title: 'zebra crossing' }).expect(201);
    expect(await titles('q=zebra')).toEqual(['zebra crossing']);
    await api()
      .patch(`/api/memos/${created.body.id}`)
      .set('If-Match', '"1"')
      .send({ title: 'giraffe crossing' })
      .expect(200);
    expect(await titles('q=zebra')).toEqual([]);
    expect(await titles('q=giraf')).toEqual(['giraffe crossing']);
    await api().delete(`/api/memos/${created.body.id}`).expect(204);
    expect(await titles('q=giraf')).toEqual([]);
  });

  it('when paging through a result set while memos are inserted, then every memo that existed is seen exactly once, newest first', async () => {
    const existing: number[] = [];
    for (let i = 0; i < 23; i++) {
      const res = await api()
        .post('/api/memos')
        .send({ title: `paging item ${i}`, tags: ['paging'] })
        .expect(201);
      existing.push(res.body.id);
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const qs: string = `q=paging&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      // Writers insert matching memos concurrently with each page request.
      const [page] = await Promise.all([
        api().get(`/api/memos?${qs}`).expect(200),
        api()
          .post('/api/memos')
          .send({ title: `paging late ${inserted++}`, tags: ['paging'] })
          .expect(201),
      ]);
      const body = page.body as Page;
      expect(body.items.length).toBeLessThanOrEqual(5);
      seen.push(...body.items.map((m) => m.id));
      cursor = body.next_cursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    const fromBefore = seen.filter((id) => existing.includes(id));
    expect(fromBefore).toEqual([...existing].reverse());
  });

  it('when the filter is a tag, then paging with the tag is complete as well', async () => {
    const all: number[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await api()
        .get(`/api/memos?tag=paging&limit=7${cursor ? `&cursor=${cursor}` : ''}`)
        .expect(200);
      all.push(...(res.body as Page).items.map((m) => m.id));
      cursor = (res.body as Page).next_cursor;
    } while (cursor !== null);
    const count = await testDb.db('memo_tags').where({ tag: 'paging' }).count({ n: '*' });
    expect(all.length).toBe(Number(count[0].n));
    expect(new Set(all).size).toBe(all.length);
  });

  it('when a search term is present, then the plan reads the token index rather than scanning memos by LIKE', async () => {
    // The service's query shape for q=meet: the token table must be accessed by its primary key range.
    const [rows] = (await testDb.db.raw(
      `EXPLAIN SELECT m.id FROM memos m WHERE m.id IN (SELECT memo_id FROM memo_tokens WHERE token LIKE 'meet%')
       ORDER BY m.id DESC LIMIT 21`,
    )) as [{ table: string; key: string | null; type: string }[]];
    const tokens = rows.find((r) => r.table === 'memo_tokens');
    expect(tokens?.key).toBe('PRIMARY');
    expect(tokens?.type).toMatch(/range|ref/);
  });
});
