import { ConfigError, loadConfig } from './config';
import { createEvents } from './events';
import { createLogger } from './logger';
import { exitOnSignals, runServer } from './server';

/** The composition root: the only place that reads the environment and starts things. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  // Handlers before the server listens: see exitOnSignals.
  const running = runServer(config, createEvents, { logger });
  exitOnSignals(running, logger);
  await running;
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'startup failed', error: String(err) })}\n`);
  process.exit(1);
});
