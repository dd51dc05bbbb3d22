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

export interface Config {
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly db: DatabaseConfig;
  readonly redis: RedisConfig;
  readonly kafka: KafkaConfig;
  readonly cacheTtlSeconds: number;
  readonly rateLimitPerMinute: number;
  readonly corsOrigins: readonly string[];
  readonly shutdownDelayMs: number;
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

function brokers(env: Env, name: string): string[] {
  const list = required(env, name)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
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
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
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
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
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

/** Only what migrations need, so the migration init container does not need Redis or Kafka. */
export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  const password = env.DB_PASSWORD;
  if (password === undefined) throw new ConfigError('DB_PASSWORD', 'is required but not set');
  return {
    host: hostname(env, 'DB_HOST'),
    port: integer(env, 'DB_PORT', 3306, 1, 65535),
    name: plainName(env, 'DB_NAME', 'memos', /^[A-Za-z0-9_]{1,64}$/, 'letters, digits and _ (max 64)'),
    user: required(env, 'DB_USER'),
    // Passwords are taken verbatim: trimming would corrupt one that ends in a space.
    password,
    poolMax: integer(env, 'DB_POOL_MAX', 10, 1, 1000),
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
  const db = loadDatabaseConfig(env);
  return {
    port: integer(env, 'PORT', 3000, 1, 65535),
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
