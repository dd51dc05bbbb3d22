import { ChildProcess, spawn } from 'node:child_process';
import { acceptsConnections, freePort } from './ports';

/**
 * A throw-away redis-server on 127.0.0.1 that a test may kill and restart, so "Redis down" is
 * a real dead server (connection refused) rather than a mock.
 */
export interface ScratchRedis {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function createScratchRedis(): Promise<ScratchRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const scratch: ScratchRedis = {
    port,
    async start() {
      // A second start would orphan the running server (stop() kills only the newest child),
      // and an orphaned child keeps jest from exiting.
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--protected-mode',
          'yes',
        ],
        { stdio: 'ignore' },
      );
      await waitFor(() => acceptsConnections(port), 5000, `redis-server on ${port}`);
    },
    async stop() {
      const running = child;
      child = undefined;
      // Gone already, by itself or by a signal (exitCode stays null then): its 'exit' has been
      // emitted, and waiting for it again would never end.
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
      await waitFor(async () => !(await acceptsConnections(port)), 5000, `redis-server on ${port} to stop`);
    },
  };
  await scratch.start();
  return scratch;
}
