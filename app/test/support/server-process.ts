import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports';
import { TEST_DB, TEST_REDIS } from './services';

/*
 * The real server process (server-main.ts: real config parsing, events module, signal handling
 * and shutdown) on a free port of 127.0.0.1, for suites that take its dependencies away under
 * load, run several replicas and terminate them as a rolling update does, or feed it bad input.
 * terminate() never escalates a SIGTERM, so a suite can assert that the drain ends by itself
 * with 0; stop() does, for suites that only want the process gone. Every process started here
 * is tracked so afterAll can SIGKILL whatever still runs, even when the test failed half-way.
 */

export interface ServerProcess {
  /** Names it in error messages. */
  readonly name: string;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** The port that serves /metrics (METRICS_PORT), apart from the API's. */
  readonly metricsPort: number;
  readonly pid: number;
  /** The tail (OUTPUT_LIMIT characters) of what it wrote to stdout and stderr: JSON log lines. */
  output(): string;
  /** True while the process has not exited. */
  alive(): boolean;
  /** The exit code once it has exited (null: killed by a signal). */
  readonly exited: Promise<number | null>;
  /** performance.now() of the exit, once it has exited. */
  exitedAt(): number | undefined;
  /** The signal that killed it, once it has exited (null: it exited by itself, see exited). */
  exitSignal(): NodeJS.Signals | null;
  /** Sends SIGTERM and returns when (performance.now()) it was sent; never escalates. */
  terminate(): number;
  /** Sends any other signal (a second SIGINT, SIGUSR2 for gc-on-signal.ts). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within timeoutMs; resolves once it has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Where the database lives: the shared test MariaDB or a suite's own (scratch-mariadb.ts). */
export interface DatabaseServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export interface ServerProcessOptions {
  /**
   * Names the process in error messages.
   * @default 'server'
   */
  readonly name?: string;
  /** DB_NAME; the Kafka topic is memo_events_<dbName> unless env sets KAFKA_TOPIC. */
  readonly dbName: string;
  /** @default the shared test MariaDB (TEST_DB) */
  readonly database?: DatabaseServer;
  /**
   * The port of a Redis of the suite's own on 127.0.0.1 (scratch-redis.ts).
   * @default the shared test Redis (TEST_REDIS)
   */
  readonly redisPort?: number;
  /**
   * Environment variables over the defaults (LOG_LEVEL info, RATE_LIMIT_PER_MINUTE 0,
   * SHUTDOWN_DELAY_MS 0 and the DB, Redis and Kafka variables above); PORT and METRICS_PORT are
   * always the free ports picked here.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Node options after the ts-node preload (so a TypeScript preload can follow it) and before
   * the entry point, such as --expose-gc or -r <preload>.
   * @default - none besides the ts-node preload
   */
  readonly nodeArgs?: readonly string[];
  /** @default 30_000 */
  readonly startTimeoutMs?: number;
  /**
   * How the start is recognised: a 200 from /health/live (works at any LOG_LEVEL), or the
   * "listening" log line (needs LOG_LEVEL info or debug).
   * @default 'liveness-probe'
   */
  readonly readyWhen?: 'liveness-probe' | 'listening-log';
}

/** A chatty or misbehaving server must not fill the test's memory: only the tail is kept. */
export const OUTPUT_LIMIT = 256 * 1024;

const running = new Set<ChildProcess>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const name = options.name ?? 'server';
  const database = options.database ?? TEST_DB;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Both were free a moment ago; the service refuses the same port twice.
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      ...(options.nodeArgs ?? []),
      path.join(__dirname, 'server-main.ts'),
    ],
    {
      env: {
        PATH: process.env.PATH,
        TS_NODE_PROJECT: path.join(__dirname, '../../tsconfig.json'),
        LOG_LEVEL: 'info',
        DB_HOST: database.host,
        DB_PORT: String(database.port),
        DB_NAME: options.dbName,
        DB_USER: database.user,
        DB_PASSWORD: database.password,
        REDIS_HOST: options.redisPort === undefined ? TEST_REDIS.host : '127.0.0.1',
        REDIS_PORT: String(options.redisPort ?? TEST_REDIS.port),
        KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092',
        KAFKA_TOPIC: `memo_events_${options.dbName}`,
        RATE_LIMIT_PER_MINUTE: '0',
        SHUTDOWN_DELAY_MS: '0',
        ...options.env,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let output = '';
  const keep = (chunk: string): void => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  // Decoded by the streams, so a character split between two chunks stays whole.
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  let exitedAt: number | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitedAt = performance.now();
      running.delete(child);
      resolve(code);
    });
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (!alive()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  };

  const started = (): Promise<boolean> =>
    options.readyWhen === 'listening-log'
      ? Promise.resolve(output.includes('"msg":"listening"'))
      : fetch(`${baseUrl}/health/live`, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.status === 200,
          () => false,
        );
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await started())) {
    if (!alive()) {
      throw new Error(`${name} exited early (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${name} did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${output}`);
    }
    await sleep(50);
  }

  return {
    name,
    port,
    baseUrl,
    metricsPort,
    pid: child.pid ?? -1,
    output: () => output,
    alive,
    exited,
    exitedAt: () => exitedAt,
    exitSignal: () => child.signalCode,
    terminate() {
      const at = performance.now();
      child.kill('SIGTERM');
      return at;
    },
    signal(sig) {
      child.kill(sig);
    },
    stop,
  };
}

/** SIGKILLs every server process started here that is still running, and waits for each. */
export async function killServerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Resolves with the exit code, or rejects after timeoutMs (the process is left to afterAll). */
export async function exitWithin(proc: ServerProcess, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${proc.name} did not exit within ${timeoutMs} ms:\n${proc.output()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
