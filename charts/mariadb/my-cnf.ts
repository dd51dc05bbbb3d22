/** memo.cnf: the server configuration sized from the resource preset. */
import { ResourcePreset } from '../resources';

/** The port the server listens on, written into memo.cnf and named `mysql` on the container. */
export const MYSQL_PORT = 3306;

/**
 * memo.cnf for a preset: the buffer pool and connection limit derived by the construct, a redo
 * log a quarter of the buffer pool, and the binary log only when there are replicas to read it.
 */
export function renderMyCnf(options: {
  preset: ResourcePreset;
  bufferPoolMiB: number;
  maxConnections: number;
  replicated: boolean;
}): string {
  const { preset, bufferPoolMiB, maxConnections, replicated } = options;
  const redoLogMiB = Math.max(32, Math.min(1024, Math.floor(bufferPoolMiB / 4)));
  const tmpTableMiB = preset.memoryLimitMiB >= 2048 ? 64 : 16;
  const lines = [
    `# Sized for the '${preset.name}' preset (${preset.memoryLimitMiB} MiB memory limit).`,
    '[client-server]',
    `port = ${MYSQL_PORT}`,
    'socket = /run/mysqld/mysqld.sock',
    '',
    '[client]',
    'default-character-set = utf8mb4',
    '',
    '[mariadbd]',
    'bind-address = 0.0.0.0',
    // Clients are pods with changing addresses; reverse lookups only add latency and failure modes.
    'skip-name-resolve',
    'character-set-server = utf8mb4',
    'collation-server = utf8mb4_unicode_ci',
    `max_connections = ${maxConnections}`,
    'max_allowed_packet = 16M',
    'tmpdir = /tmp',
    `tmp_table_size = ${tmpTableMiB}M`,
    `max_heap_table_size = ${tmpTableMiB}M`,
    'innodb_file_per_table = ON',
    `innodb_buffer_pool_size = ${bufferPoolMiB}M`,
    `innodb_log_file_size = ${redoLogMiB}M`,
    'innodb_flush_log_at_trx_commit = 1',
    'performance_schema = OFF',
    // Counts Slow_queries (alerted on) without writing a log file that grows on the data volume.
    'long_query_time = 1',
  ];
  if (replicated) {
    lines.push(
      'log_bin = mysql-bin',
      'relay_log = relay-bin',
      'binlog_format = ROW',
      'sync_binlog = 1',
      'log_slave_updates = ON',
      'gtid_strict_mode = ON',
      'binlog_expire_logs_seconds = 604800',
    );
  }
  return lines.join('\n') + '\n';
}
