import { ConfigError, loadLogLevel, loadMigrationDatabaseConfig } from './config';
import { createDb, migrateLatest } from './db';
import { createLogger } from './logger';

/**
 * Entry of the migration init container. It logs in with the migration account
 * (DB_MIGRATION_USER), the only one allowed to change the schema. Several replicas may start
 * together: migrateLatest serialises them with a database lock, so each migration is applied once.
 */
async function main(): Promise<void> {
  let logger = createLogger({ level: 'info' });
  let config;
  try {
    logger = createLogger({ level: loadLogLevel() });
    config = loadMigrationDatabaseConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.error('invalid configuration', { variable: err.variable, detail: err.message });
      process.exit(1);
    }
    throw err;
  }
  // One connection holds the named lock while another runs the migrations.
  const db = createDb(
    { ...config, poolMax: Math.max(2, config.poolMax) },
    { acquireTimeoutMs: 30_000, connectTimeoutMs: 10_000, logger },
  );
  try {
    const applied = await migrateLatest(db, config.name);
    logger.info('migrations applied', { applied });
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'migration failed', error: String(err) })}\n`,
  );
  process.exit(1);
});
