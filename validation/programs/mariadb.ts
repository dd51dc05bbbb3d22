import * as fs from 'fs';
import * as path from 'path';
import {
  ProgramCheckError,
  freePort,
  readIfExists,
  removeScratch,
  requireProgram,
  run,
  scratchDir,
  startDaemon,
} from './process';
import type { CheckReport } from './report';

/** Option groups mariadbd reads from a my.cnf. */
const SERVER_GROUPS = new Set(['mysqld', 'server', 'mariadb', 'mariadbd', 'mysqld-10.11', 'mariadb-10.11']);

/** Options the check always sets itself; the my.cnf values of these are not used. */
const ALWAYS_OVERRIDDEN = new Set([
  'datadir',
  'port',
  'socket',
  'bind-address',
  'pid-file',
  'log-error',
  'user',
]);

function normalize(option: string): string {
  return option.trim().toLowerCase().replace(/_/g, '-');
}

/**
 * Options of the server groups whose value is an absolute path (binary logs, relay logs, slow
 * and general query logs, tmpdir...): they point into the container's volumes and must move
 * into the scratch dir.
 */
export function pathOptions(cnf: string): Map<string, string> {
  const out = new Map<string, string>();
  let group = '';
  for (const line of cnf.split(/\r?\n/)) {
    const trimmed = line.trim();
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      group = header[1].trim().toLowerCase();
      continue;
    }
    if (!SERVER_GROUPS.has(group) || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*"?([^"#]*)"?/.exec(trimmed);
    if (!kv) continue;
    const option = normalize(kv[1]);
    const value = kv[2].trim();
    if (value.startsWith('/') && !ALWAYS_OVERRIDDEN.has(option)) out.set(option, value);
  }
  return out;
}

export interface MariadbCheckOptions {
  /** Server options the container passes on its command line (e.g. `--server-id=2`). */
  readonly extraArgs?: readonly string[];
  /** How long install + start may take. @default 60 s */
  readonly timeoutMs?: number;
}

/** A running private mariadbd (root without password on 127.0.0.1:port). */
export interface RunningMariadb {
  readonly port: number;
  readonly overrides: readonly string[];
  /** Runs SQL as root through the mariadb client; rejects on an error. */
  sql(statements: string): Promise<string>;
  output(): string;
  /** Stops the server and removes its scratch dir. */
  stop(): Promise<void>;
}

/**
 * Starts the real mariadbd with `cnf` as its only option file (`--defaults-file`, so nothing from
 * /etc/mysql leaks in) on a fresh datadir and waits until a client connects over TCP.
 *
 * Overridden on the command line (command-line options win over option files), because they
 * must differ on a shared test machine: datadir, port (a free one), socket, bind-address
 * (127.0.0.1), pid-file, log-error (read back for the error message), user (root runs need
 * `--user=root`), and every option whose value is an absolute path (moved into the scratch dir).
 * Everything else, including unknown or malformed variables, is the config's own.
 */
