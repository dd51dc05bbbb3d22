import * as fs from 'fs';
import * as path from 'path';
import {
  ProgramCheckError,
  freePort,
  removeScratch,
  requireProgram,
  run,
  scratchDir,
  startDaemon,
} from './process';
import { listAt, type Obj } from './manifests';
import type { CheckReport } from './report';

/** Directives whose value is a path into the container; they move into the scratch dir. */
const PATH_DIRECTIVES = new Set(['dir', 'logfile', 'pidfile', 'unixsocket', 'aclfile']);

export interface RedisCheckOptions {
  /**
   * Arguments the container passes after the config file (e.g. `--requirepass <secret>`), with
   * secrets already filled in; they are part of what the server must accept.
   */
  readonly extraArgs?: readonly string[];
  /**
   * Files the container writes before starting the server (e.g. an `include`d requirepass file
   * made from a Secret), by their path in the container; arguments naming them are pointed at
   * scratch copies.
   */
  readonly generatedFiles?: Readonly<Record<string, string>>;
  /** The password a client needs, when the config or the arguments set `requirepass`. */
  readonly password?: string;
  /** @default 30 s */
  readonly timeoutMs?: number;
}

/**
 * Rewrites what cannot work outside the pod, line by line: `include` lines (files generated in
 * the container, replaced by empty scratch files) and the path directives (Redis applies `dir`
 * while reading the file, so a command-line override comes too late). Everything else stays
 * byte for byte.
 */
export function localRedisConfig(conf: string, dir: string): { text: string; rewritten: string[] } {
  const rewritten: string[] = [];
  const lines = conf.split(/\r?\n/).map((line) => {
    const m = /^\s*([a-z-]+)\s+"?([^"\s]*)"?/i.exec(line);
    if (!m) return line;
    const directive = m[1].toLowerCase();
    if (directive === 'include') {
      const local = path.join(dir, 'include', path.basename(m[2]));
      fs.mkdirSync(path.dirname(local), { recursive: true });
      fs.writeFileSync(local, '');
      rewritten.push(`include ${m[2]}`);
      return `include ${local}`;
    }
    if (!PATH_DIRECTIVES.has(directive)) return line;
    rewritten.push(directive);
    if (directive === 'logfile') return 'logfile ""';
    if (directive === 'dir') return `dir ${dir}`;
    const local = path.join(dir, directive);
    if (directive === 'aclfile') fs.writeFileSync(local, '');
    return `${directive} ${local}`;
  });
  return { text: lines.join('\n'), rewritten };
}

function passwordFrom(texts: readonly string[], extraArgs: readonly string[]): string | undefined {
  const i = extraArgs.indexOf('--requirepass');
  if (i >= 0 && i + 1 < extraArgs.length) return extraArgs[i + 1];
  for (const text of texts) {
    const m = /^\s*requirepass\s+"?([^"\s]+)"?/im.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * How the container starts redis-server: the config path and the arguments after it, read from
 * the `exec redis-server <conf> ...` line of its command (or its plain command/args).
 */
export function redisServerInvocation(container: Obj): { configPath: string; args: string[] } {
  const words = [...listAt(container.command), ...listAt(container.args)].map(String);
  const script = words.join('\n');
  const m = /(?:^|\s|exec\s+)redis-server\s+(\S+)([^\n]*)/.exec(script);
  if (!m)
    throw new Error(`container ${String(container.name)} does not start redis-server with a config file`);
  return { configPath: m[1], args: m[2].trim() === '' ? [] : m[2].trim().split(/\s+/) };
}

/** A running private redis-server on 127.0.0.1:port. */
export interface RunningRedis {
  readonly port: number;
  readonly overrides: readonly string[];
  output(): string;
  /** Stops the server and removes its scratch dir. */
  stop(): Promise<void>;
}

/**
 * Starts the real redis-server with the config (and the container's extra arguments) and waits
 * for `PING` to answer `PONG`; with a password, also that a client without it is refused.
 *
 * Overridden after the config (later arguments win in Redis): port (a free one), bind
 * (127.0.0.1), daemonize no (the check must own the process). Rewritten in the copy of the file:
 * dir/pidfile/unixsocket/aclfile (scratch paths), logfile (stdout, so errors reach the message)
 * and `include` lines (generated files, replaced by empty ones). A directive Redis does not know
 * stops it with "FATAL CONFIG FILE ERROR", which fails the check.
 */
export async function startRedis(conf: string, options: RedisCheckOptions = {}): Promise<RunningRedis> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const server = requireProgram('redis-server');
  const cli = requireProgram('redis-cli');
  const dir = scratchDir('redis');
  try {
    const { text, rewritten } = localRedisConfig(conf, dir);
    const confFile = path.join(dir, 'redis.conf');
    fs.writeFileSync(confFile, text);
    const port = await freePort();
    const generated = Object.entries(options.generatedFiles ?? {});
    const localPaths = new Map<string, string>();
    generated.forEach(([containerPath, content], i) => {
      const local = path.join(dir, 'generated', `${i}-${path.basename(containerPath)}`);
      fs.mkdirSync(path.dirname(local), { recursive: true });
      fs.writeFileSync(local, content);
      localPaths.set(containerPath, local);
    });
    const extraArgs = (options.extraArgs ?? []).map((a) => localPaths.get(a) ?? a);
    const password = options.password ?? passwordFrom([conf, ...generated.map(([, c]) => c)], extraArgs);
    const overrides: Array<[string, string]> = [
      ['port', String(port)],
      ['bind', '127.0.0.1'],
      ['daemonize', 'no'],
    ];
    const args = [confFile, ...extraArgs, ...overrides.flatMap(([d, v]) => [`--${d}`, v])];
    const cliArgs = [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      ...(password ? ['--no-auth-warning', '-a', password] : []),
    ];
    const daemon = await startDaemon('redis-server', server, args, {
      timeoutMs,
      ready: async () =>
        (await run(cli, [...cliArgs, 'ping'], { timeoutMs: 3_000 })).stdout.trim() === 'PONG',
    });
    if (password !== undefined) {
      // A password the server does not enforce would pass the PING above just the same.
      const anonymous = await run(cli, ['-h', '127.0.0.1', '-p', String(port), 'ping'], { timeoutMs: 3_000 });
      if (!/NOAUTH/.test(anonymous.output)) {
        await daemon.stop(10_000);
        throw new ProgramCheckError(
          'redis-server',
          'answers without the password (requirepass not in effect)',
          anonymous.output,
        );
      }
    }
    return {
      port,
      overrides: [...overrides.map(([d]) => d), ...rewritten, ...generated.map(([p]) => `generated ${p}`)],
      output: () => daemon.output(),
      stop: async () => {
        try {
          await daemon.stop(10_000);
        } finally {
          removeScratch(dir);
        }
      },
    };
  } catch (err) {
    removeScratch(dir);
    throw err;
  }
}

/** Starts redis-server with the config (see `startRedis`), checks PING, shuts it down. */
export async function checkRedisConfig(conf: string, options: RedisCheckOptions = {}): Promise<CheckReport> {
  const started = Date.now();
  const server = await startRedis(conf, options);
  const log = server.output();
  await server.stop();
  return { program: 'redis-server', ms: Date.now() - started, overrides: server.overrides, output: log };
}
