import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acceptsConnections, freePort } from './ports';

/*
 * A real OpenID Connect provider for the auth tests: Dex (test/oidc/build.sh compiles it from
 * its Go module), run on a free port of 127.0.0.1 with in-memory storage, its own password
 * database of three users, and one confidential client that may use the password grant.
 *
 * What Dex v2.45.1 issues (server/oauth2.go, newIDToken; the access token is built by the same
 * function): an RS256 JWT with kid, iss (the issuer below), aud (the client id, a single
 * string), sub, exp, iat, at_hash; email and email_verified with the email scope; name and
 * preferred_username with the profile scope; groups with the groups scope, left out when the
 * user has none. sub is Dex's own encoding of (user id, connector id), not the user name.
 * Tokens last tokenLifetimeSeconds (10 minutes unless a suite asks for less).
 *
 * With memory storage every start of the process makes a new signing key, and the old one is
 * gone from the JWKS: that is what rotateKeys() uses, so a verifier that did not keep the old
 * key rejects the tokens signed with it from then on.
 */

export interface OidcUser {
  readonly username: string;
  readonly subject: string;
  readonly groups: readonly string[];
  /** What the password grant takes as username: Dex's password database logs in by email. */
  readonly email: string;
  /** Test-only, matching the bcrypt hash in USERS below. */
  readonly password: string;
}

export type OidcUserName = 'alice' | 'bob' | 'admin';

/** The provider's answer to one password grant. */
export interface OidcTokens {
  readonly accessToken: string;
  readonly idToken: string;
  readonly refreshToken?: string;
  readonly expiresIn: number;
}

export interface OidcProvider {
  /** http://127.0.0.1:<port>/dex (the discovery doc is at issuer + '/.well-known/openid-configuration'). */
  readonly issuer: string;
  /** The client id tokens are issued for (their aud). */
  readonly audience: string;
  /** A second client of the same provider: its tokens are genuine but meant for another API. */
  readonly otherAudience: string;
  /** admin is in group 'memo-admin'; alice in 'memo-users'; bob in none (no groups claim). */
  readonly users: { readonly alice: OidcUser; readonly bob: OidcUser; readonly admin: OidcUser };
  /** issuer + '/keys', as the discovery document names it. */
  readonly jwksUri: string;
  /** A real access token from the provider for that user (the password grant), a JWT signed by the provider's current key. */
  token(user: OidcUserName): Promise<string>;
  /** Access, ID and refresh token of one password grant, for the given scopes. */
  tokens(user: OidcUserName, scopes?: readonly string[]): Promise<OidcTokens>;
  /** A real access token issued to the second client (aud `otherAudience`). */
  tokenForOtherAudience(user: OidcUserName): Promise<string>;
  /** Makes the provider sign with a new key (new kid) from now on, keeping its issuer URL; old tokens stay valid only if the verifier still knows the old key. */
  rotateKeys(): Promise<void>;
  /** Stops the provider process (the issuer becomes unreachable); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the process for good and removes its configuration (afterAll). */
  close(): Promise<void>;
  /** The tail of what the process wrote (JSON log lines), for failure messages. */
  output(): string;
}

export interface OidcProviderOptions {
  /**
   * Lifetime of access and ID tokens (Dex's expiry.idTokens), for suites that wait for a token
   * to expire. Dex keeps a replaced key in the JWKS for this long too.
   * @default 600
   */
  readonly tokenLifetimeSeconds?: number;
  /** @default 20_000 */
  readonly startTimeoutMs?: number;
}

const ROOT_DIR = path.resolve(__dirname, '../../..');
/** Linked there by test/oidc/build.sh (npm run setup). */
export const DEX_BINARY = path.join(ROOT_DIR, '.services', 'oidc', 'bin', 'dex');
const CLIENT_ID = 'memo-api';
/** The second client, whose tokens carry another audience. */
const OTHER_CLIENT_ID = 'another-api';
/** Dex's id of its built-in password database; it is part of every subject. */
const CONNECTOR_ID = 'local';
export const DEFAULT_SCOPES = ['openid', 'email', 'profile', 'groups', 'offline_access'] as const;
const OUTPUT_LIMIT = 64 * 1024;

/*
 * The password database. The hashes are bcrypt at cost 10 (the lowest Dex accepts) of the
 * test-only passwords beside them, made once with golang.org/x/crypto/bcrypt: Node has no
 * bcrypt of its own, and nothing secret rides on them.
 */
