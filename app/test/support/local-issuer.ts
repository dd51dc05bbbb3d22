import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CryptoKey, exportJWK, generateKeyPair, JWK, JWTPayload, SignJWT } from 'jose';

/*
 * A hand-rolled token issuer for unit and app tests: key pairs made here, a discovery document
 * and a JWKS served over HTTP on 127.0.0.1, tokens signed with any of the keys. It stands beside
 * the real OpenID Connect provider (oidc-provider.ts), not instead of it: it can sign what no
 * real provider would (expired, foreign, tampered tokens) and count and refuse JWKS fetches.
 */

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface LocalIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** Keys published in the JWKS, newest last. */
  readonly published: readonly SigningKey[];
  /** Makes a key; `publish` puts it in the JWKS (otherwise it is a key the issuer does not know). */
  newKey(options?: { alg?: 'RS256' | 'ES256'; publish?: boolean }): Promise<SigningKey>;
  /** Replaces the published keys with a new one (the old ones leave the JWKS). */
  rotate(): Promise<SigningKey>;
  /** A token for `sub` signed with `key` (default: the newest published key), valid for 5 minutes. */
  sign(claims?: JWTPayload & { sub?: string }, key?: SigningKey): Promise<string>;
  /** HTTP requests for the JWKS so far. */
  jwksFetches(): number;
  /** While down, every request is answered 503 (a provider that is up but failing). */
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

let counter = 0;

export async function startLocalIssuer(audience = 'memo-api'): Promise<LocalIssuer> {
  let published: SigningKey[] = [];
  let fetches = 0;
  let down = false;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (down) return send(503, { error: 'down' });
    if (req.url === '/.well-known/openid-configuration') {
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.url === '/keys') {
      fetches++;
      return send(200, { keys: published.map((k) => k.publicJwk) });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function newKey(options: { alg?: 'RS256' | 'ES256'; publish?: boolean } = {}): Promise<SigningKey> {
    const alg = options.alg ?? 'RS256';
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${process.pid}-${++counter}`;
    const key: SigningKey = {
      kid,
      alg,
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    };
    if (options.publish ?? true) published = [...published, key];
    return key;
  }
  await newKey();

  return {
    issuer,
    audience,
    get published() {
      return published;
    },
    newKey,
    async rotate() {
      published = [];
      return newKey();
    },
    async sign(claims = {}, key = published[published.length - 1]) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: audience, sub: 'alice', iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    jwksFetches: () => fetches,
    setDown(value) {
      down = value;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
