import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';

/*
 * A throw-away mariadbd on 127.0.0.1 with its own data directory, so a test can stop the
 * database under load and start it again on the same data, while the shared MariaDB on 3306
 * stays up for every other suite. root logs in over TCP with an empty password.
 */
export interface ScratchMariaDb {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The temporary directory: data, socket, pid file and error log. */
  readonly dir: string;
  /** Starts mariadbd on the existing data and resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * SIGTERM: a real shutdown (connections are killed, InnoDB flushes), resolved once the
   * process has exited. SIGKILL: a crash; InnoDB recovers from its redo log on the next start.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Kills the server if it runs and removes the directory; safe to call more than once. */
  destroy(): Promise<void>;
  /** The server's error log, for a failure message. */
  errorLog(): Promise<string>;
}

const HOST = '127.0.0.1';
const run = promisify(execFile);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export async function createScratchMariaDb(): Promise<ScratchMariaDb> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'memo-scratch-mariadb-'));
  const datadir = path.join(dir, 'data');
  const port = await freePort();
  let child: ChildProcess | undefined;

  // We run as root in CI and in the dev container; mariadbd refuses root unless told --user.
  // "normal" root authentication gives root@localhost an empty password instead of the unix
  // socket plugin, which a TCP client could never satisfy.
  await run(
    'mariadb-install-db',
    [
      '--no-defaults',
      '--user=root',
      `--datadir=${datadir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { timeout: 60_000 },
  ).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });

  const errorLog = (): Promise<string> =>
    readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '(no error log)');

  const scratch: ScratchMariaDb = {
    host: HOST,
    port,
    user: 'root',
    password: '',
    dir,
    async start() {
      // Still running: a server killed by a signal has a null exitCode too, and must be started again.
      if (child && child.exitCode === null && child.signalCode === null) return;
      const proc = spawn(
        'mariadbd',
        [
          '--no-defaults',
          '--user=root',
          `--datadir=${datadir}`,
          `--socket=${path.join(dir, 'mariadbd.sock')}`,
          `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
          `--log-error=${path.join(dir, 'error.log')}`,
          `--port=${port}`,
          `--bind-address=${HOST}`,
          '--skip-log-bin',
          '--performance-schema=OFF',
          // Small and quick: the suites hold a few hundred rows.
          '--innodb-buffer-pool-size=16M',
          '--innodb-log-file-size=16M',
          '--max-connections=50',
        ],
        { stdio: 'ignore' },
      );
      child = proc;
      const started = Date.now();
      // The port opens only once InnoDB has started (or recovered after a SIGKILL).
      while (!(await accepts(port))) {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(
            `mariadbd exited (${proc.exitCode ?? proc.signalCode}) on start:\n${await errorLog()}`,
          );
        }
        if (Date.now() - started > 30_000) {
          throw new Error(`mariadbd did not accept connections on ${port}:\n${await errorLog()}`);
        }
        await sleep(25);
      }
    },
    async stop(signal = 'SIGTERM') {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), 30_000);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        running.kill('SIGKILL');
        await exited;
        throw new Error(`mariadbd did not exit within 30 s of ${signal}`);
      }
    },
    async destroy() {
      const running = child;
      child = undefined;
      if (running && running.exitCode === null && running.signalCode === null) {
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
    errorLog,
  };
  try {
    await scratch.start();
  } catch (err) {
    await scratch.destroy();
    throw err;
  }
  return scratch;
}
