import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { OUTBOX_COLUMNS as C, OUTBOX_TABLE } from '../../src/events/outbox-table';
import { buildTestApp, TestApp } from '../support/app';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

describeWithServices('memo API (/api/memos, /api/tags)', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let t: TestApp;
  const api = () => request(t.callback);

  beforeAll(async () => {
    testDb = await createTestDatabase('api');
    t = await buildTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
    await testDb?.drop();
  });

  const create = async (body: Record<string, unknown>) => {
    const res = await api().post('/api/memos').send(body).expect(201);
    return res.body as { id: number; version: number };
  };

  describe('CRUD', () => {
    it('when a memo is created, read, replaced, patched and deleted, then each step returns the right state and headers', async () => {
      const created = await api()
        .post('/api/memos')
        .send({
          title: 'Weekly sync',
          content: 'Agenda: 메모를 정리',
          tags: ['work', 'meeting'],
          priority: 3,
          category: 'work',
          author: 'kim',
        })
        .expect(201)
        .expect('Content-Type', /application\/json/);
      const memo = created.body;
      expect(created.headers.location).toBe(`/api/memos/${memo.id}`);
      expect(created.headers.etag).toBe('"1"');
      expect(memo).toMatchObject({
        title: 'Weekly sync',
        content: 'Agenda: 메모를 정리',
        tags: ['meeting', 'work'],
        priority: 3,
        category: 'work',
        author: 'kim',
        version: 1,
      });
      expect(new Date(memo.created_at).toISOString()).toBe(memo.created_at);

      const read = await api().get(`/api/memos/${memo.id}`).expect(200);
      expect(read.body).toEqual(memo);
      expect(read.headers.etag).toBe('"1"');
      await api().get(`/api/memos/${memo.id}`).set('If-None-Match', '"1"').expect(304);

      const replaced = await api()
        .put(`/api/memos/${memo.id}`)
        .set('If-Match', '"1"')
        .send({ title: 'Weekly sync (moved)', tags: ['work'] })
        .expect(200);
      expect(replaced.headers.etag).toBe('"2"');
      expect(replaced.body).toMatchObject({
        title: 'Weekly sync (moved)',
        content: '',
        tags: ['work'],
        priority: 2,
        category: null,
        author: null,
        version: 2,
      });

      const patched = await api()
        .patch(`/api/memos/${memo.id}`)
        .set('If-Match', '"2"')
        .send({ priority: 4, author: 'lee' })
        .expect(200);
      expect(patched.body).toMatchObject({
        title: 'Weekly sync (moved)',
        priority: 4,
        author: 'lee',
        version: 3,
      });

      await api().delete(`/api/memos/${memo.id}`).set('If-Match', '"3"').expect(204);
      await api().get(`/api/memos/${memo.id}`).expect(404);

      const outbox = await testDb.db(OUTBOX_TABLE).where(C.aggregateId, memo.id).orderBy(C.id);
      expect(outbox.map((r: Record<string, string>) => r[C.eventType])).toEqual([
        'memo_created',
        'memo_updated',
        'memo_updated',
        'memo_deleted',
      ]);
      expect(JSON.parse(outbox[2][C.payload])).toMatchObject({
        event_type: 'memo_updated',
        memo_id: memo.id,
        title: 'Weekly sync (moved)',
        author: 'lee',
        version: 3,
      });
    });

    it('when tags are listed, then each tag comes with the number of memos carrying it', async () => {
      await create({ title: 'tag a', tags: ['tagcount-x', 'tagcount-y'] });
      await create({ title: 'tag b', tags: ['tagcount-x'] });
      // An app of its own: tag pages are cached for seconds, and this suite's app may have one.
      const fresh = await buildTestApp(testDb);
      const res = await request(fresh.callback).get('/api/tags').expect(200);
      await fresh.close();
      const items = res.body.items as { tag: string; count: number }[];
      expect(items.filter((i) => i.tag.startsWith('tagcount-'))).toEqual([
        { tag: 'tagcount-x', count: 2 },
        { tag: 'tagcount-y', count: 1 },
      ]);
    });
  });

  describe('optimistic locking', () => {
    it('when If-Match carries an old version, then PUT, PATCH and DELETE get 412 and nothing changes', async () => {
      const memo = await create({ title: 'locked' });
      await api().patch(`/api/memos/${memo.id}`).set('If-Match', '"1"').send({ title: 'v2' }).expect(200);
      for (const req of [
        api().put(`/api/memos/${memo.id}`).set('If-Match', '"1"').send({ title: 'lost' }),
        api().patch(`/api/memos/${memo.id}`).set('If-Match', '"1"').send({ title: 'lost' }),
        api().delete(`/api/memos/${memo.id}`).set('If-Match', '"1"'),
      ]) {
        const res = await req.expect(412).expect('Content-Type', /application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 412, title: 'Precondition Failed' });
      }
      const current = await api().get(`/api/memos/${memo.id}`).expect(200);
      expect(current.body).toMatchObject({ title: 'v2', version: 2 });
    });

    it('when many memos are created and changed concurrently, then every write succeeds (no deadlock)', async () => {
      const created = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          api()
            .post('/api/memos')
            .send({
              title: `parallel ${i} 메모`,
              content: 'shared words shared 토큰',
              tags: ['parallel', `p${i}`],
            }),
        ),
      );
      expect(created.map((r) => r.status)).toEqual(Array(16).fill(201));
      const patched = await Promise.all(
        created.map((r, i) =>
          api()
            .patch(`/api/memos/${r.body.id}`)
            .set('If-Match', '"1"')
            .send({ content: `changed ${i} shared 토큰 words`, tags: ['parallel'] }),
        ),
      );
      expect(patched.map((r) => r.status)).toEqual(Array(16).fill(200));
      const deleted = await Promise.all(created.map((r) => api().delete(`/api/memos/${r.body.id}`)));
      expect(deleted.map((r) => r.status)).toEqual(Array(16).fill(204));
    });

    it('when PUT or PATCH has no If-Match, then 428 tells the client to send one', async () => {
      const memo = await create({ title: 'needs etag' });
      await api().put(`/api/memos/${memo.id}`).send({ title: 'x' }).expect(428);
      await api().patch(`/api/memos/${memo.id}`).send({ title: 'x' }).expect(428);
    });

    it('when two writers race with the same version, then exactly one wins and the other gets 412', async () => {
      const memo = await create({ title: 'race' });
      const results = await Promise.all(
        ['a', 'b', 'c'].map((title) =>
          api().patch(`/api/memos/${memo.id}`).set('If-Match', '"1"').send({ title }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412]);
    });
  });

  describe('bad input', () => {
    const expectProblem = (res: request.Response, status: number, fields?: string[]) => {
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status,
        type: expect.any(String),
        title: expect.any(String),
        detail: expect.any(String),
        instance: expect.any(String),
      });
      if (fields) expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual(fields);
    };

    // [field named in the error, what is wrong, the fields beside a valid title]
    const invalidFields: [string, string, Record<string, unknown>][] = [
      ['title', 'empty', { title: '' }],
      ['title', 'over 200 characters', { title: 'x'.repeat(201) }],
      ['content', 'over 64 KiB', { content: 'x'.repeat(65537) }],
      ['tags', 'more than 20', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }],
      ['tags[0]', 'over 50 characters', { tags: ['x'.repeat(51)] }],
      ['priority', 'out of 1-4', { priority: 5 }],
      ['category', 'not a string', { category: 42 }],
      ['author', 'over 100 characters', { author: 'x'.repeat(101) }],
      ['unknown', 'not a field', { unknown: true }],
    ];
    // POST and PUT need a title; PATCH does not, so it gets the invalid fields alone.
    const whole = (fields: Record<string, unknown>) => ({ title: 't', ...fields });

    it.each(invalidFields)(
      'when POST has %s %s, then 400 problem+json names it',
      async (field, _why, fields) => {
        expectProblem(await api().post('/api/memos').send(whole(fields)), 400, [field]);
      },
    );

    it.each(invalidFields)(
      'when PUT has %s %s, then 400 problem+json names it',
      async (field, _why, fields) => {
        const memo = await create({ title: 'put target' });
        expectProblem(
          await api().put(`/api/memos/${memo.id}`).set('If-Match', '"1"').send(whole(fields)),
          400,
          [field],
        );
      },
    );

    it.each(invalidFields)(
      'when PATCH has %s %s, then 400 problem+json names it',
      async (field, _why, fields) => {
        const memo = await create({ title: 'patch target' });
        expectProblem(await api().patch(`/api/memos/${memo.id}`).set('If-Match', '"1"').send(fields), 400, [
          field,
        ]);
      },
    );

    it.each([
      ['limit', '?limit=0'],
      ['priority', '?priority=9'],
      ['cursor', '?cursor=nope'],
      ['q', `?q=${'x'.repeat(201)}`],
      ['tag', `?tag=${'x'.repeat(51)}`],
      ['category', `?category=${'x'.repeat(51)}`],
      ['author', `?author=${'x'.repeat(101)}`],
      ['order', '?order=asc'],
    ])('when GET /api/memos has an invalid %s, then 400 problem+json names it', async (field, qs) => {
      expectProblem(await api().get(`/api/memos${qs}`), 400, [field]);
    });

    it.each(['abc', '0', '-5', '1.5', '99999999999999999999'])(
      'when the id is "%s", then 400 names the id',
      async (id) => {
        expectProblem(await api().get(`/api/memos/${id}`), 400, ['id']);
        expectProblem(await api().delete(`/api/memos/${id}`), 400, ['id']);
      },
    );

    it('when If-Match is not an ETag, then 400 names the header', async () => {
      const memo = await create({ title: 'bad etag' });
      expectProblem(
        await api().patch(`/api/memos/${memo.id}`).set('If-Match', 'v1').send({ title: 'x' }),
        400,
        ['If-Match'],
      );
    });

    it('when an id does not exist, then GET, PUT, PATCH and DELETE get 404 problem+json', async () => {
      const id = 987654321;
      expectProblem(await api().get(`/api/memos/${id}`), 404);
      expectProblem(await api().put(`/api/memos/${id}`).set('If-Match', '"1"').send({ title: 't' }), 404);
      expectProblem(await api().patch(`/api/memos/${id}`).set('If-Match', '"1"').send({ title: 't' }), 404);
      expectProblem(await api().delete(`/api/memos/${id}`), 404);
    });

    it('when the JSON is malformed, then 400 says so', async () => {
      const res = await api()
        .post('/api/memos')
        .set('Content-Type', 'application/json')
        .send('{"title": "x",');
      expectProblem(res, 400);
      expect(res.body.title).toBe('Malformed JSON');
    });

    it('when the body is not JSON, then 415 names the media type received', async () => {
      const res = await api().post('/api/memos').set('Content-Type', 'text/plain').send('title=x');
      expectProblem(res, 415);
      expect(res.body.detail).toContain('text/plain');
      const memo = await create({ title: 'form' });
      expectProblem(
        await api().patch(`/api/memos/${memo.id}`).set('If-Match', '"1"').type('form').send({ title: 'x' }),
        415,
      );
    });

    it('when the body is larger than the limit, then 413 and the memo is not stored', async () => {
      const before = await testDb.db('memos').count({ n: '*' });
      const res = await api()
        .post('/api/memos')
        .send({ title: 'big', content: 'x'.repeat(100 * 1024) });
      expectProblem(res, 413);
      expect(await testDb.db('memos').count({ n: '*' })).toEqual(before);
    });

    it('when an oversized body is streamed without Content-Length, then reading stops at the limit with 413', async () => {
      const server = http.createServer(t.callback).listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const { port } = server.address() as AddressInfo;
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/api/memos',
              agent: false,
              headers: { 'Content-Type': 'application/json' },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.write('{"title":"chunked","content":"');
          const chunk = 'x'.repeat(16 * 1024);
          let sent = 0;
          const pump = (): void => {
            // Keep sending well past the limit; the server answers as soon as it has seen too much.
            while (sent < 40 && req.write(chunk)) sent++;
            if (sent < 40) req.once('drain', pump);
            else req.end('"}');
          };
          pump();
        });
        expect(status).toBe(413);
      } finally {
        server.close();
      }
    });

    it('when the body is empty or not valid UTF-8, then 400', async () => {
      expectProblem(await api().post('/api/memos').set('Content-Type', 'application/json').send(''), 400);
      expectProblem(
        await api()
          .post('/api/memos')
          .set('Content-Type', 'application/json')
          .send(Buffer.from([0x7b, 0xff, 0x7d])),
        400,
      );
    });

    it('when the route or method does not exist, then a 404 or 405 problem', async () => {
      expectProblem(await api().get('/api/nothing'), 404);
      expectProblem(await api().post('/api/tags').send({}), 405);
    });
  });

  describe('headers', () => {
    it('when any response is sent, then it carries the security headers and a request id', async () => {
      const res = await api().get('/api/tags').set('X-Request-Id', 'trace-123').expect(200);
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'x-request-id': 'trace-123',
      });
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      const generated = await api().get('/api/tags').set('X-Request-Id', 'bad id with spaces');
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('when CORS origins are configured, then only those origins get CORS headers and preflights succeed', async () => {
      const corsApp = await buildTestApp(testDb, { config: { corsOrigins: ['https://ui.example'] } });
      try {
        const ok = await request(corsApp.callback)
          .get('/api/tags')
          .set('Origin', 'https://ui.example')
          .expect(200);
        expect(ok.headers['access-control-allow-origin']).toBe('https://ui.example');
        expect(ok.headers['access-control-expose-headers']).toContain('ETag');
        const other = await request(corsApp.callback)
          .get('/api/tags')
          .set('Origin', 'https://evil.example')
          .expect(200);
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
        const preflight = await request(corsApp.callback)
          .options('/api/memos/1')
          .set('Origin', 'https://ui.example')
          .set('Access-Control-Request-Method', 'PATCH')
          .expect(204);
        expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
        expect(preflight.headers['access-control-allow-headers']).toContain('If-Match');
      } finally {
        await corsApp.close();
      }
      const none = await api().get('/api/tags').set('Origin', 'https://ui.example');
      expect(none.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('rate limiting', () => {
    it('when a client exceeds the per-minute limit, then 429 with Retry-After, and other clients are unaffected', async () => {
      const limited = await buildTestApp(testDb, {
        // supertest connects from 127.0.0.1: trusted here, so X-Forwarded-For picks the bucket.
        config: { rateLimitPerMinute: 3, trustedProxyCidrs: ['127.0.0.0/8', '::1'] },
        keyPrefix: `${testDb.name}:rl:`,
      });
      try {
        // Why wait near the end of a minute: the window is fixed (floor(now / 60 s), as in
        // src/http/rate-limit.ts), so requests spread over two windows count from 0 again in the
        // second and the fourth would not be refused. Ten seconds is plenty for these requests.
        const windowLeftMs = 60_000 - (Date.now() % 60_000);
        if (windowLeftMs < 10_000) await new Promise((r) => setTimeout(r, windowLeftMs + 50));
        const ip = `10.1.${process.pid % 250}.${Date.now() % 250}`;
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          statuses.push((await request(limited.callback).get('/api/tags').set('X-Forwarded-For', ip)).status);
        }
        expect(statuses).toEqual([200, 200, 200, 429]);
        const refused = await request(limited.callback).get('/api/tags').set('X-Forwarded-For', ip);
        expect(refused.headers['content-type']).toMatch(/problem\+json/);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
        const other = `10.2.${process.pid % 250}.${Date.now() % 250}`;
        await request(limited.callback).get('/api/tags').set('X-Forwarded-For', other).expect(200);
        // Probes are never limited.
        await request(limited.callback).get('/health/live').set('X-Forwarded-For', ip).expect(200);
      } finally {
        await limited.close();
      }
    });
  });
});
