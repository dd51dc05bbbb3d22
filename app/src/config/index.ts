/**
 * The one place that reads the environment. Every variable of the service contract is parsed
 * here, once, at start, by its entry in the contract table (contract.ts); anything missing or
 * malformed stops the process with a message that names the variable, so a bad Deployment
 * fails loudly instead of half-working. Rules between variables are kept here.
 */

import {
  ComputedName,
  interpret,
  LogLevel,
  OptionalName,
  SettledName,
  ValueOf,
  VariableName,
} from './contract';
import { ContractViolation } from './kinds';

export type { LogLevel } from './contract';

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

function parsed(name: VariableName, env: Env, computed?: unknown): unknown {
  try {
    return interpret(name, env[name], computed);
  } catch (error) {
    if (error instanceof ContractViolation) throw new ConfigError(name, error.message);
    throw error;
  }
}

/** A variable with a default or required: always a value. */
function read<N extends SettledName>(env: Env, name: N): ValueOf<N> {
  return parsed(name, env) as ValueOf<N>;
}

function readOptional<N extends OptionalName>(env: Env, name: N): ValueOf<N> | undefined {
  return parsed(name, env) as ValueOf<N> | undefined;
}

/** A variable whose default is derived here from others (`computed`). */
function readComputed<N extends ComputedName>(env: Env, name: N, computed: ValueOf<N>): ValueOf<N> {
  return parsed(name, env, computed) as ValueOf<N>;
}

/** The OIDC_* settings; they are rejected when set without OIDC_ISSUER_URL, which they would not affect. */
export function loadAuthConfig(env: Env = process.env): AuthConfig | undefined {
  const issuer = readOptional(env, 'OIDC_ISSUER_URL');
  const audience = readOptional(env, 'OIDC_AUDIENCE');
  const rolesClaim = read(env, 'OIDC_ROLES_CLAIM');
  const adminRole = readOptional(env, 'OIDC_ADMIN_ROLE');
  const nameClaim = read(env, 'OIDC_NAME_CLAIM');
  const requiredForReads = read(env, 'AUTH_REQUIRED_FOR_READS');
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
  return { issuerUrl: issuer, audience, rolesClaim, adminRole, nameClaim, requiredForReads };
}

/** Where the database is; who logs in is up to the caller (the API and the migrations use different accounts). */
function databaseServer(env: Env): Omit<DatabaseConfig, 'user' | 'password'> {
  return {
    host: read(env, 'DB_HOST'),
    port: read(env, 'DB_PORT'),
    name: read(env, 'DB_NAME'),
    poolMax: read(env, 'DB_POOL_MAX'),
  };
}

/** The API's database account: data statements only (SELECT, INSERT, UPDATE, DELETE). */
export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  return { ...databaseServer(env), user: read(env, 'DB_USER'), password: read(env, 'DB_PASSWORD') };
}

/**
 * Only what migrations need, so the migration init container does not need Redis or Kafka. The
 * migration account is the one that may change the schema; the API's account may not, so it
 * has no say here and no fallback to it.
 */
export function loadMigrationDatabaseConfig(env: Env = process.env): DatabaseConfig {
  return {
    ...databaseServer(env),
    user: read(env, 'DB_MIGRATION_USER'),
    password: read(env, 'DB_MIGRATION_PASSWORD'),
  };
}

/** LOG_LEVEL alone: the migration entry logs at the level the service would. */
export function loadLogLevel(env: Env = process.env): LogLevel {
  return read(env, 'LOG_LEVEL');
}

export function loadConfig(env: Env = process.env): Config {
  const port = read(env, 'PORT');
  const metricsPort = read(env, 'METRICS_PORT');
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
      host: read(env, 'REDIS_HOST'),
      port: read(env, 'REDIS_PORT'),
      password: read(env, 'REDIS_PASSWORD'),
    },
    kafka: {
      brokers: read(env, 'KAFKA_BROKERS'),
      topic: read(env, 'KAFKA_TOPIC'),
      clientId: read(env, 'KAFKA_CLIENT_ID'),
    },
    cacheTtlSeconds: read(env, 'CACHE_TTL_SECONDS'),
    rateLimitPerMinute: read(env, 'RATE_LIMIT_PER_MINUTE'),
    corsOrigins: read(env, 'CORS_ORIGINS'),
    shutdownDelayMs: read(env, 'SHUTDOWN_DELAY_MS'),
    auth: loadAuthConfig(env),
    dbStatementTimeoutMs: read(env, 'DB_STATEMENT_TIMEOUT_MS'),
    rateLimitSearchPerMinute: read(env, 'RATE_LIMIT_SEARCH_PER_MINUTE'),
    trustedProxyCidrs: read(env, 'TRUSTED_PROXY_CIDRS'),
    cacheKeyPrefix: readComputed(env, 'CACHE_KEY_PREFIX', `memo:${db.host}:${db.port}/${db.name}`),
  };
}
