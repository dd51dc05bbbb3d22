import net from 'node:net';
import type { Knex } from 'knex';
import { createDb } from '../../app/src/db';
import type { DatabaseConfig } from '../../app/src/config';
import { testDbAccount } from '../../scripts/services/test-db-account';

/** The services of the memo service issue (scripts/services/up.sh), overridable for other hosts. */
export const SERVICES = {
  db: testDbAccount(process.env, 'BENCH_DB_'),
  redis: {
    host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1',
    port: Number(process.env.BENCH_REDIS_PORT ?? 6379),
  },
  kafka: { broker: process.env.BENCH_KAFKA_BROKER ?? '127.0.0.1:9092' },
} as const;

export function dbConfig(name: string, poolMax = 10): DatabaseConfig {
  return { ...SERVICES.db, name, poolMax };
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Fails loudly, naming each missing service: a bench against a missing service measures nothing. */
export async function requireServices(needs: readonly ('mariadb' | 'redis' | 'kafka')[]): Promise<void> {
  const [kHost, kPort] = SERVICES.kafka.broker.split(':');
  const endpoints = {
    mariadb: [SERVICES.db.host, SERVICES.db.port],
    redis: [SERVICES.redis.host, SERVICES.redis.port],
    kafka: [kHost, Number(kPort)],
  } as const;
  const missing: string[] = [];
  for (const need of needs) {
    const [host, port] = endpoints[need];
    if (!(await reachable(host, port))) missing.push(`${need} at ${host}:${port}`);
  }
  if (missing.length > 0) {
    throw new Error(
      `bench needs ${missing.join(', ')}, which did not answer. Start them with: bash scripts/services/up.sh`,
    );
  }
}

/** Runs fn with a knex on `information_schema` (open to every account), for CREATE/DROP DATABASE and global status. */
export async function withAdmin<T>(fn: (admin: Knex) => Promise<T>): Promise<T> {
  const admin = createDb(dbConfig('information_schema', 1));
  try {
    return await fn(admin);
  } finally {
    await admin.destroy();
  }
}

/** Runs fn with a one-connection knex on `name`. */
export async function withDb<T>(name: string, fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = createDb(dbConfig(name, 1));
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** Drops and recreates a database, then applies the app's own migrations to it. */
export async function freshDatabase(name: string): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  });
  const db = createDb(dbConfig(name, 1));
  try {
    await db.migrate.latest();
  } finally {
    await db.destroy();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  return withAdmin(async (admin) => {
    const [rows] = (await admin.raw(
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    )) as [unknown[]];
    return rows.length > 0;
  });
}
