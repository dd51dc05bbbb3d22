import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import { createApp } from './app';
import { createAuth } from './auth';
import type { Config } from './config';
import { createDb } from './db';
import { answerClientErrors } from './http/client-error';
import { createLogger, Logger } from './logger';
import { createMetrics, Metrics } from './metrics';
import { metricsRequestListener } from './metrics-endpoint';
import { createRedis } from './redis';

/** What src/events provides: the outbox relay and the Kafka reachability check. */
export interface EventsModule {
  start(): Promise<void>;
  stop(): Promise<void>;
  isKafkaUp(): Promise<boolean>;
}

export type EventsFactory = (deps: {
  readonly config: Config;
  readonly db: Knex;
  readonly logger: Logger;
  readonly metrics: Metrics;
}) => EventsModule;

export interface ServerOptions {
  /** @default '0.0.0.0' (all interfaces: the pod's IP) */
  readonly host?: string;
  readonly logger?: Logger;
  /** Milliseconds in-flight requests get after the listener closes before their sockets are cut. */
  readonly drainTimeoutMs?: number;
}

export interface RunningServer {
  readonly server: http.Server;
  readonly port: number;
  /** The port that serves /metrics (and nothing else), apart from the public one. */
  readonly metricsPort: number;
  shutdown(signal: string): Promise<void>;
}

/** Bound of the readiness connection's wait and statement, below the probe's own 1 s check. */
const READINESS_TIMEOUT_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The composition root's body: wires every dependency, listens, and owns the shutdown order:
 * readiness 503 -> wait SHUTDOWN_DELAY_MS (endpoints drop the pod) -> stop accepting -> finish
 * in-flight requests -> stop the relay -> close knex and Redis -> exit 0. A second signal exits 1.
 */
export async function runServer(
  config: Config,
  createEvents: EventsFactory,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const db = createDb(config.db, { logger, statementTimeoutMs: config.dbStatementTimeoutMs });
  // Readiness has a connection of its own: ten slow requests holding the whole pool must not
  // make every replica unready at once while CPU stays low (the HPA would never react).
  const readinessDb = createDb(
    { ...config.db, poolMax: 1 },
    { logger, acquireTimeoutMs: READINESS_TIMEOUT_MS, statementTimeoutMs: READINESS_TIMEOUT_MS },
  );
  const redis = createRedis(config.redis, { keyPrefix: `${config.cacheKeyPrefix}:` });
  let lastRedisError = '';
  // Without a listener ioredis prints every reconnect failure; log each distinct one once.
  redis.on('error', (err: Error) => {
    if (err.message !== lastRedisError) logger.warn('redis connection error', { error: err.message });
    lastRedisError = err.message;
  });
  redis.on('ready', () => {
    lastRedisError = '';
    logger.info('redis connected');
  });
  const events = createEvents({ config, db, logger, metrics });
  // Starts loading the issuer's keys now, in the background: the first write rarely waits.
  const auth = config.auth ? createAuth(config.auth, logger) : undefined;
  let shuttingDown = false;

  const app = createApp({
    config,
    db,
    readinessDb,
    redis,
    logger,
    metrics,
    kafkaHealth: () => events.isKafkaUp(),
    isShuttingDown: () => shuttingDown,
    auth,
  });
  const handler = app.callback();
  const server = http.createServer((req, res) => {
    // Once draining, every response closes its connection so keep-alive clients reconnect elsewhere.
    if (shuttingDown) res.setHeader('Connection', 'close');
    void handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  answerClientErrors(server, logger);

  const metricsServer = http.createServer(metricsRequestListener(metrics, logger));

  const listen = (s: http.Server, port: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, options.host ?? '0.0.0.0', () => resolve((s.address() as AddressInfo).port));
    });
  // Metrics first: once "listening" is logged, both ports answer.
  const metricsPort = await listen(metricsServer, config.metricsPort);
  const port = await listen(server, config.port).catch((err: unknown) => {
    metricsServer.close();
    throw err;
  });
  logger.info('listening', { port, metrics_port: metricsPort });
  events.start().catch((err: unknown) => logger.error('event relay failed to start', { error: err }));

  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    shuttingDown = true;
    logger.info('shutdown: readiness now fails', { signal, delay_ms: config.shutdownDelayMs });
    await sleep(config.shutdownDelayMs);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Logged once close() has run (it closes the listening socket at once), not before: whoever
    // reads this line and then connects must be refused, not slip in while the process that
    // wrote it waits for a core.
    logger.info('shutdown: closing listener, draining in-flight requests');
    server.closeIdleConnections();
    const idleSweep = setInterval(() => server.closeIdleConnections(), 250);
    const deadline = setTimeout(() => {
      logger.warn('shutdown: drain timeout, closing remaining connections');
      server.closeAllConnections();
    }, options.drainTimeoutMs ?? 20_000);
    await closed;
    clearInterval(idleSweep);
    clearTimeout(deadline);
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        logger.warn(`shutdown: closing ${name} failed`, { error: err });
      }
    };
    auth?.stop();
    await step('events', () => events.stop());
    await step('database', () => db.destroy());
    await step('readiness database connection', () => readinessDb.destroy());
    await step('redis', async () => {
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    });
    // Last, so Prometheus still sees the drain; its keep-alive scrape connection must not hold the exit.
    await step('metrics listener', () => {
      const metricsClosed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      metricsServer.closeAllConnections();
      return metricsClosed;
    });
    logger.info('shutdown complete');
  }

  return { server, port, metricsPort, shutdown };
}

/**
 * Installs SIGTERM/SIGINT handlers that run the shutdown and exit with its outcome. Call it
 * with runServer's promise, right after calling runServer: until these handlers exist a signal
 * has Node's default action and kills the process outright. Installed only once runServer had
 * resolved, they left a window after the port opened and "listening" was logged (the readiness
 * mark tests and operators wait for) in which a SIGTERM skipped the graceful shutdown, and the
 * process died of the signal (no exit code) instead of draining and exiting 0, or 1 on a second
 * signal. A signal during startup waits for the server to be up, then shuts it down.
 */
export function exitOnSignals(running: Promise<RunningServer>, logger: Logger): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    running.then(
      (server) =>
        server.shutdown(signal).then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error('shutdown failed', { error: err });
            process.exit(1);
          },
        ),
      // Startup failed: the composition root reports that and exits 1.
      () => undefined,
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
