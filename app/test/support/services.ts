import { spawnSync } from 'node:child_process';
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import { createDb } from '../../src/db';
import { testDbAccount } from '../../../scripts/services/test-db-account';

/*
 * Reachability of the real services the integration suites use. Outside CI a missing service
 * skips the suite with a loud message; with CI=true or REQUIRE_SERVICES=1 it fails the suite,
 * so CI can never go green by skipping.
 */

export type ServiceName = 'mariadb' | 'redis';

export const TEST_DB = testDbAccount(process.env, 'TEST_DB_');
export const TEST_REDIS = {
  host: process.env.TEST_REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_REDIS_PORT ?? 6379),
};

const ENDPOINTS: Record<ServiceName, { host: string; port: number }> = {
  mariadb: TEST_DB,
  redis: TEST_REDIS,
};

const required = (): boolean => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

/** A synchronous TCP probe (in a child process) so suites can decide at definition time. */
export function unreachable(needs: readonly ServiceName[]): ServiceName[] {
  const targets = needs.map((n) => ENDPOINTS[n]);
  const script = `
    const net = require('node:net');
    const targets = ${JSON.stringify(targets)};
    Promise.all(targets.map(({ host, port }) => new Promise((resolve) => {
      const s = net.connect({ host, port, timeout: 1500 });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('timeout', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(false));
    }))).then((r) => process.stdout.write(JSON.stringify(r)));`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  const results = JSON.parse(out.stdout || '[]') as boolean[];
  return needs.filter((_, i) => results[i] !== true);
}

/** describe() that runs only when the services are reachable, or fails loudly in CI. */
export function describeWithServices(title: string, needs: readonly ServiceName[], body: () => void): void {
  const missing = unreachable(needs);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const where = missing.map((m) => `${m} at ${ENDPOINTS[m].host}:${ENDPOINTS[m].port}`).join(', ');
  const message = `${title}: ${where} unreachable. Start the services with: bash scripts/services/up.sh`;
  if (required()) {
    describe(title, () => {
      it('when the services it needs are unreachable in CI, then the suite fails', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED *** ${message}\n`);
  describe.skip(title, body);
}

export interface TestDatabase {
  readonly name: string;
  readonly db: Knex;
  readonly config: Config;
  drop(): Promise<void>;
}

/** A full Config pointing at the test services; suites override what they exercise. */
export function testConfig(dbName: string, overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    metricsPort: 0,
    logLevel: 'error',
    db: { ...TEST_DB, name: dbName, poolMax: 5 },
    redis: { ...TEST_REDIS, password: '' },
    kafka: { brokers: ['127.0.0.1:9092'], topic: `memo_events_${dbName}`, clientId: 'memo-api-test' },
    cacheTtlSeconds: 300,
    rateLimitPerMinute: 0,
    corsOrigins: [],
    shutdownDelayMs: 0,
    auth: undefined,
    dbStatementTimeoutMs: 2000,
    rateLimitSearchPerMinute: 0,
    trustedProxyCidrs: [],
    cacheKeyPrefix: `memo-test:${dbName}`,
    ...overrides,
  };
}

/** Creates memo_test_<suite>_<pid>, migrates it, and returns a knex bound to it. */
export async function createTestDatabase(suite: string): Promise<TestDatabase> {
  const name = `memo_test_${suite.replace(/[^a-z0-9_]/gi, '_')}_${process.pid}`;
  const admin = createDb({ ...TEST_DB, name: 'information_schema', poolMax: 1 });
  try {
    await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.destroy();
  }
  const config = testConfig(name);
  const db = createDb(config.db);
  await db.migrate.latest();
  return {
    name,
    db,
    config,
    async drop() {
      await db.destroy();
      const cleanup = createDb({ ...TEST_DB, name: 'information_schema', poolMax: 1 });
      try {
        await cleanup.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await cleanup.destroy();
      }
    },
  };
}
