import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports';
import { TEST_DB, TEST_REDIS } from './services';

/*
 * Named instances of the real server process (support/server-main.ts: real config parsing,
 * events module, signal handling and shutdown) on free ports of 127.0.0.1, for suites that run
 * several replicas and terminate them as a rolling update does. Unlike server-process.ts it
 * reports each exit code and never escalates a SIGTERM on its own, so a suite can assert that
 * the drain ends by itself with 0. Every instance started here is tracked so afterAll can
 * SIGKILL whatever still runs, even when the test failed half-way.
 */

export interface InstanceProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** The exit code once it has exited (null: killed by a signal). */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** performance.now() of the exit, once it has exited. */
  exitedAt(): number | undefined;
  /** Sends SIGTERM and returns when (performance.now()) it was sent. */
  terminate(): number;
}

export interface InstanceProcessOptions {
  readonly name: string;
  readonly dbName: string;
  /** @default the shared test Redis */
  readonly redisPort?: number;
  /** Extra environment variables (SHUTDOWN_DELAY_MS, CACHE_TTL_SECONDS ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 30_000 */
  readonly startTimeoutMs?: number;
}

const running = new Set<ChildProcess>();

export async function startInstanceProcess(options: InstanceProcessOptions): Promise<InstanceProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'server-main.ts')],
    {
      env: {
        PATH: process.env.PATH,
        TS_NODE_PROJECT: path.join(__dirname, '../../tsconfig.json'),
        PORT: String(port),
        LOG_LEVEL: 'info',
        DB_HOST: TEST_DB.host,
        DB_PORT: String(TEST_DB.port),
        DB_NAME: options.dbName,
        DB_USER: TEST_DB.user,
        DB_PASSWORD: TEST_DB.password,
        REDIS_HOST: TEST_REDIS.host,
        REDIS_PORT: String(options.redisPort ?? TEST_REDIS.port),
        KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092',
        KAFKA_TOPIC: `memo_events_${options.dbName}`,
        RATE_LIMIT_PER_MINUTE: '0',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let exitedAt: number | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitedAt = performance.now();
      running.delete(child);
      resolve(code);
    });
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!output.includes('"msg":"listening"')) {
    if (child.exitCode !== null) {
      throw new Error(`${options.name} exited early (${child.exitCode}):\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: options.name,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    exitedAt: () => exitedAt,
    terminate() {
      const at = performance.now();
      child.kill('SIGTERM');
      return at;
    },
  };
}

/** SIGKILLs every server process started here that is still running, and waits for each. */
export async function killInstanceProcesses(): Promise<void> {
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
export async function exitWithin(proc: InstanceProcess, timeoutMs: number): Promise<number | null> {
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
