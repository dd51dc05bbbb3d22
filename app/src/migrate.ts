import { ConfigError, loadDatabaseConfig } from './config';
import { createDb } from './db';
import { createLogger } from './logger';

/**
 * Entry of the migration init container. knex.migrate.latest() holds knex's migration lock
 * table while it runs, so several replicas starting together apply each migration once.
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: 'info' });
  let config;
  try {
    config = loadDatabaseConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.error('invalid configuration', { variable: err.variable, detail: err.message });
      process.exit(1);
    }
    throw err;
  }
  const db = createDb(config, { acquireTimeoutMs: 30_000, connectTimeoutMs: 10_000, logger });
  try {
    const [batch, applied] = (await db.migrate.latest()) as [number, string[]];
    logger.info('migrations applied', { batch, applied });
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
