import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Testing } from 'cdk8s';
import type { Knex } from 'knex';
import request from 'supertest';
import { MARIADB_SECRET_KEYS, MariaDbStatefulSet } from '../../../charts';
import { runMariadbInitScript } from '../../../validation/programs/mariadb';
import { DatabaseConfig, loadDatabaseConfig, loadMigrationDatabaseConfig } from '../../src/config';
import { createDb, migrateLatest } from '../../src/db';
import { createLeaderLock } from '../../src/events/leader-lock';
import { OUTBOX_TABLE } from '../../src/events/outbox-table';
import { createOutboxStore } from '../../src/events/outbox-store';
import { silentLogger } from '../../src/logger';
import { buildTestApp, TestApp } from '../support/app';
import { createScratchMariaDb, ScratchMariaDb } from '../support/scratch-mariadb';
import { describeWithServices, testConfig } from '../support/services';

/*
 * The two database accounts exactly as the MariaDB StatefulSet creates them: its initdb script
 * (the construct's own text, as dist/ ships it) runs against a scratch mariadbd with the
 * environment the container gets, because creating accounts needs root, which the shared test
 * server's account rightly lacks. Then the migrations run as the migration account, the API's
 * CRUD and the outbox relay's SQL as the API account, and the API account is shown to be
 * refused everything else.
 */

type Env = Record<string, string>;
interface ContainerEnv {
  readonly name: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly key: string } };
}

/** Passwords with the characters the script must escape (quote, backslash, double quote). */
const SECRET_VALUES: Readonly<Record<string, string>> = {
  [MARIADB_SECRET_KEYS.PASSWORD]: `api p'ss\\w"rd`,
  [MARIADB_SECRET_KEYS.MIGRATION_PASSWORD]: `ddl p'ss\\w"rd`,
};

/** The mariadb container's environment in synthesized manifests, Secret references filled with SECRET_VALUES. */
function containerEnv(manifests: readonly { kind: string; spec?: unknown }[]): Env {
  const statefulSet = manifests.find((m) => m.kind === 'StatefulSet') as
    { spec: { template: { spec: { containers: { name: string; env: ContainerEnv[] }[] } } } } | undefined;
  const mariadb = statefulSet?.spec.template.spec.containers.find((c) => c.name === 'mariadb');
  const env: Env = {};
  for (const e of mariadb?.env ?? []) {
    const key = e.valueFrom?.secretKeyRef?.key;
    if (key !== undefined && SECRET_VALUES[key] !== undefined) env[e.name] = SECRET_VALUES[key];
  }
  return env;
}

/** The MySQL error code a statement fails with, or 'ok'. */
async function outcome(db: Knex, sql: string): Promise<string> {
  try {
    await db.raw(sql);
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? err);
  }
}

