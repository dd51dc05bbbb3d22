import { ConfigError, loadConfig } from '../../src/config';
import { createEvents } from '../../src/events';
import { createLogger } from '../../src/logger';
import { exitOnSignals, runServer } from '../../src/server';

/*
 * The composition root of src/index.ts, except that it listens on 127.0.0.1 instead of every
 * interface: tests spawn this as a real process (real config parsing, events module, signal
 * handling and shutdown) without exposing a port beyond the machine.
 */
try {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const running = runServer(config, createEvents, { host: '127.0.0.1', logger });
  // Before the "listening" line that startServerProcess waits for (see exitOnSignals): a
  // SIGTERM sent on seeing it must find the handlers, not Node's default action.
  exitOnSignals(running, logger);
  running.catch((err: unknown) => {
    process.stderr.write(`startup failed: ${String(err)}\n`);
    process.exit(1);
  });
} catch (err) {
  process.stderr.write(`invalid configuration: ${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}
