import { CryptoKey, exportSPKI, importJWK, SignJWT } from 'jose';
import { createKeySet, KeySet, KeysUnavailableError } from '../../src/auth/key-set';
import {
  CLOCK_LEEWAY_SECONDS,
  createTokenVerifier,
  InvalidTokenError,
  TokenVerifier,
} from '../../src/auth/verifier';
import { silentLogger } from '../../src/logger';
import { LocalIssuer, startLocalIssuer } from '../support/local-issuer';

/*
 * The verifier against keys served over HTTP by a local issuer on 127.0.0.1. The key set's clock
 * is the test's (`clock`), so "30 s later" is a number, not a wait; jose checks exp/nbf against
 * the real clock, and the tokens are dated from it.
 */

const REFETCH_INTERVAL_MS = 30_000;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('token verifier', () => {
  let issuer: LocalIssuer;
  let clock: number;
  let keys: KeySet;
  let verify: TokenVerifier;

  const build = (overrides: { issuer?: string; audience?: string } = {}): void => {
    keys = createKeySet({
      issuer: overrides.issuer ?? issuer.issuer,
      logger: silentLogger,
      minRefetchIntervalMs: REFETCH_INTERVAL_MS,
      now: () => clock,
    });
    verify = createTokenVerifier({
      issuer: overrides.issuer ?? issuer.issuer,
      audience: overrides.audience ?? issuer.audience,
      keys,
      rolesClaim: 'groups',
      adminRole: 'memo-admin',
      nameClaim: 'name',
      // Verified tokens on, as in production, on the test's clock.
      verifiedTokens: { now: () => clock },
    });
  };

  const refusal = async (token: string): Promise<string> => {
    try {
      await verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return err.message;
      throw err;
    }
    throw new Error('the token was accepted');
  };

  beforeEach(async () => {
    issuer = await startLocalIssuer();
    clock = 1_000_000;
    build();
  });
  afterEach(async () => {
    keys.stop();
    await issuer.stop();
  });

  it('when a token is signed by a published key for this audience, then it names the caller, display name and roles', async () => {
    const principal = await verify(await issuer.sign({ sub: 'u-1', name: 'Alice A.', groups: ['staff'] }));
    expect(principal).toEqual({
      subject: 'u-1',
      issuer: issuer.issuer,
      displayName: 'Alice A.',
      roles: ['staff'],
      isAdmin: false,
    });
    const admin = await verify(
      await issuer.sign({ sub: 'u-2', preferred_username: 'root', groups: ['memo-admin'] }),
    );
    expect(admin).toMatchObject({ displayName: 'root', isAdmin: true });
    const bare = await verify(await issuer.sign({ sub: 'u-3', email: 'c@example.com' }));
    expect(bare).toMatchObject({ displayName: 'c@example.com', roles: [], isAdmin: false });
  });

  it('when a token expired beyond the leeway, then it is refused; within the leeway, accepted', async () => {
    const past = nowSeconds() - CLOCK_LEEWAY_SECONDS - 60;
    expect(await refusal(await issuer.sign({ iat: past - 300, exp: past }))).toBe('the token has expired');
    const justExpired = nowSeconds() - 5;
    await expect(
      verify(await issuer.sign({ iat: justExpired - 300, exp: justExpired })),
    ).resolves.toBeDefined();
  });

  it('when a token is not valid yet (nbf beyond the leeway), then it is refused', async () => {
    const later = nowSeconds() + CLOCK_LEEWAY_SECONDS + 120;
    expect(await refusal(await issuer.sign({ nbf: later, exp: later + 300 }))).toBe(
      'the token is not valid yet',
    );
  });

  it('when a token is for another audience, then it is refused; an audience list containing ours is accepted', async () => {
    expect(await refusal(await issuer.sign({ aud: 'another-api' }))).toBe(
      'the token is not meant for this API (audience)',
    );
    await expect(verify(await issuer.sign({ aud: ['another-api', issuer.audience] }))).resolves.toBeDefined();
  });

  it('when a token names another issuer, even signed by a key we trust, then it is refused', async () => {
    expect(await refusal(await issuer.sign({ iss: 'https://evil.example.com' }))).toBe(
      'the token is from another issuer',
    );
    expect(await refusal(await issuer.sign({ iss: `${issuer.issuer}/` }))).toBe(
      'the token is from another issuer',
    );
  });

  it('when a token says alg "none" with no signature, then it is refused', async () => {
    const now = nowSeconds();
    const payload = { iss: issuer.issuer, aud: issuer.audience, sub: 'mallory', exp: now + 300 };
    expect(await refusal(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`)).toBe(
      'the token is signed with an algorithm this API does not accept',
    );
  });

  it("when a token is HS256-signed with the issuer's public key as the secret, then it is refused", async () => {
    const real = issuer.published[0];
    const publicPem = await exportSPKI(
      (await importJWK(real.publicJwk, 'RS256', { extractable: true })) as CryptoKey,
    );
    const now = nowSeconds();
    for (const secret of [publicPem, JSON.stringify(real.publicJwk)]) {
      const forged = await new SignJWT({
        iss: issuer.issuer,
        aud: issuer.audience,
        sub: 'mallory',
        exp: now + 300,
      })
        .setProtectedHeader({ alg: 'HS256', kid: real.kid })
        .sign(new TextEncoder().encode(secret));
      expect(await refusal(forged)).toBe('the token is signed with an algorithm this API does not accept');
    }
  });

  it('when a token is signed by a key the issuer does not publish, then the JWKS is fetched again and the token refused', async () => {
    await verify(await issuer.sign());
    expect(issuer.jwksFetches()).toBe(1);
    clock += REFETCH_INTERVAL_MS;
    const stranger = await issuer.newKey({ publish: false });
    expect(await refusal(await issuer.sign({}, stranger))).toBe(
      `the token is signed with an unknown key id '${stranger.kid}'`,
    );
    expect(issuer.jwksFetches()).toBe(2);
  });

  it('when the payload of a signed token is altered, then the signature check refuses it', async () => {
    const [header, payload, signature] = (await issuer.sign({ sub: 'alice' })).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${b64({ ...claims, sub: 'admin', groups: ['memo-admin'] })}.${signature}`;
    expect(await refusal(tampered)).toBe('the token signature is invalid');
    expect(await refusal('not-a-jwt')).toBe('the token is malformed');
  });

  it('when a token lacks exp or sub, then it is refused', async () => {
    const key = issuer.published[0];
    const noExp = await new SignJWT({ iss: issuer.issuer, aud: issuer.audience, sub: 'alice' })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .sign(key.privateKey);
    expect(await refusal(noExp)).toBe("the token's exp claim is missing or invalid");
    const noSub = await new SignJWT({ iss: issuer.issuer, aud: issuer.audience, exp: nowSeconds() + 300 })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .sign(key.privateKey);
    expect(await refusal(noSub)).toBe("the token's sub claim is missing or invalid");
  });

  it('when the issuer rotates its signing key, then tokens of the new key are accepted without a new verifier', async () => {
    await verify(await issuer.sign());
    clock += REFETCH_INTERVAL_MS;
    const next = await issuer.rotate();
    await expect(verify(await issuer.sign({ sub: 'after-rotation' }, next))).resolves.toMatchObject({
      subject: 'after-rotation',
    });
    expect(issuer.jwksFetches()).toBe(2);
  });

  it('when the same token comes again, then its signature is not checked again; another token is checked', async () => {
    // The first check loads the keys: what it verified counts for the set before, so it is checked again.
    await verify(await issuer.sign({ sub: 'first' }));
    const keyFor = jest.spyOn(keys, 'keyFor');
    const token = await issuer.sign({ sub: 'alice' });
    const first = await verify(token);
    await expect(verify(token)).resolves.toEqual(first);
    expect(keyFor).toHaveBeenCalledTimes(1);
    await verify(await issuer.sign({ sub: 'bob' }));
    expect(keyFor).toHaveBeenCalledTimes(2);
  });

  it('when the issuer withdraws a key and the key set is refetched, then a token of that key verified before is refused', async () => {
    const old = await issuer.sign({ sub: 'alice' });
    await verify(old);
    clock += REFETCH_INTERVAL_MS;
    const next = await issuer.rotate();
    // The first token of the new key makes the service fetch the keys again: the old one is gone.
    await verify(await issuer.sign({ sub: 'bob' }, next));
    const { kid } = JSON.parse(Buffer.from(old.split('.')[0], 'base64url').toString()) as { kid: string };
    expect(await refusal(old)).toBe(`the token is signed with an unknown key id '${kid}'`);
  });

  it("when a verified token passes its exp on the cache's clock, then it is checked in full again", async () => {
    clock = Date.now();
    await verify(await issuer.sign({ sub: 'first' }));
    const keyFor = jest.spyOn(keys, 'keyFor');
    const token = await issuer.sign({ sub: 'alice', exp: nowSeconds() + 120 });
    await verify(token);
    clock += 121_000;
    // jose checks exp on the real clock, where the token is still valid: accepted after a full check.
    await verify(token);
    expect(keyFor).toHaveBeenCalledTimes(2);
  });

  it('when the JWKS server is down, then tokens of keys already known are still accepted, also once the cache is old', async () => {
    const token = await issuer.sign();
    await verify(token);
    issuer.setDown(true);
    // Past the refresh age: the background refresh fails, and the cached keys stay.
    clock += 24 * 60 * 60_000;
    await expect(verify(token)).resolves.toBeDefined();
    await keys.idle();
    expect(keys.fetchCount()).toBe(2);
    await expect(verify(await issuer.sign({ sub: 'later' }))).resolves.toMatchObject({ subject: 'later' });
    expect(keys.loaded()).toBe(true);
  });

  it('when many tokens name unknown key ids at once and again soon after, then the JWKS is fetched once per interval', async () => {
    await verify(await issuer.sign());
    clock += REFETCH_INTERVAL_MS;
    const strangers = await Promise.all(Array.from({ length: 5 }, () => issuer.newKey({ publish: false })));
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => issuer.sign({}, strangers[i % 5])));
    const results = await Promise.allSettled(tokens.map((t) => verify(t)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(issuer.jwksFetches()).toBe(2);
    // Within the interval: refused from the cache, no fetch.
    clock += REFETCH_INTERVAL_MS - 1;
    await refusal(tokens[0]);
    expect(issuer.jwksFetches()).toBe(2);
    clock += 1;
    await refusal(tokens[0]);
    expect(issuer.jwksFetches()).toBe(3);
  });

  it('when the issuer has been unreachable since start, then verification reports the keys unavailable (not a bad token)', async () => {
    issuer.setDown(true);
    await expect(verify(await issuer.sign())).rejects.toBeInstanceOf(KeysUnavailableError);
    expect(keys.loaded()).toBe(false);
    // Within the interval no request fetches again; once it has passed, one does, and succeeds.
    issuer.setDown(false);
    await expect(verify(await issuer.sign())).rejects.toBeInstanceOf(KeysUnavailableError);
    clock += REFETCH_INTERVAL_MS;
    await expect(verify(await issuer.sign())).resolves.toBeDefined();
  });

  it('when the discovery document names another issuer, then no key is trusted', async () => {
    keys.stop();
    build({ issuer: `${issuer.issuer}/` });
    await expect(verify(await issuer.sign({ iss: `${issuer.issuer}/` }))).rejects.toBeInstanceOf(
      KeysUnavailableError,
    );
  });

  it('when start() runs while the issuer is down, then it retries in the background until the keys load', async () => {
    issuer.setDown(true);
    keys.start();
    await keys.idle();
    expect(keys.loaded()).toBe(false);
    issuer.setDown(false);
    const deadline = Date.now() + 10_000;
    while (!keys.loaded() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(keys.loaded()).toBe(true);
  });
});
