/**
 * The one place that reads the environment. Every variable of the service contract is parsed
 * here, once, at start; anything missing or malformed stops the process with a message that
 * names the variable, so a bad Deployment fails loudly instead of half-working.
 */

import { parseCidr } from './http/addresses';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DatabaseConfig {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  readonly password: string;
  readonly poolMax: number;
}

export interface RedisConfig {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId: string;
}

/**
 * Bearer-token sign-in with an OpenID Connect issuer. Absent (no OIDC_ISSUER_URL): every write
 * is anonymous and allowed, and the service warns once at start.
 */
export interface AuthConfig {
  /** The issuer exactly as tokens carry it in `iss`; discovery is `<issuer>/.well-known/openid-configuration`. */
  readonly issuerUrl: string;
  /** A token's `aud` must contain this value. */
  readonly audience: string;
  /** Claim (a dotted path for nested ones, e.g. `realm_access.roles`) holding the caller's roles or groups. */
  readonly rolesClaim: string;
  /** The role that may change and delete every memo; `undefined`: nobody is an administrator. */
  readonly adminRole: string | undefined;
  /** Claim tried first for the display name written to `author`; then preferred_username, email, sub. */
  readonly nameClaim: string;
  /** Reads (GET on /api/) need a valid token too. */
  readonly requiredForReads: boolean;
}

export interface Config {
  readonly port: number;
  /** The port that serves only /metrics, apart from the public one so NetworkPolicies can keep it to Prometheus. */
  readonly metricsPort: number;
  readonly logLevel: LogLevel;
  readonly db: DatabaseConfig;
  readonly redis: RedisConfig;
  readonly kafka: KafkaConfig;
  readonly cacheTtlSeconds: number;
  readonly rateLimitPerMinute: number;
  readonly corsOrigins: readonly string[];
  readonly shutdownDelayMs: number;
  readonly auth: AuthConfig | undefined;
  /** MariaDB max_statement_time of every API session, in milliseconds. */
  readonly dbStatementTimeoutMs: number;
  /** Searches (GET /api/memos?q=) per minute per client, on top of the general budget; 0: no own budget. */
  readonly rateLimitSearchPerMinute: number;
  /** Proxies whose X-Forwarded-For is believed, as CIDR ranges; empty: the socket peer is the client. */
  readonly trustedProxyCidrs: readonly string[];
  /** Prepended (with ":") to every Redis key, so stacks sharing one Redis never share entries. */
  readonly cacheKeyPrefix: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  // An empty value is what a Kubernetes env entry without a value yields; treat it as unset
  // so the default (or the "required" error) applies rather than a confusing parse error.
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function required(env: Env, name: string): string {
  const value = raw(env, name);
  if (value === undefined) throw new ConfigError(name, 'is required but not set');
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got "${value}"`);
  }
  const parsed = Number(value);
  if (parsed < min || parsed > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${value}`);
  }
  return parsed;
}

function hostname(env: Env, name: string): string {
  const value = required(env, name);
  if (!/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:]+\]?$/.test(value)) {
    throw new ConfigError(name, `expected a host name or IP address, got "${value}"`);
  }
  return value;
}

/** The non-empty entries of a comma-separated setting, trimmed. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function brokers(env: Env, name: string): string[] {
  const list = commaList(required(env, name));
  if (list.length === 0) throw new ConfigError(name, 'expected a comma-separated list of host:port');
  for (const broker of list) {
    const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(broker);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new ConfigError(name, `expected host:port entries, got "${broker}"`);
    }
  }
  return list;
}

function origins(env: Env, name: string): string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  const list = commaList(value);
  for (const origin of list) {
    if (origin === '*') continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(name, `expected origins like https://example.com, got "${origin}"`);
    }
    if (url.origin !== origin) {
      throw new ConfigError(name, `expected a bare origin (scheme://host[:port]), got "${origin}"`);
    }
  }
  return list;
}

/** CIDR ranges like 10.0.0.0/8 or fd00::/8 (a bare address is its own /32 or /128). */
function cidrs(env: Env, name: string): string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  const list = commaList(value);
  for (const entry of list) {
    if (parseCidr(entry) === undefined) {
      throw new ConfigError(name, `expected CIDR ranges like 10.0.0.0/8 or fd00::/8, got "${entry}"`);
    }
  }
  return list;
}

