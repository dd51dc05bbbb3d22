import request from 'supertest';
import { buildTestApp, TestApp } from '../support/app';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * If-Match and If-None-Match as RFC 9110 13.1.1 and 13.1.2 define them: If-Match compares
 * strongly (a weak tag never matches), `*` matches any current memo, a list matches when any
 * member does, and a well-formed tag that matches nothing is 412, not 400; If-None-Match on GET
 * compares weakly. Only a header outside the entity-tag grammar is a 400.
 */
describeWithServices('conditional requests (RFC 9110)', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let t: TestApp;
  const api = () => request(t.callback);

  beforeAll(async () => {
    testDb = await createTestDatabase('conditional');
    t = await buildTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
    await testDb?.drop();
  });

  /** A memo at version 2, so "1" is a real but stale version. */
  const memoAtV2 = async (): Promise<number> => {
    const id = (await api().post('/api/memos').send({ title: 'cond' }).expect(201)).body.id as number;
    await api().patch(`/api/memos/${id}`).set('If-Match', '"1"').send({ title: 'cond v2' }).expect(200);
    return id;
  };

  const version = async (id: number): Promise<number> =>
    (await api().get(`/api/memos/${id}`).expect(200)).body.version as number;

  describe('If-Match on PATCH, PUT and DELETE', () => {
    it.each([
      ['a tag this API never issues', '"abc"'],
      ['a stale version', '"1"'],
      ['the current version, but weak', 'W/"2"'],
      ['a list of only non-matching tags', '"1", W/"2", "xyz"'],
      ['an empty tag', '""'],
    ])('when If-Match is %s (%s), then 412 and the memo is unchanged', async (_what, header) => {
      const id = await memoAtV2();
      for (const req of [
        api().patch(`/api/memos/${id}`).set('If-Match', header).send({ title: 'lost' }),
        api().put(`/api/memos/${id}`).set('If-Match', header).send({ title: 'lost' }),
        api().delete(`/api/memos/${id}`).set('If-Match', header),
      ]) {
        const res = await req;
        expect(res.status).toBe(412);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 412, title: 'Precondition Failed' });
      }
      expect(await version(id)).toBe(2);
    });

    it('when If-Match is a list that names the current version, then the write succeeds', async () => {
      const id = await memoAtV2();
      const res = await api()
        .patch(`/api/memos/${id}`)
        .set('If-Match', '"1", W/"2", "2"')
        .send({ title: 'listed' })
        .expect(200);
      expect(res.headers.etag).toBe('"3"');
    });

    it('when If-Match is *, then it matches any existing memo and a missing one is 404', async () => {
      const id = await memoAtV2();
      await api().put(`/api/memos/${id}`).set('If-Match', '*').send({ title: 'star' }).expect(200);
      await api().patch(`/api/memos/${id}`).set('If-Match', '*').send({ priority: 4 }).expect(200);
      expect(await version(id)).toBe(4);
      await api().delete(`/api/memos/${id}`).set('If-Match', '*').expect(204);
      await api().patch(`/api/memos/${id}`).set('If-Match', '*').send({ priority: 1 }).expect(404);
      await api().delete(`/api/memos/${id}`).set('If-Match', '*').expect(404);
    });

    it.each(['2', 'W/2', '"2" trailing', '*, "2"', 'W/"2'])(
      'when If-Match is malformed (%s), then 400 names the header and the memo is unchanged',
      async (header) => {
        const id = await memoAtV2();
        const res = await api().patch(`/api/memos/${id}`).set('If-Match', header).send({ title: 'lost' });
        expect(res.status).toBe(400);
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual(['If-Match']);
        expect(await version(id)).toBe(2);
      },
    );
  });

  describe('If-None-Match on GET', () => {
    it.each([
      ['the current version', '"2"'],
      ['the current version, weak (weak comparison)', 'W/"2"'],
      ['a list naming it', '"1", W/"2"'],
      ['*', '*'],
    ])('when If-None-Match is %s, then 304 with the ETag and no body', async (_what, header) => {
      const id = await memoAtV2();
      const res = await api().get(`/api/memos/${id}`).set('If-None-Match', header).expect(304);
      expect(res.headers.etag).toBe('"2"');
      expect(res.text).toBe('');
    });

    it.each([
      ['a stale version', '"1"'],
      ['a tag this API never issues', '"abc"'],
      ['malformed (ignored, as without it)', '2'],
    ])('when If-None-Match is %s, then the full memo is served', async (_what, header) => {
      const id = await memoAtV2();
      const res = await api().get(`/api/memos/${id}`).set('If-None-Match', header).expect(200);
      expect(res.body).toMatchObject({ id, version: 2 });
    });
  });
});
