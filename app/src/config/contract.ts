import {
  boolean,
  cidrs,
  ContractViolation,
  hostName,
  hostPorts,
  integer,
  issuerUrl,
  Kind,
  name,
  oneOf,
  origins,
  secret,
  text,
} from './kinds';

/*
 * The environment contract between the service and the MemoApi construct, written once: every
 * variable with its kind and bounds, default, meaning, the entries that read it and how MemoApi
 * sets it. The service's loader (index.ts) parses by it; MemoApi validates its props by it and
 * fills its ConfigMap from it; the README's table is checked against it
 * (test/contract/environment-docs.test.ts) and the two sides' verdicts at every bound are
 * compared (test/contract/environment-agreement.test.ts).
 */

/** The levels of the service's logger (logger.ts): nothing else is accepted. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A program of the image that reads its environment: the API (index.ts) or the migrations (migrate.ts). */
export type Entry = 'service' | 'migrations';

/** Where MemoApi takes a variable's value from. */
export type Source =
  /**
   * A prop (a dotted path for endpoint fields) holding the value; `asText`: it holds the text as
   * written (a comma-separated string), not the parsed value.
   */
  | { readonly prop: string; readonly asText?: true }
  /** Computed from props that are not this variable's alone. */
  | { readonly derived: string }
  /** A constant of the construct. */
  | { readonly fixed: string }
  /** A Secret key reference prop; the value never passes through the construct. */
  | { readonly secret: string };

/** What the service does when the variable is unset (absent, empty or blank). */
export type Default<T> =
  | { readonly value: T }
  | { readonly required: true }
  /** It stays undefined; the text says what that means, for the README. */
  | { readonly unset: string }
  /** The loader derives it from other variables; the text says how, for the README. */
  | { readonly computed: string };

export interface Variable<T, D extends Default<T> = Default<T>, S extends Source = Source> {
  readonly kind: Kind<T>;
  readonly default: D;
  readonly readBy: readonly Entry[];
  readonly setBy: S;
  /** One line for the README: what it does (the bounds come from the kind). */
  readonly doc: string;
}

function variable<T, const D extends Default<NoInfer<T>>, const S extends Source>(
  spec: Variable<T, D, S>,
): Variable<T, D, S> {
  return spec;
}

const SERVICE = ['service'] as const;
const MIGRATIONS = ['migrations'] as const;
const BOTH = ['service', 'migrations'] as const;
const CLAIM = name(
  'A-Za-z0-9_:/.-',
  200,
  'a claim name (letters, digits and _ : / . -, max 200; dots for nested claims)',
);

