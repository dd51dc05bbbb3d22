import * as fs from 'fs';
import * as path from 'path';
import { freePort, removeScratch, requireProgram, run, scratchDir, startDaemon } from './process';
import type { CheckReport } from './report';

/** Directives whose value is a path into the container; they move into the scratch dir. */
const PATH_DIRECTIVES = new Set(['dir', 'logfile', 'pidfile', 'unixsocket', 'aclfile']);

export interface RedisCheckOptions {
  /**
   * Arguments the container passes after the config file (e.g. `--requirepass <secret>`), with
   * secrets already filled in; they are part of what the server must accept.
   */
  readonly extraArgs?: readonly string[];
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

function passwordFrom(conf: string, extraArgs: readonly string[]): string | undefined {
  const i = extraArgs.indexOf('--requirepass');
  if (i >= 0 && i + 1 < extraArgs.length) return extraArgs[i + 1];
  const m = /^\s*requirepass\s+"?([^"\s]+)"?/im.exec(conf);
  return m ? m[1] : undefined;
}

/**
 * Starts the real redis-server with the config (and the container's extra arguments), waits for
 * `PING` to answer `PONG`, then shuts it down.
 *
 * Overridden after the config (later arguments win in Redis): port (a free one), bind
 * (127.0.0.1), daemonize no (the check must own the process). Rewritten in the copy of the file:
 * dir/pidfile/unixsocket/aclfile (scratch paths), logfile (stdout, so errors reach the message)
 * and `include` lines (generated files, replaced by empty ones). A directive Redis does not know
 * stops it with "FATAL CONFIG FILE ERROR", which fails the check.
 */
export async function checkRedisConfig(conf: string, options: RedisCheckOptions = {}): Promise<CheckReport> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const server = requireProgram('redis-server');
  const cli = requireProgram('redis-cli');
  const dir = scratchDir('redis');
  try {
    const { text, rewritten } = localRedisConfig(conf, dir);
    const confFile = path.join(dir, 'redis.conf');
    fs.writeFileSync(confFile, text);
    const port = await freePort();
    const extraArgs = options.extraArgs ?? [];
    const password = options.password ?? passwordFrom(conf, extraArgs);
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
    const log = daemon.output();
    await daemon.stop(10_000);
    return {
      program: 'redis-server',
      ms: Date.now() - started,
      overrides: [...overrides.map(([d]) => d), ...rewritten],
      output: log,
    };
  } finally {
    removeScratch(dir);
  }
}
