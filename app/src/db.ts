import path from 'node:path';
import knex, { Knex } from 'knex';
import type { DatabaseConfig } from './config';
import { Logger, silentLogger } from './logger';
import type { PoolStats } from './metrics';

/** The longest a request waits for a pooled connection before it fails (503) instead of queueing. */
export const DB_ACQUIRE_TIMEOUT_MS = 3000;

export interface DbOptions {
  /** Milliseconds a request waits for a pooled connection before failing fast. */
  readonly acquireTimeoutMs?: number;
  /** Milliseconds to wait for a TCP connection to the server. */
  readonly connectTimeoutMs?: number;
  /** Where knex's own warnings go (it would otherwise console.log them). @default silent */
  readonly logger?: Logger;
  /**
   * MariaDB max_statement_time of every session of the pool, in milliseconds: a statement that
   * runs longer is aborted by the server (error 1969) and its connection is free again.
   * Migrations pass none: DDL on a large table may rightly take minutes.
   * @default no limit
   */
  readonly statementTimeoutMs?: number;
}

/** MariaDB's error for a statement aborted by max_statement_time (ER_STATEMENT_TIMEOUT). */
export const ER_STATEMENT_TIMEOUT = 1969;

export function isStatementTimeout(err: unknown): boolean {
  return (err as { errno?: unknown } | undefined)?.errno === ER_STATEMENT_TIMEOUT;
}

/**
 * knex over mysql2 for MariaDB. Sessions run in UTC so DATETIME columns (which carry no zone)
 * mean the same thing whatever the pod's or the server's time zone is.
 */
export function createDb(config: DatabaseConfig, options: DbOptions = {}): Knex {
  // Seconds with a fraction: the server variable's unit. Set per session, so it holds for
  // every statement of the pool (the search's own, the writes' and the probes') with no
  // statement able to forget it.
  const sessionSetup =
    "SET time_zone = '+00:00'" +
    (options.statementTimeoutMs === undefined
      ? ''
      : `, max_statement_time = ${(options.statementTimeoutMs / 1000).toFixed(3)}`);
  return knex({
    client: 'mysql2',
    connection: {
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.name,
      charset: 'utf8mb4',
      timezone: 'Z',
      connectTimeout: options.connectTimeoutMs ?? 2000,
      // BIGINT ids stay numbers: AUTO_INCREMENT will not pass 2^53 in this service's lifetime.
      supportBigNumbers: true,
      bigNumberStrings: false,
    },
    pool: {
      min: 0,
      max: config.poolMax,
      afterCreate(
        conn: { query: (sql: string, cb: (err: Error | null) => void) => void },
        done: (err: Error | null, c: unknown) => void,
      ) {
        conn.query(sessionSetup, (err) => done(err, conn));
      },
    },
    // A request must not queue behind a dead database for the default 60 s; it fails and the
    // client (or the readiness probe) learns quickly.
    acquireConnectionTimeout: options.acquireTimeoutMs ?? DB_ACQUIRE_TIMEOUT_MS,
    migrations: migrationConfig(),
    log: knexLog(options.logger ?? silentLogger),
  });
}

function knexLog(logger: Logger): Knex.Config['log'] {
  const text = (m: unknown): string => (m instanceof Error ? m.message : String(m));
  return {
    warn: (m: unknown) => logger.warn('knex', { detail: text(m) }),
    error: (m: unknown) => logger.error('knex', { detail: text(m) }),
    deprecate: (method: string, alternative: string) =>
      logger.warn('knex deprecation', { method, alternative }),
    debug: (m: unknown) => logger.debug('knex', { detail: text(m) }),
  };
}

/** Migrations are compiled next to this file: .ts under ts-node/jest, .js in the image. */
export function migrationConfig(): Knex.MigratorConfig {
  return {
    directory: path.join(__dirname, 'migrations'),
    loadExtensions: [path.extname(__filename)],
    tableName: 'knex_migrations',
  };
}

export function poolStats(db: Knex): PoolStats | undefined {
  const client = db.client as { pool?: PoolStats };
  return client.pool;
}

/**
 * knex's own migration lock lives in a table that knex creates on first use, and replicas
 * creating it at once fail with "table already exists". A MariaDB named lock, held on one
 * connection (a transaction pins it) around the whole run, serialises the replicas from the
 * very first statement; the next holder then finds nothing left to apply.
 */
export async function migrateLatest(db: Knex, databaseName: string, waitSeconds = 120): Promise<string[]> {
  const lockName = `memo_migrations.${databaseName}`.slice(0, 64);
  return db.transaction(async (trx) => {
    const [[{ acquired }]] = (await trx.raw('SELECT GET_LOCK(?, ?) AS acquired', [
      lockName,
      waitSeconds,
    ])) as [[{ acquired: number | null }]];
    if (acquired !== 1)
      throw new Error(`could not take the migration lock ${lockName} within ${waitSeconds} s`);
    try {
      const [, applied] = (await db.migrate.latest()) as [number, string[]];
      return applied;
    } finally {
      await trx.raw('SELECT RELEASE_LOCK(?)', [lockName]);
    }
  });
}
