/** The shell scripts the server's pods and the backup job run: probes, the replica start wrapper, first-start SQL, the dump. */
import { ACCOUNT_PASSWORD_ENV, EXPORTER_USERNAME, MARIADB_ACCOUNT_GRANTS } from './accounts';
import { MYSQL_PORT } from './my-cnf';

/** Liveness and startup: the server answers and InnoDB is up (the image's healthcheck.sh and account). */
export const HEALTHCHECK = ['healthcheck.sh', '--connect', '--innodb_initialized'];

/**
 * Readiness adds, on a replica (ordinal above 0), running replication threads: a replica that
 * stopped applying the primary's changes leaves the read Service instead of serving ever staler
 * data. Liveness leaves replication out, so replicas are not restarted while the primary is down.
 */
export const READINESS_SCRIPT = [
  'if [ "${HOSTNAME##*-}" != 0 ] && [ -n "${MARIADB_REPLICATION_USER:-}" ]; then',
  `  exec ${HEALTHCHECK.join(' ')} --replication_io --replication_sql`,
  'fi',
  `exec ${HEALTHCHECK.join(' ')}`,
].join('\n');

/**
 * Server id from the pod ordinal (server ids must differ; 0 disables replication). Ordinal 0 is
 * the primary; the others start as replicas of it: the image runs CHANGE MASTER TO at first
 * start when MARIADB_MASTER_HOST is set, and the app's database and accounts arrive through the
 * binary log instead of being created locally (creating them twice would stop replication; the
 * accounts script skips itself when MARIADB_MASTER_HOST is set).
 */
export function replicationWrapper(primaryFqdn: string): string {
  return [
    'ordinal="${HOSTNAME##*-}"',
    'set -- mariadbd --server-id="$((ordinal + 1))"',
    'if [ "${ordinal}" != 0 ]; then',
    `  export MARIADB_MASTER_HOST=${primaryFqdn}`,
    '  set -- "$@" --read-only=ON',
    'fi',
    'exec docker-entrypoint.sh "$@"',
  ].join('\n');
}

export const ACCOUNTS_SCRIPT_FILE = 'create-app-accounts.sh';
/** The ConfigMap key (and initdb file name) of the exporter account script. */
export const EXPORTER_USER_SCRIPT_FILE = 'create-exporter-user.sh';

/**
 * Sourced by the image's entrypoint at first initialisation, with its helpers in scope
 * (`docker_process_sql` runs SQL as root, `docker_sql_escape_string_literal` escapes a literal).
 * It runs on the primary only and stays in the binary log, so replicas receive the database and
 * the accounts from it. Names are identifiers checked by the constructor; `_` is escaped in the
 * GRANT because it is a wildcard there (`memo_db` would also match `memoXdb`).
 */
export function renderAccountsScript(options: {
  databaseName: string;
  username: string;
  migrationUsername: string;
}): string {
  const { databaseName, username, migrationUsername } = options;
  const tick = '\\`';
  const grantTarget = `${tick}${databaseName.replace(/_/g, '\\_')}${tick}.*`;
  const passwordOf = (variable: string): string => `"$(docker_sql_escape_string_literal "\${${variable}}")"`;
  return [
    "# Creates the app's database, its migration account (the schema owner) and its application",
    '# account (rows only), on the first initialisation of the primary. Replicas receive all three',
    '# through the binary log.',
    'if [ -z "${MARIADB_MASTER_HOST:-}" ]; then',
    `  appPasswordEscaped=${passwordOf(ACCOUNT_PASSWORD_ENV.app)}`,
    `  migrationPasswordEscaped=${passwordOf(ACCOUNT_PASSWORD_ENV.migration)}`,
    '  docker_process_sql --database=mysql <<EOSQL',
    `CREATE DATABASE IF NOT EXISTS ${tick}${databaseName}${tick} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
    `CREATE USER IF NOT EXISTS '${migrationUsername}'@'%' IDENTIFIED BY '\${migrationPasswordEscaped}';`,
    `GRANT ${MARIADB_ACCOUNT_GRANTS.migration.join(', ')} ON ${grantTarget} TO '${migrationUsername}'@'%';`,
    `CREATE USER IF NOT EXISTS '${username}'@'%' IDENTIFIED BY '\${appPasswordEscaped}';`,
    `GRANT ${MARIADB_ACCOUNT_GRANTS.app.join(', ')} ON ${grantTarget} TO '${username}'@'%';`,
    'EOSQL',
    'fi',
    '',
  ].join('\n');
}

/**
 * Sourced by the image's entrypoint at first initialisation, with its helper functions in scope.
 * The account is local to each server, so it stays out of the binary log: replicas create their
 * own and must not replay the primary's. It can read server status, not data.
 */
export const EXPORTER_USER_SCRIPT = `# Creates the mysqld-exporter account (first initialisation only).
exporterPasswordEscaped="$(docker_sql_escape_string_literal "\${MYSQLD_EXPORTER_PASSWORD}")"
docker_process_sql --database=mysql <<EOSQL
SET @@SESSION.SQL_LOG_BIN=0;
CREATE USER IF NOT EXISTS '${EXPORTER_USERNAME}'@'127.0.0.1' IDENTIFIED BY '\${exporterPasswordEscaped}' WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICA MONITOR ON *.* TO '${EXPORTER_USERNAME}'@'127.0.0.1';
EOSQL
`;

/**
 * The backup job's script. The migration account owns every object of the app's database and
 * reads them all (SELECT, SHOW VIEW, TRIGGER), which is what the dump needs; the application
 * account could not see triggers or views. The password travels in MYSQL_PWD rather than argv.
 * Writing to a temporary name and renaming means a failed dump never replaces a good file nor
 * counts towards the retention.
 */
export function renderBackupScript(options: {
  host: string;
  databaseName: string;
  migrationUsername: string;
  retention: number;
}): string {
  return [
    'ts="$(date -u +%Y%m%dT%H%M%SZ)"',
    `file="/backup/${options.databaseName}-\${ts}.sql.gz"`,
    `mariadb-dump --host=${options.host} --port=${MYSQL_PORT} --user=${options.migrationUsername} \\`,
    '  --single-transaction --quick --routines --triggers --hex-blob \\',
    `  --databases ${options.databaseName} | gzip -6 > "\${file}.partial"`,
    'mv "${file}.partial" "${file}"',
    `ls -1t /backup/${options.databaseName}-*.sql.gz | tail -n +${options.retention + 1} | xargs -r rm -f --`,
    'echo "backup written: ${file}"',
  ].join('\n');
}
