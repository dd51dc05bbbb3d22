import { createDb, migrateLatest } from '../../src/db';
import { OUTBOX_COLUMNS, OUTBOX_TABLE } from '../../src/events/outbox-table';
import { describeWithServices, TEST_DB } from '../support/services';

const MIGRATIONS = ['20250101000000_create_memos.ts', '20261202000000_memo_owner.ts'];

describeWithServices('knex migrations (node dist/migrate.js)', ['mariadb'], () => {
  const name = `memo_test_migrations_${process.pid}`;
  const admin = () => createDb({ ...TEST_DB, name: 'information_schema', poolMax: 1 });

  beforeAll(async () => {
    const db = admin();
    await db.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    await db.raw(`CREATE DATABASE \`${name}\``);
    await db.destroy();
  });
  afterAll(async () => {
    const db = admin();
    await db.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    await db.destroy();
  });

  it('when several replicas migrate a fresh database at once, then all succeed and each migration is applied once', async () => {
    const replicas = Array.from({ length: 4 }, () =>
      createDb({ ...TEST_DB, name, poolMax: 2 }, { acquireTimeoutMs: 20_000 }),
    );
    try {
      const applied = await Promise.all(replicas.map((db) => migrateLatest(db, name)));
      expect(applied.flat()).toEqual(MIGRATIONS);
      expect(await migrateLatest(replicas[0], name)).toEqual([]);
      const rows = await replicas[0]('knex_migrations').select('name');
      expect(rows.map((r: { name: string }) => r.name)).toEqual(MIGRATIONS);
      const [tables] = (await replicas[0].raw('SHOW TABLES')) as [Record<string, string>[]];
      expect(tables.map((t) => Object.values(t)[0]).sort()).toEqual(
        ['knex_migrations', 'knex_migrations_lock', 'memo_tags', 'memo_tokens', 'memos', OUTBOX_TABLE].sort(),
      );
    } finally {
      await Promise.all(replicas.map((db) => db.destroy()));
    }
  });

  it('when the schema is rolled back and migrated again, then the migration is re-runnable', async () => {
    const db = createDb({ ...TEST_DB, name, poolMax: 2 });
    try {
      await db.migrate.rollback(undefined, true);
      const [tables] = (await db.raw("SHOW TABLES LIKE 'memo%'")) as [unknown[]];
      expect(tables).toHaveLength(0);
      expect(await migrateLatest(db, name)).toEqual(MIGRATIONS);
    } finally {
      await db.destroy();
    }
  });

  it('when memos exist before the owner migration, then they keep their data and get no owner', async () => {
    const db = createDb({ ...TEST_DB, name, poolMax: 2 });
    try {
      await db.migrate.rollback(undefined, true);
      await db.migrate.up({ name: MIGRATIONS[0] });
      const now = new Date();
      const [id] = await db('memos').insert({
        title: 'before sign-in',
        content: 'x',
        priority: 2,
        author: 'kim',
        version: 3,
        created_at: now,
        updated_at: now,
      });
      expect(await migrateLatest(db, name)).toEqual([MIGRATIONS[1]]);
      expect(
        await db('memos').where({ id }).first('title', 'author', 'version', 'owner_sub', 'owner_iss'),
      ).toEqual({
        title: 'before sign-in',
        author: 'kim',
        version: 3,
        owner_sub: null,
        owner_iss: null,
      });
      // Re-runnable: a second run of the DDL (an interrupted migration retried) changes nothing.
      const { up } = await import('../../src/migrations/20261202000000_memo_owner');
      await up(db);
      await db.migrate.down({ name: MIGRATIONS[1] });
      const [columns] = (await db.raw("SHOW COLUMNS FROM memos LIKE 'owner%'")) as [unknown[]];
      expect(columns).toHaveLength(0);
      expect(await migrateLatest(db, name)).toEqual([MIGRATIONS[1]]);
    } finally {
      await db.destroy();
    }
  });

  it('when the migrations have run, then the outbox table has exactly the columns events/outbox-table.ts names', async () => {
    const db = createDb({ ...TEST_DB, name, poolMax: 2 });
    try {
      await migrateLatest(db, name);
      const [columns] = (await db.raw(`SHOW COLUMNS FROM ??`, [OUTBOX_TABLE])) as [{ Field: string }[]];
      expect(columns.map((c) => c.Field).sort()).toEqual(Object.values(OUTBOX_COLUMNS).sort());
    } finally {
      await db.destroy();
    }
  });
});