/** In README order. */
export const ENVIRONMENT = {
  PORT: variable({
    kind: integer(1, 65535),
    default: { value: 3000 },
    readBy: SERVICE,
    setBy: { fixed: 'the container port' },
    doc: 'HTTP port (the API, health, docs)',
  }),
  METRICS_PORT: variable({
    kind: integer(1, 65535),
    default: { value: 9464 },
    readBy: SERVICE,
    setBy: { fixed: 'the metrics port' },
    doc: 'Port that serves `GET /metrics` and nothing else; must differ from `PORT` (a NetworkPolicy keeps it to Prometheus)',
  }),
  LOG_LEVEL: variable({
    kind: oneOf(LOG_LEVELS),
    default: { value: 'info' },
    readBy: BOTH,
    setBy: { prop: 'logLevel' },
    doc: 'Lowest level logged, in any letter case (JSON lines on stdout, with request ids)',
  }),
  DB_HOST: variable({
    kind: hostName,
    default: { required: true },
    readBy: BOTH,
    setBy: { derived: 'database.host and database.namespace' },
    doc: 'MariaDB host',
  }),
  DB_PORT: variable({
    kind: integer(1, 65535),
    default: { value: 3306 },
    readBy: BOTH,
    setBy: { prop: 'database.port' },
    doc: 'MariaDB port',
  }),
  DB_NAME: variable({
    kind: name('A-Za-z0-9_', 64, 'letters, digits and _ (max 64)'),
    default: { value: 'memos' },
    readBy: BOTH,
    setBy: { prop: 'database.databaseName' },
    doc: 'Database name',
  }),
  DB_USER: variable({
    kind: text({ controlCharacters: true }),
    default: { required: true },
    readBy: SERVICE,
    setBy: { prop: 'database.username' },
    doc: "The API's database account (data statements only in Kubernetes)",
  }),
  DB_PASSWORD: variable({
    kind: secret,
    default: { required: true },
    readBy: SERVICE,
    setBy: { secret: 'database.passwordSecret' },
    doc: 'Its password',
  }),
  DB_MIGRATION_USER: variable({
    kind: text({ controlCharacters: true }),
    default: { required: true },
    readBy: MIGRATIONS,
    setBy: { prop: 'database.migrationUsername' },
    doc: 'The migration account (the schema owner); read by `dist/migrate.js`, never by the API',
  }),
  DB_MIGRATION_PASSWORD: variable({
    kind: secret,
    default: { required: true },
    readBy: MIGRATIONS,
    setBy: { secret: 'database.migrationPasswordSecret' },
    doc: 'Its password',
  }),
  DB_POOL_MAX: variable({
    kind: integer(1, 1000),
    default: { value: 10 },
    readBy: BOTH,
    setBy: { prop: 'dbPoolMax' },
    doc: 'knex pool size',
  }),
  REDIS_HOST: variable({
    kind: hostName,
    default: { required: true },
    readBy: SERVICE,
    setBy: { derived: 'cache.host and cache.namespace' },
    doc: 'Redis host',
  }),
  REDIS_PORT: variable({
    kind: integer(1, 65535),
    default: { value: 6379 },
    readBy: SERVICE,
    setBy: { prop: 'cache.port' },
    doc: 'Redis port',
  }),
  REDIS_PASSWORD: variable({
    kind: secret,
    default: { value: '' },
    readBy: SERVICE,
    setBy: { secret: 'cache.passwordSecret' },
    doc: 'Redis `requirepass`',
  }),
  CACHE_TTL_SECONDS: variable({
    kind: integer(0, 86_400),
    default: { value: 300 },
    readBy: SERVICE,
    setBy: { prop: 'cacheTtlSeconds' },
    doc: 'TTL of `memo:{id}` cache entries; `0` turns memo caching off (rate limiting still uses Redis)',
  }),
  KAFKA_BROKERS: variable({
    kind: hostPorts,
    default: { required: true },
    readBy: SERVICE,
    setBy: { prop: 'events.bootstrapServers', asText: true },
    doc: 'The Kafka bootstrap servers',
  }),
  KAFKA_TOPIC: variable({
    kind: name('A-Za-z0-9._-', 249, 'a Kafka topic name (letters, digits and . _ -, max 249, not . or ..)', [
      '.',
      '..',
    ]),
    default: { value: 'memo_events' },
    readBy: SERVICE,
    setBy: { prop: 'kafkaTopic' },
    doc: 'Topic of the memo events',
  }),
  KAFKA_CLIENT_ID: variable({
    kind: name('A-Za-z0-9._-', 255, 'a client id (letters, digits and . _ -, max 255)'),
    default: { value: 'memo-api' },
    readBy: SERVICE,
    setBy: { prop: 'kafkaClientId' },
    doc: 'Kafka client id (it names the client in broker logs and quotas)',
  }),
  RATE_LIMIT_PER_MINUTE: variable({
    kind: integer(0, 1_000_000),
    default: { value: 100 },
    readBy: SERVICE,
    setBy: { prop: 'rateLimitPerMinute' },
    doc: 'Requests per client per minute (Redis-backed; `0` turns it off). A client is its subject when a principal is authenticated, else its address (IPv6 by /64)',
  }),
  RATE_LIMIT_SEARCH_PER_MINUTE: variable({
    kind: integer(0, 1_000_000),
    default: { value: 30 },
    readBy: SERVICE,
    setBy: { prop: 'rateLimitSearchPerMinute' },
    doc: 'Searches (`GET /api/memos?q=`) per client per minute, counted besides the general budget; `0` gives searches no budget of their own',
  }),
  TRUSTED_PROXY_CIDRS: variable({
    kind: cidrs,
    default: { value: [] },
    readBy: SERVICE,
    setBy: { prop: 'trustedProxyCidrs' },
    doc: 'The proxies whose `X-Forwarded-For` is believed (`10.244.0.0/16,fd00::/8`); the right-most address outside them is the client. Empty: the socket peer is the client and the header is ignored',
  }),
  DB_STATEMENT_TIMEOUT_MS: variable({
    // Below 100 ms ordinary writes of a large memo would fail; above 10 min is no limit at all.
    kind: integer(100, 600_000),
    default: { value: 2000 },
    readBy: SERVICE,
    setBy: { prop: 'dbStatementTimeoutMs' },
    doc: 'MariaDB `max_statement_time` of every API session, in milliseconds; a statement past it is aborted by the server and the request gets 503 with `Retry-After`',
  }),
  CACHE_KEY_PREFIX: variable({
    kind: name('A-Za-z0-9._:/-', 200, 'letters, digits and . _ : / - (max 200)'),
    // By default the database the cache mirrors: two stacks on one Redis have different databases.
    default: { computed: '`memo:<DB_HOST>:<DB_PORT>/<DB_NAME>`' },
    readBy: SERVICE,
    setBy: { prop: 'cacheKeyPrefix' },
    doc: "Prepended (with `:`) to every Redis key (memo cache and rate-limit counters), so stacks sharing one Redis never serve each other's memos. MemoApi's default is `memo:<database Service>.<namespace>.svc:<port>/<database>`",
  }),
  CORS_ORIGINS: variable({
    kind: origins,
    default: { value: [] },
    readBy: SERVICE,
    setBy: { prop: 'corsOrigins' },
    doc: 'Allowed cross-origin callers; empty sends no CORS headers',
  }),
  SHUTDOWN_DELAY_MS: variable({
    kind: integer(0, 120_000),
    default: { value: 5000 },
    readBy: SERVICE,
    setBy: { prop: 'shutdownDelayMs' },
    doc: 'How long readiness reports 503 after SIGTERM before the listener closes, in milliseconds',
  }),
  OIDC_ISSUER_URL: variable({
    kind: issuerUrl(255),
    default: { unset: 'empty: no sign-in' },
    readBy: SERVICE,
    setBy: { prop: 'oidcIssuerUrl' },
    doc: "The OpenID Connect issuer, exactly as its tokens' `iss`. Set: every write needs a bearer token. Unset: anyone may write, and the service logs one warning line at start",
  }),
  OIDC_AUDIENCE: variable({
    kind: text({ controlCharacters: true }),
    default: { unset: 'required with an issuer' },
    readBy: SERVICE,
    setBy: { prop: 'oidcAudience' },
    doc: "What a token's `aud` must contain (the API's client id or identifier at the issuer)",
  }),
  OIDC_ROLES_CLAIM: variable({
    kind: CLAIM,
    default: { value: 'groups' },
    readBy: SERVICE,
    setBy: { prop: 'oidcRolesClaim' },
    doc: "Claim with the caller's roles or groups, a list or a space-separated string; dots reach nested claims (`realm_access.roles` for Keycloak, `roles` for Entra ID)",
  }),
  OIDC_ADMIN_ROLE: variable({
    kind: text({ controlCharacters: false }),
    default: { unset: 'empty: nobody' },
    readBy: SERVICE,
    setBy: { prop: 'oidcAdminRole' },
    doc: 'The role (a value of the roles claim) that may change and delete every memo, e.g. `memo-admin`',
  }),
  OIDC_NAME_CLAIM: variable({
    kind: CLAIM,
    default: { value: 'name' },
    readBy: SERVICE,
    setBy: { prop: 'oidcNameClaim' },
    doc: 'Claim tried first for the display name that becomes `author`; then `preferred_username`, `email`, `sub`',
  }),
  AUTH_REQUIRED_FOR_READS: variable({
    kind: boolean,
    default: { value: false },
    readBy: SERVICE,
    setBy: { prop: 'authRequiredForReads' },
    doc: '`true`: reads under `/api/` need a valid token too (probes, metrics and docs never do)',
  }),
};

