import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** The repository root: validation/programs/ is two levels down. */
export const ROOT_DIR = path.resolve(__dirname, '..', '..');

/** Where scripts/tools/install.sh unpacks promtool and amtool. */
export const TOOLS_BIN_DIR = path.join(ROOT_DIR, '.services', 'tools', 'bin');

export const INSTALL_HINT = 'bash scripts/tools/install.sh installs it';

/** A program a check needs is not on this machine. */
export class MissingProgramError extends Error {
  constructor(readonly program: string) {
    super(`${program} not found (looked in ${TOOLS_BIN_DIR}, PATH and /usr/sbin): ${INSTALL_HINT}`);
    this.name = 'MissingProgramError';
  }
}

/** The real program rejected a configuration (or could not be started with it). */
export class ProgramCheckError extends Error {
  constructor(
    readonly program: string,
    message: string,
    readonly output: string,
  ) {
    super(`${program}: ${message}\n${output.trim()}`);
    this.name = 'ProgramCheckError';
  }
}

/** Finds an executable: the project's own tools dir first, so an unpacked package wins over nothing. */
export function findProgram(name: string): string | undefined {
  const dirs = [
    TOOLS_BIN_DIR,
    ...(process.env.PATH ?? '').split(path.delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
  ];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return undefined;
}

export function requireProgram(name: string): string {
  const found = findProgram(name);
  if (found === undefined) throw new MissingProgramError(name);
  return found;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr as one text, for error messages. */
  readonly output: string;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly timeoutMs: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
}

/** Every process still running that this module started, so nothing outlives the test run. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) killGroup(c, 'SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Signals the child's process group (it leads one), so helpers it forked stop with it. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** Runs a program to completion; never throws for a non-zero exit, kills it at the timeout. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    track(child);
    let stdout = '';
    let stderr = '';
    let output = '';
    let timedOut = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output, timedOut });
    });
    if (options.input !== undefined) {
      // A program that exits without reading its input must not fail the run with EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
  });
}

export interface Daemon {
  readonly pid: number;
  /** Everything the daemon printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after the grace period; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly timeoutMs: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Polled every 250 ms until true; the daemon counts as started then. */
  readonly ready: () => Promise<boolean>;
  /** Extra text for error messages (e.g. a log file the daemon writes instead of stdout). */
  readonly log?: () => string;
}

/**
 * Starts a long-running program and waits until `ready` says it serves. Rejects (after killing
 * it) when it exits first or the timeout passes, with everything it printed.
 */
export async function startDaemon(
  program: string,
  command: string,
  args: readonly string[],
  options: StartOptions,
): Promise<Daemon> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const everything = (): string => [output, options.log?.() ?? ''].filter((s) => s.trim() !== '').join('\n');
  const daemon: Daemon = {
    pid: child.pid ?? -1,
    output: everything,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (spawnError !== undefined)
      throw new ProgramCheckError(program, `could not start: ${spawnError.message}`, '');
    if (child.exitCode !== null || child.signalCode !== null) {
      await exited;
      throw new ProgramCheckError(
        program,
        `exited during start (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`,
        everything(),
      );
    }
    if (await options.ready().catch(() => false)) return daemon;
    if (Date.now() > deadline) {
      await daemon.stop(2_000);
      throw new ProgramCheckError(program, `not ready after ${options.timeoutMs} ms`, everything());
    }
    await sleep(250);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A fresh directory under the OS temp dir; the caller removes it with `removeScratch`. */
export function scratchDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `memo-${label}-`));
}

export function removeScratch(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Reads a file that may not exist yet (a daemon's log), as text. */
export function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