function plainName(env: Env, name: string, fallback: string, pattern: RegExp, what: string): string {
  const value = raw(env, name) ?? fallback;
  if (!pattern.test(value)) throw new ConfigError(name, `expected ${what}, got "${value}"`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (value !== 'true' && value !== 'false') {
    throw new ConfigError(name, `expected true or false, got "${value}"`);
  }
  return value === 'true';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An issuer is an https URL without query or fragment (OpenID Connect Discovery 1.0, section 2).
 * Plain http is accepted for a loopback host only, where tests run their own provider.
 */
function issuerUrl(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      name,
      `expected an https URL like https://login.example.com/realms/memo, got "${value}"`,
    );
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(name, `expected an https URL (http only for localhost), got "${value}"`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(name, `expected a URL without query, fragment or credentials, got "${value}"`);
  }
  // Memos store the issuer of their owner in a 255-character column.
  if (value.length > 255) throw new ConfigError(name, `expected at most 255 characters, got ${value.length}`);
  return value;
}

function claimName(env: Env, name: string, fallback: string): string {
  return plainName(env, name, fallback, /^[A-Za-z0-9_:/.-]{1,200}$/, 'a claim name (dots for nested claims)');
}

/** The OIDC_* settings; they are rejected when set without OIDC_ISSUER_URL, which they would not affect. */
export function loadAuthConfig(env: Env = process.env): AuthConfig | undefined {
  const issuer = issuerUrl(env, 'OIDC_ISSUER_URL');
  const audience = raw(env, 'OIDC_AUDIENCE');
  const rolesClaim = claimName(env, 'OIDC_ROLES_CLAIM', 'groups');
  const adminRole = raw(env, 'OIDC_ADMIN_ROLE');
  const nameClaim = claimName(env, 'OIDC_NAME_CLAIM', 'name');
  const requiredForReads = boolean(env, 'AUTH_REQUIRED_FOR_READS', false);
  if (issuer === undefined) {
    if (audience !== undefined) throw new ConfigError('OIDC_AUDIENCE', 'is set but OIDC_ISSUER_URL is not');
    if (adminRole !== undefined)
      throw new ConfigError('OIDC_ADMIN_ROLE', 'is set but OIDC_ISSUER_URL is not');
    if (requiredForReads) {
      throw new ConfigError(
        'AUTH_REQUIRED_FOR_READS',
        'is true but OIDC_ISSUER_URL is not set (nobody could read)',
      );
    }
    return undefined;
  }
  if (audience === undefined) {
    throw new ConfigError(
      'OIDC_AUDIENCE',
      'is required with OIDC_ISSUER_URL (the client id or API identifier tokens are issued for)',
    );
  }
  if (adminRole !== undefined && /[\u0000-\u001f\u007f]/.test(adminRole)) {
    throw new ConfigError('OIDC_ADMIN_ROLE', 'must not contain control characters');
  }
  return { issuerUrl: issuer, audience, rolesClaim, adminRole, nameClaim, requiredForReads };
}

/** Passwords are taken verbatim: trimming would corrupt one that ends in a space. Empty is allowed. */
function password(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined) throw new ConfigError(name, 'is required but not set');
  return value;
}

/** Where the database is; who logs in is up to the caller (the API and the migrations use different accounts). */
function databaseServer(env: Env): Omit<DatabaseConfig, 'user' | 'password'> {
  return {
    host: hostname(env, 'DB_HOST'),
    port: integer(env, 'DB_PORT', 3306, 1, 65535),
    name: plainName(env, 'DB_NAME', 'memos', /^[A-Za-z0-9_]{1,64}$/, 'letters, digits and _ (max 64)'),
    poolMax: integer(env, 'DB_POOL_MAX', 10, 1, 1000),
  };
}

/** The API's database account: data statements only (SELECT, INSERT, UPDATE, DELETE). */
export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  return { ...databaseServer(env), user: required(env, 'DB_USER'), password: password(env, 'DB_PASSWORD') };
}

/**
 * Only what migrations need, so the migration init container does not need Redis or Kafka. The
 * migration account is the one that may change the schema; the API's account may not, so it
 * has no say here and no fallback to it.
 */
export function loadMigrationDatabaseConfig(env: Env = process.env): DatabaseConfig {
  return {
    ...databaseServer(env),
    user: required(env, 'DB_MIGRATION_USER'),
    password: password(env, 'DB_MIGRATION_PASSWORD'),
  };
}

/** LOG_LEVEL alone: the migration entry logs at the level the service would. */
export function loadLogLevel(env: Env = process.env): LogLevel {
  const logLevel = (raw(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  return logLevel as LogLevel;
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 1, 65535);
  const metricsPort = integer(env, 'METRICS_PORT', 9464, 1, 65535);
  if (metricsPort === port) {
    throw new ConfigError(
      'METRICS_PORT',
      `must differ from PORT (${port}): metrics are kept off the public port`,
    );
  }
  const db = loadDatabaseConfig(env);
  return {
    port,
    metricsPort,
    logLevel: loadLogLevel(env),
    db,
    redis: {
      host: hostname(env, 'REDIS_HOST'),
      port: integer(env, 'REDIS_PORT', 6379, 1, 65535),
      password: env.REDIS_PASSWORD ?? '',
    },
    kafka: {
      brokers: brokers(env, 'KAFKA_BROKERS'),
      topic: plainName(env, 'KAFKA_TOPIC', 'memo_events', /^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
      clientId: plainName(env, 'KAFKA_CLIENT_ID', 'memo-api', /^[A-Za-z0-9._-]{1,255}$/, 'a client id'),
    },
    // 0 turns the memo cache off (rate limiting still uses Redis).
    cacheTtlSeconds: integer(env, 'CACHE_TTL_SECONDS', 300, 0, 86_400),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 100, 0, 1_000_000),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    shutdownDelayMs: integer(env, 'SHUTDOWN_DELAY_MS', 5000, 0, 120_000),
    auth: loadAuthConfig(env),
    // Below 100 ms ordinary writes of a large memo would fail; above 10 min is no limit at all.
    dbStatementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 2000, 100, 600_000),
    rateLimitSearchPerMinute: integer(env, 'RATE_LIMIT_SEARCH_PER_MINUTE', 30, 0, 1_000_000),
    trustedProxyCidrs: cidrs(env, 'TRUSTED_PROXY_CIDRS'),
    // By default the database the cache mirrors: two stacks on one Redis have different databases.
    cacheKeyPrefix: plainName(
      env,
      'CACHE_KEY_PREFIX',
      `memo:${db.host}:${db.port}/${db.name}`,
      /^[A-Za-z0-9._:/-]{1,200}$/,
      'letters, digits and . _ : / - (max 200)',
    ),
  };
}