const USERS = {
  alice: {
    userID: '0f8e4c1a-5b7d-4e2a-9c61-a11ce0000001',
    username: 'alice',
    email: 'alice@memo.test',
    password: 'alice-test-password',
    hash: '$2a$10$rq4fPW2CFgGY4CB00yUwBeLDuEKDkKd0N0cOHtxhT47e/yyTI0cXG',
    groups: ['memo-users'],
  },
  bob: {
    userID: '4d2b9e77-1c3f-4a8b-b5d0-b0b000000002',
    username: 'bob',
    email: 'bob@memo.test',
    password: 'bob-test-password',
    hash: '$2a$10$Q1jMhObr6/NNzq4Ikb36P.eFeASTJn2fW4JeI.dUJ1D7fgxx40Xpq',
    groups: [],
  },
  admin: {
    userID: '9a6c3f20-7e41-4b9d-8f12-ad0000000003',
    username: 'admin',
    email: 'admin@memo.test',
    password: 'admin-test-password',
    hash: '$2a$10$KN/z345U34gf/gCssU4J/uEXQMCDyzzfJLY.pwGYFPFJqUki.hDd2',
    groups: ['memo-admin'],
  },
} as const;

/** One length-delimited protobuf field (all of ours are shorter than 128 bytes). */
function protoString(field: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 127) throw new Error(`protobuf field ${field} too long for one length byte`);
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

/**
 * The sub Dex gives a user: base64url (unpadded) of the protobuf IDTokenSubject
 * { user_id = 1; conn_id = 2 } (server/oauth2.go genSubject, server/internal/codec.go).
 */
export function dexSubject(userID: string, connectorID: string = CONNECTOR_ID): string {
  return Buffer.concat([protoString(1, userID), protoString(2, connectorID)]).toString('base64url');
}

const required = (): boolean => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

