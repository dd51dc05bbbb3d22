import { createHmac, createPublicKey, type JsonWebKeyInput } from 'node:crypto';
import request from 'supertest';
import { Auth, createAuth } from '../../src/auth';
import type { AuthConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { buildTestApp, TestApp } from '../support/app';
import { describeWithOidcProvider, OidcProvider, startOidcProvider } from '../support/oidc-provider';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * Sign-in against a real OpenID Connect provider (Dex on 127.0.0.1, support/oidc-provider.ts):
 * the app finds the keys through Dex's discovery document and JWKS, and checks the access tokens
 * Dex issues through the password grant. The app, MariaDB and Redis are the real ones.
 *
 * The refetch interval is 1 s here (30 s in production) so that a rotation right after the first
 * key load is picked up within the test's bounded wait rather than after half a minute.
 */

const REFETCH_INTERVAL_MS = 1_000;
/** How long a changed provider (new key) may take to be seen: a few refetch intervals. */
const ROTATION_DEADLINE_MS = 15_000;

describeWithOidcProvider('sign-in with a real OpenID Connect provider (Dex)', () => {
  describeWithServices('memo API', ['mariadb', 'redis'], () => {
    let provider: OidcProvider;
    let testDb: TestDatabase;
    let auth: Auth;
    let t: TestApp;
    const api = () => request(t.callback);
    const as = (token: string) => ({ Authorization: `Bearer ${token}` });

    beforeAll(async () => {
      provider = await startOidcProvider();
      testDb = await createTestDatabase('auth_oidc');
      const config: AuthConfig = {
        issuerUrl: provider.issuer,
        audience: provider.audience,
        rolesClaim: 'groups',
        adminRole: 'memo-admin',
        nameClaim: 'name',
        requiredForReads: false,
      };
      auth = createAuth(config, silentLogger, { minRefetchIntervalMs: REFETCH_INTERVAL_MS });
      t = await buildTestApp(testDb, { config: { auth: config }, auth });
    }, 60_000);
    afterAll(async () => {
      auth?.stop();
      await t?.close();
      await provider?.close();
      await testDb?.drop();
    });

    /** Polls a condition until it holds, within the rotation deadline. */
    async function waitFor(condition: () => boolean, what: string): Promise<void> {
      const deadline = Date.now() + ROTATION_DEADLINE_MS;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    /** Polls a request until it answers `status` (the app sees a new key within a refetch interval). */
    async function eventually(
      send: () => Promise<request.Response>,
      status: number,
    ): Promise<request.Response> {
      const deadline = Date.now() + ROTATION_DEADLINE_MS;
      let last = await send();
      while (last.status !== status && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        last = await send();
      }
      return last;
    }

    it('when a write has no token, then 401 with a Bearer challenge; reads stay public', async () => {
      const res = await api().post('/api/memos').send({ title: 'anonymous' }).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="memo-api"');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      await api().get('/api/memos').expect(200);
    });

    it("when alice writes with her token, then 201 with her subject and the provider's issuer as owner and her name as author", async () => {
      const res = await api()
        .post('/api/memos')
        .set(as(await provider.token('alice')))
        .send({ title: 'from alice', author: 'not alice' })
        .expect(201);
      expect(res.body).toMatchObject({
        title: 'from alice',
        author: provider.users.alice.username,
        owner: { sub: provider.users.alice.subject, iss: provider.issuer },
      });
      await api().get(`/api/memos/${res.body.id}`).expect(200);
    });

    it("when bob changes or deletes alice's memo, then 403 on PATCH, PUT and DELETE", async () => {
      const created = await api()
        .post('/api/memos')
        .set(as(await provider.token('alice')))
        .send({ title: 'alice keeps this' })
        .expect(201);
      const bob = as(await provider.token('bob'));
      const id = created.body.id as number;
      await api()
        .patch(`/api/memos/${id}`)
        .set(bob)
        .set('If-Match', '"1"')
        .send({ title: 'bob' })
        .expect(403);
      await api().put(`/api/memos/${id}`).set(bob).set('If-Match', '"1"').send({ title: 'bob' }).expect(403);
      await api().delete(`/api/memos/${id}`).set(bob).set('If-Match', '"1"').expect(403);
      expect((await api().get(`/api/memos/${id}`).expect(200)).body).toMatchObject({
        title: 'alice keeps this',
        version: 1,
      });
    });

    it("when the admin (group memo-admin) changes and deletes alice's memo, then it is allowed", async () => {
      const created = await api()
        .post('/api/memos')
        .set(as(await provider.token('alice')))
        .send({ title: 'to moderate' })
        .expect(201);
      const admin = as(await provider.token('admin'));
      const id = created.body.id as number;
      const patched = await api()
        .patch(`/api/memos/${id}`)
        .set(admin)
        .set('If-Match', '"1"')
        .send({ title: 'moderated' })
        .expect(200);
      expect(patched.body).toMatchObject({
        title: 'moderated',
        owner: { sub: provider.users.alice.subject },
      });
      await api().delete(`/api/memos/${id}`).set(admin).set('If-Match', '"2"').expect(204);
    });

    it('when the provider rotates its signing key, then tokens of the new key are accepted without restarting the API, and old ones refused', async () => {
      const before = await provider.token('alice');
      await api().post('/api/memos').set(as(before)).send({ title: 'before rotation' }).expect(201);
      await provider.rotateKeys();
      const after = await provider.token('alice');
      expect(JSON.parse(Buffer.from(after.split('.')[0], 'base64url').toString()).kid).not.toBe(
        JSON.parse(Buffer.from(before.split('.')[0], 'base64url').toString()).kid,
      );
      const res = await eventually(
        () => api().post('/api/memos').set(as(after)).send({ title: 'after rotation' }),
        201,
      );
      expect(res.status).toBe(201);
      // The refetch replaced the key set with the provider's: the old key is gone from it.
      const stale = await eventually(
        () => api().post('/api/memos').set(as(before)).send({ title: 'old key' }),
        401,
      );
      expect(stale.status).toBe(401);
      expect(stale.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('when a real token of the provider is altered or re-signed, or comes from another provider, then 401 invalid_token', async () => {
      const token = await provider.token('alice');
      await api().post('/api/memos').set(as(token)).send({ title: 'genuine' }).expect(201);
      const [header, payload, signature] = token.split('.');
      const decode = (part: string) =>
        JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const { kid } = decode(header);

      // The payload claims bob's subject; the signature is alice's.
      const tampered = `${header}.${encode({ ...decode(payload), sub: provider.users.bob.subject })}.${signature}`;
      // No signature at all.
      const unsigned = `${encode({ alg: 'none', kid })}.${payload}.`;
      // HMAC keyed with the provider's public key, the classic algorithm-confusion forgery.
      const jwks = (await (await fetch(provider.jwksUri)).json()) as {
        keys: (JsonWebKeyInput['key'] & { kid: string })[];
      };
      const publicPem = createPublicKey({ key: jwks.keys.find((k) => k.kid === kid)!, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      const hsHeader = encode({ alg: 'HS256', kid });
      const hs256 = `${hsHeader}.${payload}.${createHmac('sha256', publicPem).update(`${hsHeader}.${payload}`).digest('base64url')}`;
      // A token another Dex issued: its own issuer and signing key.
      const other = await startOidcProvider();
      let foreign: string;
      try {
        foreign = await other.token('alice');
      } finally {
        await other.close();
      }

      for (const [what, forged] of [
        ['tampered payload', tampered],
        ['alg none', unsigned],
        ['HS256 keyed with the public key', hs256],
        ['another provider', foreign],
      ] as const) {
        const res = await api().post('/api/memos').set(as(forged)).send({ title: what });
        expect({ what, status: res.status, challenge: res.headers['www-authenticate'] }).toEqual({
          what,
          status: 401,
          challenge: expect.stringContaining('error="invalid_token"'),
        });
      }
    });

    it('when a genuine token of the provider is meant for another client, or has expired, then 401 with the reason', async () => {
      const otherClient = await api()
        .post('/api/memos')
        .set(as(await provider.tokenForOtherAudience('alice')))
        .send({ title: 'for another API' })
        .expect(401);
      expect(otherClient.headers['www-authenticate']).toContain(
        'error_description="the token is not meant for this API (audience)"',
      );

      // Dex issues tokens for 5 s here (ample for the first, accepted request on a busy machine),
      // and this API allows 1 s of clock leeway; the second request waits until exp + leeway passed.
      const shortLived = await startOidcProvider({ tokenLifetimeSeconds: 5 });
      const shortConfig: AuthConfig = {
        issuerUrl: shortLived.issuer,
        audience: shortLived.audience,
        rolesClaim: 'groups',
        adminRole: undefined,
        nameClaim: 'name',
        requiredForReads: false,
      };
      const leewaySeconds = 1;
      const shortAuth = createAuth(shortConfig, silentLogger, { clockLeewaySeconds: leewaySeconds });
      const shortApp = await buildTestApp(testDb, { config: { auth: shortConfig }, auth: shortAuth });
      try {
        await waitFor(() => shortAuth.keysLoaded(), 'the short-lived provider keys to load');
        const token = await shortLived.token('alice');
        const post = () =>
          request(shortApp.callback).post('/api/memos').set(as(token)).send({ title: 'soon' });
        await post().expect(201);
        const { exp } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
          exp: number;
        };
        await new Promise((r) => setTimeout(r, Math.max(0, (exp + leewaySeconds) * 1000 + 200 - Date.now())));
        const expired = await post().expect(401);
        expect(expired.headers['www-authenticate']).toContain('error_description="the token has expired"');
      } finally {
        shortAuth.stop();
        await shortApp.close();
        await shortLived.close();
      }
    });

    it('when the provider is stopped, then tokens signed by keys the API already knows are still accepted, and unknown ones refused', async () => {
      const token = await provider.token('alice');
      const bob = await provider.token('bob');
      await api().post('/api/memos').set(as(token)).send({ title: 'provider up' }).expect(201);
      await provider.stop();
      try {
        const res = await api()
          .post('/api/memos')
          .set(as(token))
          .send({ title: 'provider down' })
          .expect(201);
        expect(res.body.owner).toEqual({ sub: provider.users.alice.subject, iss: provider.issuer });
        await api().post('/api/memos').set(as(bob)).send({ title: 'bob, provider down' }).expect(201);
        // A token the provider never signed stays refused while it is down (its kid is not known).
        const [header, payload] = token.split('.');
        const forgedHeader = Buffer.from(
          JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), kid: 'no-such-key' }),
        ).toString('base64url');
        await api()
          .post('/api/memos')
          .set(as(`${forgedHeader}.${payload}.${token.split('.')[2]}`))
          .send({ title: 'forged' })
          .expect(401);
        expect((await api().get('/health/ready').expect(200)).body).toEqual({
          status: 'ready',
          auth_keys: 'loaded',
        });
      } finally {
        await provider.start();
      }
    });
  });
});
