/** redis.conf: memory bound and eviction, persistence, clients, and the commands renamed away. */
import { ResourcePreset } from '../resources';
import { EvictionPolicy } from './eviction-policy';

/** The port the server listens on, written into redis.conf and named `redis` on the container. */
export const REDIS_PORT = 6379;

/**
 * Commands a cache client never needs and an intruder loves: wiping data, reconfiguring or
 * stopping the server, blocking it with a full key scan, or turning it into a replica.
 */
export const DEFAULT_DISABLED_COMMANDS: readonly string[] = [
  'FLUSHALL',
  'FLUSHDB',
  'CONFIG',
  'DEBUG',
  'KEYS',
  'SHUTDOWN',
  'MONITOR',
  'MODULE',
  'REPLICAOF',
  'SLAVEOF',
];

/** Commands the probes (PING), every client (AUTH) and the exporter (INFO) cannot do without. */
export const REQUIRED_COMMANDS: readonly string[] = ['PING', 'AUTH', 'HELLO', 'INFO'];

export function renderRedisConf(options: {
  preset: ResourcePreset;
  maxMemoryMiB: number;
  maxMemoryPolicy: EvictionPolicy;
  appendOnly: boolean;
  disabledCommands: readonly string[];
  maxClients: number;
}): string {
  const lines = [
    `# Cache settings for the '${options.preset.name}' preset (${options.preset.memoryLimitMiB} MiB memory limit).`,
    'bind * -::*',
    // requirepass is always set (from the include file), so protected mode never blocks clients.
    'protected-mode yes',
    `port ${REDIS_PORT}`,
    // Clients hold pooled connections; keepalive finds dead peers, no idle timeout drops live ones.
    'timeout 0',
    'tcp-keepalive 60',
    `maxclients ${options.maxClients}`,
    'dir /data',
    `maxmemory ${options.maxMemoryMiB}mb`,
    `maxmemory-policy ${options.maxMemoryPolicy}`,
    'lazyfree-lazy-eviction yes',
    'lazyfree-lazy-expire yes',
    'save ""',
  ];
  if (options.appendOnly) {
    lines.push(
      'appendonly yes',
      'appendfsync everysec',
      'aof-use-rdb-preamble yes',
      'auto-aof-rewrite-percentage 100',
      'auto-aof-rewrite-min-size 64mb',
    );
  } else {
    lines.push('appendonly no');
  }
  lines.push('latency-monitor-threshold 100');
  for (const command of options.disabledCommands) {
    lines.push(`rename-command ${command} ""`);
  }
  return lines.join('\n') + '\n';
}