describeWithServices('database accounts from the MariaDB initdb script', ['redis'], () => {
  let scratch: ScratchMariaDb;
  let mariadb: MariaDbStatefulSet;
  let apiConfig: DatabaseConfig;
  let migrationConfig: DatabaseConfig;
  let apiDb: Knex;
  let t: TestApp;

  beforeAll(async () => {
    scratch = await createScratchMariaDb();
    const chart = Testing.chart();
    mariadb = new MariaDbStatefulSet(chart, 'mariadb');
    const env = containerEnv(Testing.synth(chart) as { kind: string; spec?: unknown }[]);
    expect(Object.keys(env).sort()).toEqual(['APP_USER_PASSWORD', 'MIGRATION_USER_PASSWORD']);
    const root = { host: scratch.host, port: scratch.port, user: scratch.user, password: scratch.password };
    await runMariadbInitScript(root, mariadb.accountsScript, env);
    // Another application's database on the same server, which neither account may touch.
    const admin = createDb({ ...root, name: 'mysql', poolMax: 1 });
    try {
      await admin.raw('CREATE DATABASE other_app');
      await admin.raw('CREATE TABLE other_app.secrets (id INT PRIMARY KEY, v VARCHAR(10))');
      await admin.raw("INSERT INTO other_app.secrets VALUES (1, 'x')");
    } finally {
      await admin.destroy();
    }
    // Both configs come from the environment the API and the migration container get.
    const server = { DB_HOST: scratch.host, DB_PORT: String(scratch.port), DB_NAME: mariadb.databaseName };
    apiConfig = loadDatabaseConfig({
      ...server,
      DB_USER: mariadb.username,
      DB_PASSWORD: SECRET_VALUES[MARIADB_SECRET_KEYS.PASSWORD],
    });
    migrationConfig = loadMigrationDatabaseConfig({
      ...server,
      DB_MIGRATION_USER: mariadb.migrationUsername,
      DB_MIGRATION_PASSWORD: SECRET_VALUES[MARIADB_SECRET_KEYS.MIGRATION_PASSWORD],
    });
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    await apiDb?.destroy();
    await scratch?.destroy();
  });

  it('when the migration account migrates the fresh database, then every table is created', async () => {
    const db = createDb({ ...migrationConfig, poolMax: 2 });
    try {
      // Every migration the service ships, the newest included (ALTER TABLE is DDL as well).
      const shipped = readdirSync(path.resolve(__dirname, '../../src/migrations')).sort();
      expect(await migrateLatest(db, migrationConfig.name)).toEqual(shipped);
      const [tables] = (await db.raw('SHOW TABLES')) as [Record<string, string>[]];
      expect(tables.map((r) => Object.values(r)[0]).sort()).toEqual(
        ['knex_migrations', 'knex_migrations_lock', 'memo_tags', 'memo_tokens', 'memos', OUTBOX_TABLE].sort(),
      );
    } finally {
      await db.destroy();
    }
  });

  it("when the API account runs the service's CRUD, then create, read, search, update and delete all work", async () => {
    apiDb = createDb(apiConfig);
    t = await buildTestApp(
      {
        name: `accounts_${process.pid}`,
        db: apiDb,
        config: testConfig(apiConfig.name, { db: apiConfig }),
        drop: async () => undefined,
      },
      { keyPrefix: `accounts_${process.pid}:` },
    );
    const api = () => request(t.callback);
    const created = await api()
      .post('/api/memos')
      .send({ title: 'least privilege', content: 'rows only', tags: ['grants'], priority: 2 })
      .expect(201);
    const id = created.body.id as number;
    await api().get(`/api/memos/${id}`).expect(200);
    const found = await api().get('/api/memos?q=privilege').expect(200);
    expect(found.body.items.map((m: { id: number }) => m.id)).toEqual([id]);
    await api().patch(`/api/memos/${id}`).set('If-Match', '"1"').send({ priority: 3 }).expect(200);
    await api().get('/api/tags').expect(200);
    // The foreign keys cascade to memo_tags and memo_tokens without a grant of their own.
    await api().delete(`/api/memos/${id}`).expect(204);
    await api().get(`/api/memos/${id}`).expect(404);
    const [[left]] = (await apiDb.raw(
      'SELECT (SELECT COUNT(*) FROM memo_tags) AS tags, (SELECT COUNT(*) FROM memo_tokens) AS tokens',
    )) as [[{ tags: number; tokens: number }]];
    expect(left).toEqual({ tags: 0, tokens: 0 });
  });

  it("when the API account runs the outbox relay's SQL, then GET_LOCK, FOR UPDATE, marking and pruning need no further grant", async () => {
    const lock = createLeaderLock(apiConfig, silentLogger);
    try {
      expect(await lock.tryAcquire()).toBe(true);
      expect(await lock.stillHeld()).toBe(true);
    } finally {
      await lock.close();
    }
    const outbox = createOutboxStore(apiDb);
    const batch = await outbox.nextBatch(100);
    // create, update and delete of the previous test
    expect(batch).toHaveLength(3);
    await outbox.markPublished(batch.map((r) => r.id));
    expect(await outbox.backlog()).toBe(0);
    expect(await outbox.prune(0, 100, 1)).toBe(3);
    await apiDb.transaction(async (trx) => {
      await trx.raw('SELECT id FROM memos ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED');
    });
  });

  it('when the API account tries DDL, then the server refuses every statement and the schema stays', async () => {
    const refused = {
      drop: await outcome(apiDb, 'DROP TABLE memos'),
      alter: await outcome(apiDb, 'ALTER TABLE memos ADD COLUMN x INT'),
      create: await outcome(apiDb, 'CREATE TABLE sneaky (id INT)'),
      index: await outcome(apiDb, 'CREATE INDEX memos_title ON memos (title)'),
      truncate: await outcome(apiDb, `TRUNCATE TABLE ${OUTBOX_TABLE}`),
      dropDatabase: await outcome(apiDb, `DROP DATABASE ${apiConfig.name}`),
      grant: await outcome(apiDb, `GRANT ALL ON ${apiConfig.name}.* TO CURRENT_USER`),
      createUser: await outcome(apiDb, "CREATE USER intruder IDENTIFIED BY 'x'"),
    };
    expect(refused).toEqual({
      drop: 'ER_TABLEACCESS_DENIED_ERROR',
      alter: 'ER_TABLEACCESS_DENIED_ERROR',
      create: 'ER_TABLEACCESS_DENIED_ERROR',
      index: 'ER_TABLEACCESS_DENIED_ERROR',
      truncate: 'ER_TABLEACCESS_DENIED_ERROR',
      dropDatabase: 'ER_DBACCESS_DENIED_ERROR',
      grant: 'ER_DBACCESS_DENIED_ERROR',
      createUser: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
    });
    const [columns] = (await apiDb.raw('SHOW COLUMNS FROM memos')) as [{ Field: string }[]];
    expect(columns.map((c) => c.Field)).not.toContain('x');
  });

  it('when the API account reaches for another database or the system tables, then access is denied', async () => {
    expect({
      read: await outcome(apiDb, 'SELECT * FROM other_app.secrets'),
      write: await outcome(apiDb, "INSERT INTO other_app.secrets VALUES (2, 'y')"),
      users: await outcome(apiDb, 'SELECT user, host FROM mysql.user'),
      use: await outcome(apiDb, 'USE other_app'),
    }).toEqual({
      read: 'ER_TABLEACCESS_DENIED_ERROR',
      write: 'ER_TABLEACCESS_DENIED_ERROR',
      users: 'ER_TABLEACCESS_DENIED_ERROR',
      use: 'ER_DBACCESS_DENIED_ERROR',
    });
    const [grants] = (await apiDb.raw('SHOW GRANTS')) as [Record<string, string>[]];
    expect(grants.map((g) => Object.values(g)[0])).toEqual([
      expect.stringMatching(/^GRANT USAGE ON \*\.\* TO `memo`@`%`/),
      'GRANT SELECT, INSERT, UPDATE, DELETE ON `memos`.* TO `memo`@`%`',
    ]);
  });

  it('when the migration account reaches for another database, then it is denied too: its rights end at the memo database', async () => {
    const db = createDb({ ...migrationConfig, poolMax: 1 });
    try {
      expect({
        read: await outcome(db, 'SELECT * FROM other_app.secrets'),
        drop: await outcome(db, 'DROP TABLE other_app.secrets'),
        createUser: await outcome(db, "CREATE USER intruder IDENTIFIED BY 'x'"),
      }).toEqual({
        read: 'ER_TABLEACCESS_DENIED_ERROR',
        drop: 'ER_TABLEACCESS_DENIED_ERROR',
        createUser: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
      });
    } finally {
      await db.destroy();
    }
  });
});