/** Whether the provider binary is built (npm run setup). */
export function oidcProviderAvailable(): boolean {
  try {
    accessSync(DEX_BINARY, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * describe() that runs only when Dex is built: outside CI a missing binary skips the suite with
 * a loud message; with CI=true or REQUIRE_SERVICES=1 it fails the suite (as services.ts does).
 */
export function describeWithOidcProvider(title: string, body: () => void): void {
  if (oidcProviderAvailable()) {
    describe(title, body);
    return;
  }
  const message = `${title}: the OpenID Connect provider is not built (${path.relative(ROOT_DIR, DEX_BINARY)}). Build it with: npm run setup (test/oidc/build.sh)`;
  if (required()) {
    describe(title, () => {
      it('when the OpenID Connect provider it needs is not built in CI, then the suite fails', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED *** ${message}\n`);
  describe.skip(title, body);
}

/** The kids the provider publishes right now. */
async function publishedKids(jwksUri: string): Promise<string[]> {
  const res = await fetch(jwksUri, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`${jwksUri} answered ${res.status}`);
  const body = (await res.json()) as { keys?: { kid?: string }[] };
  return (body.keys ?? []).map((k) => String(k.kid));
}

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProvider> {
  if (!oidcProviderAvailable()) {
    throw new Error(`${DEX_BINARY} is missing: build it with npm run setup (test/oidc/build.sh)`);
  }
  const lifetime = options.tokenLifetimeSeconds ?? 600;
  if (!Number.isInteger(lifetime) || lifetime < 1) {
    throw new Error(`tokenLifetimeSeconds must be a positive integer, not ${lifetime}`);
  }
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/dex`;
  const jwksUri = `${issuer}/keys`;
  const clientSecret = randomBytes(24).toString('base64url');
  const otherClientSecret = randomBytes(24).toString('base64url');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'memo-oidc-'));
  const configFile = path.join(dir, 'dex.json');
  // Dex reads YAML, and JSON is YAML: no quoting rules to get wrong for the bcrypt hashes.
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        issuer,
        storage: { type: 'memory' },
        web: { http: `127.0.0.1:${port}` },
        logger: { level: 'info', format: 'json' },
        // The local signer makes its first key on start; memory storage forgets it on exit.
        signer: { type: 'local', config: { keysRotationPeriod: '24h' } },
        expiry: { idTokens: `${lifetime}s` },
        oauth2: { passwordConnector: CONNECTOR_ID, skipApprovalScreen: true },
        enablePasswordDB: true,
        staticPasswords: Object.values(USERS).map((u) => ({
          email: u.email,
          hash: u.hash,
          username: u.username,
          preferredUsername: u.username,
          userID: u.userID,
          groups: u.groups,
        })),
        staticClients: [
          {
            id: CLIENT_ID,
            name: 'memo API tests',
            secret: clientSecret,
            redirectURIs: ['http://127.0.0.1/callback'],
          },
          {
            id: OTHER_CLIENT_ID,
            name: 'another API',
            secret: otherClientSecret,
            redirectURIs: ['http://127.0.0.1/other-callback'],
          },
        ],
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let closed = false;
  const alive = (c: ChildProcess | undefined): boolean =>
    c !== undefined && c.exitCode === null && c.signalCode === null;

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running && alive(running)) {
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    const deadline = Date.now() + 5000;
    while (await acceptsConnections(port)) {
      if (Date.now() > deadline) throw new Error(`something still listens on ${port} after Dex exited`);
      await sleep(25);
    }
  };

  const start = async (): Promise<void> => {
    if (closed) throw new Error('the OpenID Connect provider was closed');
    if (alive(child)) return;
    // setpriv (util-linux) makes the kernel kill Dex when this process dies, so a crashed or
    // killed test run leaves no provider behind; where it is missing Dex runs without that.
    const [command, args] = existsSync('/usr/bin/setpriv')
      ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', DEX_BINARY, 'serve', configFile]]
      : [DEX_BINARY, ['serve', configFile]];
    const started = spawn(command, args, {
      cwd: dir,
      // A "$" in the config (every bcrypt hash) would otherwise be read as an environment variable.
      env: { PATH: process.env.PATH, DEX_EXPAND_ENV: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const keep = (chunk: string): void => {
      output = (output + chunk).slice(-OUTPUT_LIMIT);
    };
    started.stdout?.setEncoding('utf8').on('data', keep);
    started.stderr?.setEncoding('utf8').on('data', keep);
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const ready = await fetch(`${issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(1000),
      }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready && alive(started)) return;
      if (!alive(started)) {
        throw new Error(`Dex exited early (${started.exitCode ?? started.signalCode}):\n${output}`);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`Dex did not answer on ${issuer} within ${startTimeoutMs} ms:\n${output}`);
      }
      await sleep(50);
    }
  };

  const grant = async (
    name: OidcUserName,
    scopes: readonly string[],
    client: { readonly id: string; readonly secret: string },
  ): Promise<OidcTokens> => {
    const user = USERS[name];
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.email,
        password: user.password,
        scope: scopes.join(' '),
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status !== 200)
      throw new Error(`Dex refused the password grant for ${name} (${res.status}): ${text}`);
    const body = JSON.parse(text) as {
      access_token: string;
      id_token: string;
      refresh_token?: string;
      expires_in: number;
    };
    return {
      accessToken: body.access_token,
      idToken: body.id_token,
      refreshToken: body.refresh_token,
      expiresIn: body.expires_in,
    };
  };
  const tokens = (name: OidcUserName, scopes: readonly string[] = DEFAULT_SCOPES): Promise<OidcTokens> =>
    grant(name, scopes, { id: CLIENT_ID, secret: clientSecret });

  const user = (name: OidcUserName): OidcUser => ({
    username: USERS[name].username,
    subject: dexSubject(USERS[name].userID),
    groups: USERS[name].groups,
    email: USERS[name].email,
    password: USERS[name].password,
  });

  const provider: OidcProvider = {
    issuer,
    audience: CLIENT_ID,
    otherAudience: OTHER_CLIENT_ID,
    users: { alice: user('alice'), bob: user('bob'), admin: user('admin') },
    jwksUri,
    token: async (name) => (await tokens(name)).accessToken,
    tokens,
    tokenForOtherAudience: async (name) =>
      (await grant(name, DEFAULT_SCOPES, { id: OTHER_CLIENT_ID, secret: otherClientSecret })).accessToken,
    async rotateKeys() {
      const before = await publishedKids(jwksUri);
      await stop();
      await start();
      const after = await publishedKids(jwksUri);
      // Memory storage cannot bring a key back; if it ever did, the suites relying on a new
      // kid would test nothing, so say so here.
      if (after.some((kid) => before.includes(kid))) {
        throw new Error(`Dex kept a key across the restart: before ${before}, after ${after}`);
      }
    },
    stop,
    start,
    async close() {
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => output,
  };
  try {
    await start();
  } catch (err) {
    closed = true;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return provider;
}
