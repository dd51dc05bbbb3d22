import { createPublicKey, JsonWebKey, verify } from 'node:crypto';
import {
  describeWithOidcProvider,
  dexSubject,
  OidcProvider,
  OidcUserName,
  startOidcProvider,
} from '../support/oidc-provider';

/*
 * The OpenID Connect provider the auth suites sign in against (support/oidc-provider.ts): a real
 * Dex process. These tests hold the harness to its word: what it says about issuer, audience,
 * users, keys, rotation and outages is what the running provider does. Signatures are checked
 * here with node:crypto against the published JWKS, independently of the app's verifier.
 */

interface Jwk extends JsonWebKey {
  readonly kid: string;
  readonly alg?: string;
  readonly use?: string;
}

interface DecodedJwt {
  readonly header: { alg?: string; kid?: string };
  readonly payload: Record<string, unknown>;
  readonly signingInput: string;
  readonly signature: Buffer;
}

function decodeJwt(jwt: string): DecodedJwt {
  const parts = jwt.split('.');
  expect(parts).toHaveLength(3);
  const [header, payload, signature] = parts;
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as DecodedJwt['header'],
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function jwks(provider: OidcProvider): Promise<Jwk[]> {
  const { status, body } = await getJson(provider.jwksUri);
  expect(status).toBe(200);
  return body.keys as Jwk[];
}

/** Whether the RS256 signature of the token checks out against the key the JWKS has for its kid. */
function signedBy(token: DecodedJwt, keys: readonly Jwk[]): boolean {
  const key = keys.find((k) => k.kid === token.header.kid);
  if (!key) return false;
  return verify(
    'RSA-SHA256',
    Buffer.from(token.signingInput),
    createPublicKey({ key, format: 'jwk' }),
    token.signature,
  );
}

const discoveryOf = (provider: OidcProvider): string => `${provider.issuer}/.well-known/openid-configuration`;

describeWithOidcProvider('the test OpenID Connect provider (Dex)', () => {
  let provider: OidcProvider;

  beforeAll(async () => {
    provider = await startOidcProvider();
  });

  afterAll(async () => {
    await provider?.close();
  });

  it('when the discovery document is fetched, then it names the issuer, its JWKS and the password grant', async () => {
    const { status, body } = await getJson(discoveryOf(provider));

    expect(status).toBe(200);
    expect(provider.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dex$/);
    expect(body.issuer).toBe(provider.issuer);
    expect(body.jwks_uri).toBe(provider.jwksUri);
    expect(body.token_endpoint).toBe(`${provider.issuer}/token`);
    expect(body.grant_types_supported).toContain('password');
    expect(body.id_token_signing_alg_values_supported).toContain('RS256');
    expect(body.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email', 'profile', 'groups']));
  });

  it('when the JWKS is fetched, then it publishes RSA signing keys with kids', async () => {
    const keys = await jwks(provider);

    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
      expect(typeof key.kid).toBe('string');
      expect(key.kid.length).toBeGreaterThan(0);
    }
  });

  it.each<{ name: OidcUserName; groups: string[] | undefined; shown: string }>([
    { name: 'alice', groups: ['memo-users'], shown: 'memo-users' },
    { name: 'bob', groups: undefined, shown: 'none (no groups claim)' },
    { name: 'admin', groups: ['memo-admin'], shown: 'memo-admin' },
  ])(
    'when $name gets a token, then it is an RS256 JWT signed by the current key, for the audience, with their subject and groups $shown',
    async ({ name, groups }) => {
      const before = Math.floor(Date.now() / 1000);
      const token = decodeJwt(await provider.token(name));
      const user = provider.users[name];

      expect(token.header.alg).toBe('RS256');
      expect(signedBy(token, await jwks(provider))).toBe(true);
      expect(token.payload).toMatchObject({
        iss: provider.issuer,
        aud: provider.audience,
        sub: user.subject,
        email: user.email,
        name: user.username,
        preferred_username: user.username,
      });
      expect(token.payload.groups).toEqual(groups);
      expect(user.groups).toEqual(groups ?? []);
      const { iat, exp } = token.payload as { iat: number; exp: number };
      expect(iat).toBeGreaterThanOrEqual(before - 1);
      expect(exp - iat).toBe(600);
    },
  );

  it('when the users are compared, then each has a subject of their own, in Dex encoding', () => {
    const subjects = Object.values(provider.users).map((u) => u.subject);

    expect(new Set(subjects).size).toBe(3);
    // base64url of the protobuf { user_id: "u", conn_id: "local" }.
    expect(dexSubject('u')).toBe(Buffer.from('\n\x01u\x12\x05local').toString('base64url'));
  });

  it('when a token is signed with a tampered payload, then the JWKS check rejects it', async () => {
    const token = decodeJwt(await provider.token('alice'));
    const [header] = token.signingInput.split('.');
    const forged = Buffer.from(JSON.stringify({ ...token.payload, groups: ['memo-admin'] })).toString(
      'base64url',
    );

    expect(signedBy({ ...token, signingInput: `${header}.${forged}` }, await jwks(provider))).toBe(false);
  });

  it('when the keys are rotated, then new tokens carry a new kid, the old key is gone from the JWKS, and the issuer stays', async () => {
    const old = decodeJwt(await provider.token('alice'));
    const issuer = provider.issuer;

    await provider.rotateKeys();

    const fresh = decodeJwt(await provider.token('alice'));
    const keys = await jwks(provider);
    expect(provider.issuer).toBe(issuer);
    expect((await getJson(discoveryOf(provider))).body.issuer).toBe(issuer);
    expect(fresh.header.kid).not.toBe(old.header.kid);
    expect(signedBy(fresh, keys)).toBe(true);
    expect(keys.map((k) => k.kid)).not.toContain(old.header.kid);
    expect(signedBy(old, keys)).toBe(false);
    expect(fresh.payload.sub).toBe(old.payload.sub);
  });

  it('when the provider is stopped, then discovery is unreachable, and start brings it back on the same issuer', async () => {
    await provider.stop();

    await expect(fetch(discoveryOf(provider), { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    await expect(provider.token('bob')).rejects.toThrow();

    await provider.start();

    const { status, body } = await getJson(discoveryOf(provider));
    expect(status).toBe(200);
    expect(body.issuer).toBe(provider.issuer);
    expect(decodeJwt(await provider.token('bob')).payload.iss).toBe(provider.issuer);
  });
});

describeWithOidcProvider('the test OpenID Connect provider with a short token lifetime', () => {
  let provider: OidcProvider;

  beforeAll(async () => {
    provider = await startOidcProvider({ tokenLifetimeSeconds: 5 });
  });

  afterAll(async () => {
    await provider?.close();
  });

  it('when a token is issued, then it expires after the lifetime asked for', async () => {
    const tokens = await provider.tokens('admin');
    const { iat, exp } = decodeJwt(tokens.accessToken).payload as { iat: number; exp: number };

    expect(exp - iat).toBe(5);
    expect(tokens.expiresIn).toBeLessThanOrEqual(5);
    expect(decodeJwt(tokens.idToken).payload.exp).toBe(exp);
  });
});