export async function startMariadb(cnf: string, options: MariadbCheckOptions = {}): Promise<RunningMariadb> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const mariadbd = requireProgram('mariadbd');
  const installDb = requireProgram('mariadb-install-db');
  const client = requireProgram('mariadb');
  const dir = scratchDir('mariadb');
  try {
    const cnfFile = path.join(dir, 'my.cnf');
    fs.writeFileSync(cnfFile, cnf);
    const datadir = path.join(dir, 'data');
    const moved = path.join(dir, 'paths');
    fs.mkdirSync(datadir);
    fs.mkdirSync(moved);
    const port = await freePort();
    const socket = path.join(dir, 'mysqld.sock');
    const errorLog = path.join(dir, 'error.log');
    const asRoot = process.getuid?.() === 0;
    const overrides = [
      `--datadir=${datadir}`,
      `--port=${port}`,
      `--socket=${socket}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      ...(asRoot ? ['--user=root'] : []),
    ];
    const extraArgs = options.extraArgs ?? [];
    for (const [option, value] of pathOptions(cnf)) {
      const target = path.join(moved, option, path.basename(value));
      fs.mkdirSync(/dir$/.test(option) ? target : path.dirname(target), { recursive: true });
      overrides.push(`--${option}=${target}`);
    }

    // The image's entrypoint also initializes the datadir with the server's own options, so a
    // variable the server rejects fails here already, as it would in the pod.
    const install = await run(
      installDb,
      [
        `--defaults-file=${cnfFile}`,
        ...extraArgs,
        ...overrides.filter((o) => !o.startsWith('--log-error')),
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { timeoutMs },
    );
    if (install.code !== 0) {
      throw new ProgramCheckError(
        'mariadb-install-db',
        `rejected the config (exit ${String(install.code)})`,
        [install.output, readIfExists(errorLog)].join('\n'),
      );
    }

    const clientArgs = [
      '--no-defaults',
      '--protocol=tcp',
      '-h',
      '127.0.0.1',
      '-P',
      String(port),
      '-u',
      'root',
    ];
    const daemon = await startDaemon(
      'mariadbd',
      mariadbd,
      [`--defaults-file=${cnfFile}`, ...extraArgs, ...overrides],
      {
        timeoutMs,
        log: () => readIfExists(errorLog),
        ready: async () => {
          const ping = await run(client, [...clientArgs, '--connect-timeout=2', '-N', '-e', 'SELECT 1'], {
            timeoutMs: 5_000,
          });
          return ping.code === 0 && ping.stdout.trim() === '1';
        },
      },
    );
    return {
      port,
      overrides: overrides.map((o) => o.split('=')[0]),
      output: () => daemon.output(),
      sql: async (statements) => {
        const result = await run(client, [...clientArgs, '-N'], { timeoutMs: 30_000, input: statements });
        if (result.code !== 0) throw new ProgramCheckError('mariadb', `SQL failed`, result.output);
        return result.stdout;
      },
      stop: async () => {
        try {
          await daemon.stop(30_000);
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

/** Starts mariadbd with the config (see `startMariadb`), checks it accepts a connection, stops it. */
export async function checkMariadbConfig(
  cnf: string,
  options: MariadbCheckOptions = {},
): Promise<CheckReport> {
  const started = Date.now();
  const server = await startMariadb(cnf, options);
  const log = server.output();
  await server.stop();
  return { program: 'mariadbd', ms: Date.now() - started, overrides: server.overrides, output: log };
}

/** An administrative login to a test server: where an initdb script's SQL goes. */
export interface MariadbLogin {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/*
 * The two helpers the official image's entrypoint has in scope when it sources an initdb script,
 * with the same contract: docker_process_sql runs the mariadb client as the administrator with
 * the caller's arguments and the SQL on stdin; docker_sql_escape_string_literal escapes
 * backslashes, newlines and single quotes for a '...' literal. Only the transport differs: TCP
 * to a test server instead of the container's socket.
 */
const ENTRYPOINT_HELPERS = [
  'set -eo pipefail',
  'docker_process_sql() {',
  '  MYSQL_PWD="$INITDB_ADMIN_PASSWORD" "$INITDB_CLIENT" --no-defaults --protocol=tcp \\',
  '    -h "$INITDB_HOST" -P "$INITDB_PORT" -u "$INITDB_ADMIN_USER" "$@"',
  '}',
  'docker_sql_escape_string_literal() {',
  "  local newline=$'\\n'",
  '  local escaped=${1//\\\\/\\\\\\\\}',
  '  escaped="${escaped//$newline/\\\\n}"',
  '  echo "${escaped//\\\'/\\\\\\\'}"',
  '}',
].join('\n');

/**
 * Runs a `/docker-entrypoint-initdb.d/*.sh` script of the mariadb image as its entrypoint does at
 * first initialisation: a non-executable `.sh` is sourced by the entrypoint's bash (`set -eo
 * pipefail`), with the helpers above and the container's environment (`env`). The script text is
 * the one dist/ ships, so a test of its outcome tests what the pods run. Rejects with the output
 * when the script fails.
 */
export async function runMariadbInitScript(
  login: MariadbLogin,
  script: string,
  env: Readonly<Record<string, string>>,
): Promise<string> {
  const dir = scratchDir('mariadb-initdb');
  try {
    const file = path.join(dir, 'initdb.sh');
    fs.writeFileSync(file, script);
    const result = await run('bash', ['-c', `${ENTRYPOINT_HELPERS}\n. "$1"`, 'initdb', file], {
      timeoutMs: 30_000,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...env,
        INITDB_CLIENT: requireProgram('mariadb'),
        INITDB_HOST: login.host,
        INITDB_PORT: String(login.port),
        INITDB_ADMIN_USER: login.user,
        INITDB_ADMIN_PASSWORD: login.password,
      },
    });
    if (result.code !== 0) {
      throw new ProgramCheckError(
        'mariadb initdb script',
        `failed (exit ${String(result.code)})`,
        result.output,
      );
    }
    return result.output;
  } finally {
    removeScratch(dir);
  }
}
