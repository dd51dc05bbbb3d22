import { SignJWT } from 'jose';
import request from 'supertest';
import { createApp } from '../../src/app';
import { Auth, createAuth } from '../../src/auth';
import type { AuthConfig } from '../../src/config';
import { OUTBOX_COLUMNS as C, OUTBOX_TABLE } from '../../src/events/outbox-table';
import { createLogger, silentLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { createRedis } from '../../src/redis';
import { buildTestApp, redisReady, TestApp } from '../support/app';
import { LocalIssuer, startLocalIssuer } from '../support/local-issuer';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * Sign-in and ownership through the real HTTP app, MariaDB and Redis, with tokens from the local
 * issuer (keys served over HTTP on 127.0.0.1). The same flows against a real OpenID Connect
 * provider are in auth-oidc.test.ts; this suite covers what only a hand-made token can show
 * (the challenge for each kind of bad token, ownerless rows, the readiness report).
 */

describeWithServices('memo API with sign-in (owner, admin, challenges)', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let issuer: LocalIssuer;
  let auth: Auth;
  let t: TestApp;
  const api = () => request(t.callback);
  const bearer = (token: string) => `Bearer ${token}`;

  let alice: string;
  let bob: string;
  let admin: string;

  beforeAll(async () => {
    testDb = await createTestDatabase('auth');
    issuer = await startLocalIssuer('memo-api');
    const config: AuthConfig = {
      issuerUrl: issuer.issuer,
      audience: 'memo-api',
      rolesClaim: 'groups',
      adminRole: 'memo-admin',
      nameClaim: 'name',
      requiredForReads: false,
    };
    auth = createAuth(config, silentLogger);
    t = await buildTestApp(testDb, { config: { auth: config }, auth });
    alice = await issuer.sign({ sub: 'alice-id', name: 'Alice', groups: ['staff'] });
    bob = await issuer.sign({ sub: 'bob-id', name: 'Bob' });
    admin = await issuer.sign({ sub: 'admin-id', preferred_username: 'ops', groups: ['memo-admin'] });
  });
  afterAll(async () => {
    auth?.stop();
    await t?.close();
    await issuer?.stop();
    await testDb?.drop();
  });

  const createAs = async (token: string, body: Record<string, unknown> = { title: 'mine' }) => {
    const res = await api().post('/api/memos').set('Authorization', bearer(token)).send(body).expect(201);
    return res.body as { id: number; version: number; author: string; owner: unknown };
  };

  it('when a write carries no token, then 401 with a Bearer challenge without an error code, as problem+json', async () => {
    for (const send of [
      () => api().post('/api/memos').send({ title: 'anon' }),
      () => api().put('/api/memos/1').set('If-Match', '"1"').send({ title: 'anon' }),
      () => api().patch('/api/memos/1').set('If-Match', '"1"').send({ title: 'anon' }),
      () => api().delete('/api/memos/1'),
      () => api().post('/api/memos').set('Authorization', 'Basic YWxpY2U6c2VjcmV0').send({ title: 'anon' }),
    ]) {
      const res = await send().expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="memo-api"');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
    const [{ n }] = await testDb.db('memos').count({ n: '*' });
    expect(Number(n)).toBe(0);
  });

  it('when a write carries a bad token, then 401 invalid_token with the reason in the challenge', async () => {
    const expired = await issuer.sign({ sub: 'alice-id', iat: 1_000, exp: 2_000 });
    const res = await api()
      .post('/api/memos')
      .set('Authorization', bearer(expired))
      .send({ title: 'x' })
      .expect(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="memo-api", error="invalid_token", error_description="the token has expired"',
    );
    expect(res.body.detail).toBe('Invalid access token: the token has expired');
    const foreign = await issuer.sign({ aud: 'other-api' });
    const res2 = await api()
      .post('/api/memos')
      .set('Authorization', bearer(foreign))
      .send({ title: 'x' })
      .expect(401);
    expect(res2.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('when a token names a hostile key id (quotes, CR LF, non-ASCII, 300 characters), then 401 with a well-formed challenge, never a 500', async () => {
    const key = await issuer.newKey({ publish: false });
    const kid = `evil"\r\nSet-Cookie: x=1; ü ${'k'.repeat(300)}`;
    const token = await new SignJWT({
      iss: issuer.issuer,
      aud: 'memo-api',
      sub: 'x',
      exp: Math.floor(Date.now() / 1000) + 60,
    })
      .setProtectedHeader({ alg: 'RS256', kid })
      .sign(key.privateKey);
    const res = await api()
      .post('/api/memos')
      .set('Authorization', bearer(token))
      .send({ title: 'x' })
      .expect(401);
    const header = res.headers['www-authenticate'] as string;
    expect(header).toMatch(
      /^Bearer realm="memo-api", error="invalid_token", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}"$/,
    );
    expect(header).toContain("unknown key id 'evil??");
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('when the Authorization header is "Bearer" without a usable token, then 400 invalid_request', async () => {
    const res = await api()
      .post('/api/memos')
      .set('Authorization', 'Bearer two tokens')
      .send({ title: 'x' })
      .expect(400);
    expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it("when a valid token creates a memo, then 201, the owner is the token's subject and issuer, the author its name (the body's author ignored)", async () => {
    const memo = await createAs(alice, { title: 'owned', author: 'mallory' });
    expect(memo).toMatchObject({
      author: 'Alice',
      owner: { sub: 'alice-id', iss: issuer.issuer },
      version: 1,
    });
    const row = await testDb.db('memos').where({ id: memo.id }).first('owner_sub', 'owner_iss', 'author');
    expect(row).toEqual({ owner_sub: 'alice-id', owner_iss: issuer.issuer, author: 'Alice' });
    const outbox = await testDb.db(OUTBOX_TABLE).where(C.aggregateId, memo.id).first({ payload: C.payload });
    expect(JSON.parse(outbox.payload)).toMatchObject({
      event_type: 'memo_created',
      author: 'Alice',
      owner: { sub: 'alice-id', iss: issuer.issuer },
    });
  });

  it('when reads carry no token, then they stay public', async () => {
    const memo = await createAs(alice, { title: 'public read' });
    const read = await api().get(`/api/memos/${memo.id}`).expect(200);
    expect(read.body.owner).toEqual({ sub: 'alice-id', iss: issuer.issuer });
    await api().get('/api/memos').expect(200);
    await api().get('/api/tags').expect(200);
    // A read never looks at the header, so a broken token does not break it.
    await api().get(`/api/memos/${memo.id}`).set('Authorization', 'Bearer broken').expect(200);
  });

  it("when another user's token changes or deletes a memo, then 403 and the memo is unchanged", async () => {
    const memo = await createAs(alice, { title: 'alice only' });
    const as = (token: string) => ({ Authorization: bearer(token), 'If-Match': '"1"' });
    for (const res of [
      await api().patch(`/api/memos/${memo.id}`).set(as(bob)).send({ title: 'bob was here' }),
      await api().put(`/api/memos/${memo.id}`).set(as(bob)).send({ title: 'bob was here' }),
      await api().delete(`/api/memos/${memo.id}`).set(as(bob)),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toBe(`You may not change memo ${memo.id}: it belongs to another user`);
    }
    // Forbidden is decided before the version: a stale If-Match from Bob is still a 403.
    await api()
      .patch(`/api/memos/${memo.id}`)
      .set(as(bob))
      .set('If-Match', '"9"')
      .send({ title: 'x' })
      .expect(403);
    const read = await api().get(`/api/memos/${memo.id}`).expect(200);
    expect(read.body).toMatchObject({ title: 'alice only', version: 1 });
  });

  it('when the owner changes the memo, then If-Match still guards it (412 stale, 200 current), and the owner stays', async () => {
    const memo = await createAs(alice, { title: 'v1' });
    const as = { Authorization: bearer(alice) };
    await api()
      .patch(`/api/memos/${memo.id}`)
      .set(as)
      .set('If-Match', '"7"')
      .send({ title: 'stale' })
      .expect(412);
    await api().patch(`/api/memos/${memo.id}`).set(as).send({ title: 'no if-match' }).expect(428);
    const patched = await api()
      .patch(`/api/memos/${memo.id}`)
      .set(as)
      .set('If-Match', '"1"')
      .send({ title: 'v2', author: 'someone else' })
      .expect(200);
    expect(patched.headers.etag).toBe('"2"');
    expect(patched.body).toMatchObject({
      title: 'v2',
      author: 'Alice',
      owner: { sub: 'alice-id' },
      version: 2,
    });
    await api().delete(`/api/memos/${memo.id}`).set(as).set('If-Match', '"2"').expect(204);
  });

  it("when an admin changes or deletes any memo, then it is allowed and the author stays the owner's", async () => {
    const memo = await createAs(bob, { title: 'bob memo' });
    const as = { Authorization: bearer(admin) };
    const put = await api()
      .put(`/api/memos/${memo.id}`)
      .set(as)
      .set('If-Match', '"1"')
      .send({ title: 'moderated' })
      .expect(200);
    expect(put.body).toMatchObject({ title: 'moderated', author: 'Bob', owner: { sub: 'bob-id' } });
    const events = await testDb
      .db(OUTBOX_TABLE)
      .where(C.aggregateId, memo.id)
      .orderBy(C.id)
      .select({ payload: C.payload });
    expect(JSON.parse(events[1].payload)).toMatchObject({
      event_type: 'memo_updated',
      owner: { sub: 'bob-id' },
    });
    await api().delete(`/api/memos/${memo.id}`).set(as).expect(204);
    const deleted = await testDb
      .db(OUTBOX_TABLE)
      .where(C.aggregateId, memo.id)
      .orderBy(C.id, 'desc')
      .first({ payload: C.payload });
    expect(JSON.parse(deleted.payload)).toMatchObject({
      event_type: 'memo_deleted',
      owner: { sub: 'bob-id' },
    });
  });

  it('when a memo has no owner (written before sign-in), then only an admin may change it', async () => {
    const now = new Date();
    const [id] = await testDb.db('memos').insert({
      title: 'legacy',
      content: '',
      priority: 2,
      category: null,
      author: 'kim',
      version: 1,
      created_at: now,
      updated_at: now,
    });
    const res = await api()
      .patch(`/api/memos/${id}`)
      .set({ Authorization: bearer(alice), 'If-Match': '"1"' })
      .send({ title: 'mine now' })
      .expect(403);
    expect(res.body.detail).toContain('only an admin may change it');
    const ok = await api()
      .patch(`/api/memos/${id}`)
      .set({ Authorization: bearer(admin), 'If-Match': '"1"' })
      .send({ title: 'fixed by admin' })
      .expect(200);
    expect(ok.body).toMatchObject({ title: 'fixed by admin', author: 'kim', owner: null });
  });

  it('when a token names the same subject from another issuer, then it is not the owner', async () => {
    // Another issuer's token is refused outright (iss is checked exactly), so the subject alone
    // can never claim a memo: the row keeps both.
    const memo = await createAs(alice);
    const impostor = await issuer.sign({ sub: 'alice-id', iss: 'https://other.example.com' });
    await api().delete(`/api/memos/${memo.id}`).set('Authorization', bearer(impostor)).expect(401);
  });

  it('when sign-in is on, then readiness reports whether the issuer keys are loaded', async () => {
    const res = await api().get('/health/ready').expect(200);
    expect(res.body).toEqual({ status: 'ready', auth_keys: 'loaded' });
  });
});

describeWithServices('memo API sign-in settings', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    testDb = await createTestDatabase('auth_settings');
    issuer = await startLocalIssuer('memo-api');
  });
  afterAll(async () => {
    await issuer?.stop();
    await testDb?.drop();
  });

  it('when AUTH_REQUIRED_FOR_READS is on, then reads need a valid token too, and the docs and probes do not', async () => {
    const config: AuthConfig = {
      issuerUrl: issuer.issuer,
      audience: 'memo-api',
      rolesClaim: 'groups',
      adminRole: undefined,
      nameClaim: 'name',
      requiredForReads: true,
    };
    const auth = createAuth(config, silentLogger);
    const t = await buildTestApp(testDb, { config: { auth: config }, auth });
    try {
      const api = () => request(t.callback);
      const res = await api().get('/api/memos').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="memo-api"');
      await api().get('/api/tags').expect(401);
      await api()
        .get('/api/memos')
        .set('Authorization', `Bearer ${await issuer.sign()}`)
        .expect(200);
      await api().get('/health/ready').expect(200);
      await api().get('/openapi.json').expect(200);
    } finally {
      auth.stop();
      await t.close();
    }
  });

  it('when the issuer has been unreachable since start, then writes with a token get 503 with Retry-After and readiness stays 200 saying the keys are not loaded', async () => {
    const config: AuthConfig = {
      issuerUrl: issuer.issuer,
      audience: 'memo-api',
      rolesClaim: 'groups',
      adminRole: undefined,
      nameClaim: 'name',
      requiredForReads: false,
    };
    issuer.setDown(true);
    const auth = createAuth(config, silentLogger);
    const t = await buildTestApp(testDb, { config: { auth: config }, auth });
    try {
      const api = () => request(t.callback);
      const res = await api()
        .post('/api/memos')
        .set('Authorization', `Bearer ${await issuer.sign()}`)
        .send({ title: 'waits for keys' })
        .expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toContain('signing keys are not loaded yet');
      // Without a token it is still a 401: the missing token is the client's problem either way.
      await api().post('/api/memos').send({ title: 'anonymous' }).expect(401);
      await api().get('/api/memos').expect(200);
      expect((await api().get('/health/ready').expect(200)).body).toEqual({
        status: 'ready',
        auth_keys: 'not loaded',
      });
    } finally {
      issuer.setDown(false);
      auth.stop();
      await t.close();
    }
  });

  it('when the OpenAPI document is read, then writes declare the bearer scheme with 401 and 403, and memos an owner', async () => {
    const t = await buildTestApp(testDb);
    try {
      const doc = (await request(t.callback).get('/openapi.json').expect(200)).body;
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
      const item = doc.paths['/api/memos/{id}'];
      for (const op of [doc.paths['/api/memos'].post, item.put, item.patch, item.delete]) {
        expect(op.security).toEqual([{ bearerAuth: [] }]);
        expect(Object.keys(op.responses)).toContain('401');
      }
      for (const op of [item.put, item.patch, item.delete])
        expect(Object.keys(op.responses)).toContain('403');
      expect(item.get.security).toEqual([{}, { bearerAuth: [] }]);
      expect(doc.components.schemas.Memo.required).toContain('owner');
    } finally {
      await t.close();
    }
  });

  it('when no issuer is configured, then the app warns once that anyone may write, and anonymous writes work as before', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line) });
    const redis = createRedis(testDb.config.redis, { keyPrefix: `${testDb.name}:` });
    redis.on('error', () => undefined);
    await redisReady(redis);
    try {
      const app = createApp({
        config: testDb.config,
        db: testDb.db,
        redis,
        logger,
        metrics: createMetrics(),
        kafkaHealth: async () => true,
      });
      const callback = app.callback();
      for (let i = 0; i < 3; i++) {
        const res = await request(callback)
          .post('/api/memos')
          .send({ title: `anon ${i}`, author: 'kim' })
          .expect(201);
        expect(res.body).toMatchObject({ author: 'kim', owner: null });
      }
      const warnings = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
      expect(warnings.filter((w) => w.msg.includes('anyone who reaches the API may create'))).toEqual([
        {
          level: 'warn',
          time: expect.any(String),
          msg: 'OIDC_ISSUER_URL is not set: anyone who reaches the API may create, change and delete every memo',
        },
      ]);
    } finally {
      redis.disconnect();
    }
  });
});
