import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports';

/*
 * The real server process (server-main.ts: real config parsing, events module, signal
 * handling) on a free 127.0.0.1 port, for suites that take its dependencies away under load.
 */
export interface ServerProcess {
  readonly port: number;
  readonly baseUrl: string;
  readonly pid: number;
  /** True while the process has not exited. */
  alive(): boolean;
  /** Everything it wrote to stdout and stderr (JSON log lines). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  const proc: ChildProcess = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'server-main.ts')],
    {
      env: {
        PATH: process.env.PATH,
        TS_NODE_PROJECT: path.join(__dirname, '../../tsconfig.json'),
        PORT: String(port),
        RATE_LIMIT_PER_MINUTE: '0',
        SHUTDOWN_DELAY_MS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (!alive()) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  };

  // LOG_LEVEL may hide the "listening" line, so wait for the liveness probe instead.
  const started = Date.now();
  for (;;) {
    if (!alive()) throw new Error(`server exited early (${proc.exitCode}):\n${output}`);
    const live = await fetch(`${baseUrl}/health/live`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (live === 200) break;
    if (Date.now() - started > 30_000) {
      await stop();
      throw new Error(`server did not start within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return { port, baseUrl, pid: proc.pid ?? -1, alive, output: () => output, stop };
}
