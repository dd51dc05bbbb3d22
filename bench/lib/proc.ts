import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/*
 * Child processes and what they cost. Servers under test run in their own process (the load
 * generator stays in the bench process), so /proc tells how the two cores were shared.
 */

const TICKS_PER_SECOND = 100;
const children = new Set<ChildProcess>();
/** pid -> server file, for naming CPU profiles (which carry only the pid). */
export const startedServers = new Map<number, string>();

export interface ChildOptions {
  readonly env?: Record<string, string>;
  /** Directory for a V8 CPU profile (node --cpu-prof) of this child. */
  readonly cpuProfDir?: string;
}

export interface ServerChild {
  readonly pid: number;
  readonly port: number;
  /** Asks the child for a JSON value (it answers { id, value }); used for its counters. */
  request<T>(type: string): Promise<T>;
  stop(): Promise<void>;
}

/** Starts a TypeScript server file in a child process and waits for it to report its port. */
export async function startServer(file: string, options: ChildOptions = {}): Promise<ServerChild> {
  const args = ['-r', 'ts-node/register/transpile-only'];
  if (options.cpuProfDir) args.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  args.push(path.resolve(__dirname, '..', 'servers', file));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', ...options.env },
  });
  children.add(child);
  if (child.pid !== undefined) startedServers.set(child.pid, file);
  child.once('exit', () => children.delete(child));
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: no port reported within 60 s`)), 60_000);
    child.on(
      'message',
      (msg: { type: string; port?: number; id?: number; value?: unknown; error?: string }) => {
        if (msg.type === 'listening' && msg.port !== undefined) {
          clearTimeout(timer);
          resolve(msg.port);
        } else if (msg.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${file}: ${msg.error}`));
        } else if (msg.type === 'reply' && msg.id !== undefined) {
          pending.get(msg.id)?.(msg.value);
          pending.delete(msg.id);
        }
      },
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with code ${code} before listening`));
    });
  });
  return {
    pid: child.pid as number,
    port,
    request<T>(type: string): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file}: no answer to ${type}`)), 30_000);
        pending.set(id, (value) => {
          clearTimeout(timer);
          resolve(value as T);
        });
        child.send({ type, id });
      });
    },
    stop: () => stopChild(child, 20_000),
  };
}

/** Asks the child to shut down cleanly, and kills it (by its pid) if it has not within the timeout. */
export async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop', id: 0 });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every child this process started: called on exit paths so nothing outlives a run. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 5_000)));
}

/** A port nobody listens on (taken and released at once), for "the cache is off" runs. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function cpuTicks(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + v[4];
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Pids of the backing services, found by command name, so their CPU share can be reported. */
export function servicePids(): Record<string, number[]> {
  const found: Record<string, number[]> = { mariadb: [], redis: [], kafka: [] };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') found.mariadb.push(Number(entry));
      else if (comm === 'redis-server') found.redis.push(Number(entry));
      else if (comm === 'java') {
        const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (cmd.includes('kafka.Kafka')) found.kafka.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** CPU used during a window, in cores (1.0 = one core busy the whole time). */
export interface CpuSplit {
  readonly seconds: number;
  readonly cores: number;
  /** The server under test. */
  readonly server: number;
  /** This process: the load generator (autocannon) and the bench's own work. */
  readonly loadGenerator: number;
  readonly mariadb: number;
  readonly redis: number;
  readonly kafka: number;
  /** Everything else on the machine in the same window (other users' work included). */
  readonly other: number;
  /** Machine-wide busy share: 1.0 means every core was busy. */
  readonly machineBusy: number;
}

export interface CpuMeter {
  stop(): CpuSplit;
}

export function startCpuMeter(serverPid: number | undefined): CpuMeter {
  const services = servicePids();
  const sum = (pids: number[]): number => pids.reduce((a, p) => a + (cpuTicks(p) ?? 0), 0);
  const t0 = process.hrtime.bigint();
  const start = {
    server: serverPid ? (cpuTicks(serverPid) ?? 0) : 0,
    self: cpuTicks('self') ?? 0,
    mariadb: sum(services.mariadb),
    redis: sum(services.redis),
    kafka: sum(services.kafka),
    machine: machineTicks(),
  };
  return {
    stop() {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cores = (ticks: number): number => ticks / TICKS_PER_SECOND / seconds;
      const machine = machineTicks();
      const server = cores((serverPid ? (cpuTicks(serverPid) ?? start.server) : 0) - start.server);
      const loadGenerator = cores((cpuTicks('self') ?? 0) - start.self);
      const mariadb = cores(sum(services.mariadb) - start.mariadb);
      const redis = cores(sum(services.redis) - start.redis);
      const kafka = cores(sum(services.kafka) - start.kafka);
      const ncpu = os.cpus().length;
      const busy = (machine.busy - start.machine.busy) / TICKS_PER_SECOND / seconds;
      return {
        seconds,
        cores: ncpu,
        server,
        loadGenerator,
        mariadb,
        redis,
        kafka,
        other: Math.max(0, busy - server - loadGenerator - mariadb - redis - kafka),
        machineBusy: (machine.busy - start.machine.busy) / Math.max(1, machine.total - start.machine.total),
      };
    },
  };
}

/** Peak and current resident set of a process, in MiB (VmHWM / VmRSS of /proc/<pid>/status). */
export function memoryOf(pid: number): { peakRssMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}
