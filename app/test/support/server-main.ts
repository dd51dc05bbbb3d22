import { ConfigError, loadConfig } from '../../src/config';
import { createEvents } from '../../src/events';
import { createLogger } from '../../src/logger';
import { exitOnSignals, runServer } from '../../src/server';

/*
 * The composition root of src/index.ts, except that it listens on 127.0.0.1 instead of every
 * interface: tests spawn this as a real process (real config parsing, events module, signal
 * handling and shutdown) without exposing a port beyond the machine.
 */
/**
 * TEST_RELAY_BATCH_SIZE (tests only, not part of the service's environment contract): a smaller
 * outbox relay batch, so a reliability test can build a backlog of several batches in seconds.
 */
function relayBatchSize(): number | undefined {
  const raw = process.env.TEST_RELAY_BATCH_SIZE;
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError('TEST_RELAY_BATCH_SIZE', `expected a positive integer, got "${raw}"`);
  return n;
}

try {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const batchSize = relayBatchSize();
  const events: typeof createEvents = (deps) =>
    createEvents(batchSize === undefined ? deps : { ...deps, options: { ...deps.options, batchSize } });
  const running = runServer(config, events, { host: '127.0.0.1', logger });
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