type Environment = typeof ENVIRONMENT;
export type VariableName = keyof Environment;
/** The parsed value of a variable (a number for an integer, a string array for a list...). */
export type ValueOf<N extends VariableName> = Environment[N] extends Variable<infer T> ? T : never;

type NamesWhere<Key extends string, Of extends 'default' | 'setBy'> = {
  [N in VariableName]: Key extends keyof Environment[N][Of] ? N : never;
}[VariableName];
/** Variables the service reads as a value whenever it starts: a default or required. */
export type SettledName = NamesWhere<'value', 'default'> | NamesWhere<'required', 'default'>;
/** Variables that may stay unset (undefined in the config). */
export type OptionalName = NamesWhere<'unset', 'default'>;
/** Variables whose default the loader derives from others. */
export type ComputedName = NamesWhere<'computed', 'default'>;
/** Variables whose default is a value, which MemoApi takes for an unset prop. */
export type DefaultedName = NamesWhere<'value', 'default'>;
/** Variables MemoApi fills from a Secret; every other one it writes into its ConfigMap. */
export type SecretName = NamesWhere<'secret', 'setBy'>;
export type SettingName = Exclude<VariableName, SecretName>;

/** Variables whose MemoApi prop holds the text as written rather than the parsed value. */
export type AsTextName = NamesWhere<'asText', 'setBy'>;

/** What MemoApi writes for each variable of its ConfigMap; undefined leaves an optional one unset. */
export type Settings = {
  readonly [N in SettingName]: N extends AsTextName
    ? string
    : N extends OptionalName
      ? ValueOf<N> | undefined
      : ValueOf<N>;
};

/** The table seen without each variable's own types, for code that walks every variable. */
export const VARIABLES: Readonly<Record<VariableName, Variable<unknown>>> = ENVIRONMENT;

export function defaultOf<N extends DefaultedName>(name: N): ValueOf<N> {
  return (ENVIRONMENT[name].default as { readonly value: ValueOf<N> }).value;
}

/**
 * What the service makes of the raw text of a variable (undefined: absent). An empty or blank
 * text counts as unset, as a Kubernetes env entry without a value yields it; then the default
 * applies, or `computed` when the loader derives it. A secret is taken verbatim.
 * @throws ContractViolation
 */
export function interpret(name: VariableName, raw: string | undefined, computed?: unknown): unknown {
  const { kind, default: fallback } = VARIABLES[name];
  const verbatim = kind.shape.type === 'secret';
  const value = verbatim ? raw : raw?.trim();
  if (value !== undefined && (value !== '' || verbatim)) return kind.parse(value);
  if ('value' in fallback) return fallback.value;
  if ('required' in fallback) throw new ContractViolation('set', undefined, 'is required but not set');
  if ('computed' in fallback) {
    if (computed === undefined) throw new Error(`${name}: the loader must pass the default it derives`);
    // A derived default is held to the same rules as a set value.
    return kind.parse(kind.format(computed));
  }
  return undefined;
}

/** The ConfigMap text of a value MemoApi writes, or why the service would not read that value. */
export type Written =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly expected: string; readonly got: string; readonly readAs?: string };

const shown = (value: unknown): string =>
  typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : String(value);

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/**
 * The text of `value` for a variable of MemoApi's ConfigMap (for an `asText` prop, `value` is
 * that text), if the service reads exactly that value back from it: a value it refuses, or one
 * it reads differently (surrounding spaces it trims, a list entry holding a comma, an empty text
 * it takes for unset), is not written.
 */
export function write(name: SettingName, value: unknown): Written {
  const { kind, default: fallback, setBy } = VARIABLES[name];
  const asText = 'asText' in setBy;
  const text = value === undefined ? '' : asText ? String(value) : kind.format(value);
  if (text.trim() === '' && 'computed' in fallback) {
    return { ok: false, expected: 'set (the service derives its own when it is empty)', got: shown(value) };
  }
  let read: unknown;
  try {
    read = interpret(name, text);
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    return { ok: false, expected: error.expected, got: error.got ?? shown(value) };
  }
  const readBack = asText ? kind.format(read) : read;
  if (sameValue(readBack, value)) return { ok: true, text };
  if (text.trim() === '') {
    return {
      ok: false,
      expected: 'not empty (the service takes an empty value for unset)',
      got: shown(value),
    };
  }
  return {
    ok: false,
    expected: 'a value the service reads back as written',
    got: shown(value),
    readAs: shown(readBack),
  };
}

/** Where MemoApi takes the value from, in words (a prop path, or how it is derived). */
export function sourceOf(name: VariableName): string {
  const source: Source = ENVIRONMENT[name].setBy;
  if ('prop' in source) return source.prop;
  if ('derived' in source) return source.derived;
  if ('fixed' in source) return source.fixed;
  return source.secret;
}
