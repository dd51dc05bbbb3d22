import { Construct } from 'constructs';
import {
  Container,
  IntOrString,
  KubeConfigMap,
  KubeService,
  KubeStatefulSet,
  KubePersistentVolumeClaimProps,
  Probe,
  Quantity,
  Volume,
} from '../imports/k8s';
import { requirePinnedImage } from './common/image';
import { resolveNamespace } from './common/namespace';
import { containerResources, emptyDir, scrapeAnnotations, sidecarSecurityContext } from './common/pod-parts';
import {
  requireDnsLabel,
  requireDnsSubdomain,
  requireInteger,
  requireNamespace,
  requireResources,
} from './common/prop-checks';
import { Connections, IConnectable } from './connections';
import {
  AlertRule,
  CacheEndpoint,
  DashboardPanel,
  IHasCredentials,
  IMonitored,
  MonitoringContribution,
  RequiredSecret,
  SecretKeyReference,
} from './endpoints';
import { ComponentIdentity, recommendedLabels, selectorLabels } from './labels';
import { ImageUser, restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security';
import { ResourcePreset } from './resources';
import { SeriesSelector } from './series-selector';

const OWNER = 'RedisCache';

/** The official (Debian) image's `redis` user: `useradd -r -g redis -u 999` with group 999. */
const REDIS_USER: ImageUser = { uid: 999, gid: 999 };
/** oliver006/redis_exporter's scratch image declares `USER 59000:59000`. */
const EXPORTER_USER: ImageUser = { uid: 59000, gid: 59000 };

const REDIS_PORT = 6379;
const METRICS_PORT = 9121;
/** Written at start from the Secret; tmpfs, so the password never touches a disk. */
const AUTH_CONF = '/run/redis/auth.conf';

/** The key of the credentials Secret that holds the `requirepass` password. */
export const REDIS_PASSWORD_KEY = 'password';

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

export interface RedisCacheProps {
  /**
   * Name of the StatefulSet and of the client Service.
   * @default "memo-redis"
   */
  readonly name?: string;
  /**
   * Namespace of every resource.
   * @default - the chart's namespace, else "memo"
   */
  readonly namespace?: string;
  /**
   * The official Redis image (Debian variant; the Alpine one uses another group id), pinned.
   * @default "redis:7.4.6"
   */
  readonly image?: string;
  /**
   * CPU and memory of the Redis container; `maxmemory` is derived from the memory limit.
   * @default ResourcePreset.MICRO
   */
  readonly resources?: ResourcePreset;
  /**
   * `maxmemory` in MiB.
   * @default - 75 % of the memory limit (60 % with appendOnly, leaving room for the rewrite fork)
   */
  readonly maxMemoryMiB?: number;
  /**
   * `maxmemory-policy`: what to evict when full.
   * @default "allkeys-lru"
   * @see https://redis.io/docs/latest/develop/reference/eviction/
   */
  readonly maxMemoryPolicy?: string;
  /**
   * Persist the dataset with an append-only file on a PersistentVolumeClaim. A cache does not
   * need it; turn it on when losing the cache on restart costs too much.
   * @default false
   */
  readonly appendOnly?: boolean;
  /**
   * Size of the data volume in GiB. Only with appendOnly: without it Redis keeps nothing on disk,
   * so a size given there is refused rather than silently ignored.
   * @default 1
   */
  readonly storageGiB?: number;
  /**
   * StorageClass of the data volume. Only with appendOnly (refused without it, as storageGiB is).
   * @default - the cluster's default StorageClass
   * @see https://kubernetes.io/docs/concepts/storage/storage-classes/
   */
  readonly storageClassName?: string;
  /**
   * Name of the Secret whose `password` key holds the `requirepass` password. It is never created here.
   * @default "<name>-credentials"
   */
  readonly existingSecretName?: string;
  /**
   * Commands disabled with `rename-command <name> ""`.
   * @default DEFAULT_DISABLED_COMMANDS
   */
  readonly disabledCommands?: readonly string[];
  /**
   * `maxclients`: connections beyond it are rejected (and alerted on).
   * @default 1000
   */
  readonly maxClients?: number;
}

/** Commands the probes (PING), every client (AUTH) and the exporter (INFO) cannot do without. */
const REQUIRED_COMMANDS: readonly string[] = ['PING', 'AUTH', 'HELLO', 'INFO'];

const EVICTION_POLICIES = [
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
  'noeviction',
];

/**
 * Redis as a cache on the official image: bounded memory with LRU eviction, no persistence
 * unless asked, a password from a Secret, dangerous commands disabled, redis-cli probes and a
 * redis_exporter sidecar.
 *
 * A one-replica StatefulSet rather than a Deployment: a Deployment's rolling update runs the old
 * and the new pod side by side, and two caches behind one Service let an invalidation reach one
 * while a reader refills the other with stale data. A StatefulSet replaces the pod only after
 * the old one has gone, and gives the append-only file its volume when persistence is on.
 */
export class RedisCache
  extends Construct
  implements CacheEndpoint, IConnectable, IMonitored, IHasCredentials
{
  public readonly name: string;
  public readonly namespace: string;
  public readonly image: string;
  public readonly resources: ResourcePreset;
  public readonly maxMemoryMiB: number;
  public readonly maxMemoryPolicy: string;
  public readonly appendOnly: boolean;
  public readonly storageGiB: number;
  public readonly storageClassName?: string;
  public readonly secretName: string;
  public readonly disabledCommands: readonly string[];
  public readonly maxClients: number;

  public readonly host: string;
  public readonly port = REDIS_PORT;
  public readonly headlessServiceName: string;
  public readonly configMapName: string;
  public readonly passwordSecret: SecretKeyReference;
  public readonly podSelectorLabels: Record<string, string>;
  public readonly identity: ComponentIdentity;
  /**
   * The server configuration, mounted as `/etc/redis/redis.conf`. Self-contained: the password
   * comes from a file the start script writes, named by `--include` on the command line.
   */
  public readonly redisConf: string;
  public readonly statefulSet: KubeStatefulSet;
  public readonly service: KubeService;
  public readonly headlessService: KubeService;
  public readonly configMap: KubeConfigMap;
  public readonly connections: Connections;
  public readonly monitoring: MonitoringContribution;
  public readonly requiredSecrets: readonly RequiredSecret[];

  public constructor(scope: Construct, id: string, props: RedisCacheProps = {}) {
    super(scope, id);

    this.name = props.name ?? 'memo-redis';
    requireDnsLabel(OWNER, 'name', this.name, 52);
    this.namespace = resolveNamespace(this, props.namespace);
    requireNamespace(OWNER, 'namespace', this.namespace);
    this.image = props.image ?? 'redis:7.4.6';
    const version = requirePinnedImage(OWNER, 'image', this.image, 'redis:7.4.6');
    this.resources = props.resources ?? ResourcePreset.MICRO;
    // Below this the derived maxmemory leaves Redis itself no room (it needs a few MiB of its own).
    requireResources(OWNER, 'resources', this.resources, 16, 'maxmemory must fit below it');
    this.appendOnly = props.appendOnly ?? false;
    const share = this.appendOnly ? 0.6 : 0.75;
    const limit = this.resources.memoryLimitMiB;
    this.maxMemoryMiB = props.maxMemoryMiB ?? Math.floor(limit * share);
    requireInteger(OWNER, 'maxMemoryMiB', this.maxMemoryMiB, 1, limit - 1);
    this.maxMemoryPolicy = props.maxMemoryPolicy ?? 'allkeys-lru';
    if (!EVICTION_POLICIES.includes(this.maxMemoryPolicy)) {
      throw new Error(
        `${OWNER}: maxMemoryPolicy must be one of ${EVICTION_POLICIES.join(', ')}, got '${this.maxMemoryPolicy}'`,
      );
    }
    if (!this.appendOnly && (props.storageGiB !== undefined || props.storageClassName !== undefined)) {
      throw new Error(
        `${OWNER}: storageGiB and storageClassName size the append-only file's volume, which exists only with appendOnly: true; set appendOnly or leave them out`,
      );
    }
    this.storageGiB = props.storageGiB ?? 1;
    requireInteger(OWNER, 'storageGiB', this.storageGiB, 1);
    this.storageClassName = props.storageClassName;
    if (this.storageClassName !== undefined) {
      requireDnsSubdomain(OWNER, 'storageClassName', this.storageClassName);
    }
    this.secretName = props.existingSecretName ?? `${this.name}-credentials`;
    requireDnsSubdomain(OWNER, 'existingSecretName', this.secretName);
    this.disabledCommands = [...(props.disabledCommands ?? DEFAULT_DISABLED_COMMANDS)].map((c) =>
      String(c).toUpperCase(),
    );
    const seen = new Set<string>();
    for (const command of this.disabledCommands) {
      if (!/^[A-Z][A-Z0-9_-]*$/.test(command)) {
        throw new Error(`${OWNER}: disabledCommands must hold Redis command names, got '${command}'`);
      }
      // Probes run PING, every client AUTHs first, the exporter reads INFO.
      if (REQUIRED_COMMANDS.includes(command)) {
        throw new Error(
          `${OWNER}: disabledCommands must not include ${REQUIRED_COMMANDS.join(', ')} (the probes, clients and exporter need them), got '${command}'`,
        );
      }
      // A second rename-command of the same name finds no such command and Redis refuses to start.
      if (seen.has(command)) {
        throw new Error(`${OWNER}: disabledCommands must not repeat a command, got '${command}' twice`);
      }
      seen.add(command);
    }
    this.maxClients = props.maxClients ?? 1000;
    requireInteger(OWNER, 'maxClients', this.maxClients, 1, 100_000);

    this.host = this.name;
    this.headlessServiceName = `${this.name}-headless`;
    this.configMapName = `${this.name}-config`;
    this.passwordSecret = { secretName: this.secretName, key: REDIS_PASSWORD_KEY };
    this.identity = { name: 'redis', instance: this.name, component: 'cache', version };
    const selector = selectorLabels(this.identity);
    this.podSelectorLabels = selector;
    const labels = recommendedLabels(this.identity);
    const metadata = (name: string) => ({ name, namespace: this.namespace, labels });

    this.redisConf = renderRedisConf({
      preset: this.resources,
      maxMemoryMiB: this.maxMemoryMiB,
      maxMemoryPolicy: this.maxMemoryPolicy,
      appendOnly: this.appendOnly,
      disabledCommands: this.disabledCommands,
      maxClients: this.maxClients,
    });
    this.configMap = new KubeConfigMap(this, 'config', {
      metadata: metadata(this.configMapName),
      data: { 'redis.conf': this.redisConf },
    });

    const ports = [
      { name: 'redis', port: REDIS_PORT, targetPort: IntOrString.fromString('redis') },
      { name: 'metrics', port: METRICS_PORT, targetPort: IntOrString.fromString('metrics') },
    ];
    this.headlessService = new KubeService(this, 'headless-service', {
      metadata: metadata(this.headlessServiceName),
      spec: { clusterIp: 'None', selector, ports },
    });
    this.service = new KubeService(this, 'service', {
      metadata: metadata(this.name),
      spec: { selector, ports: ports.slice(0, 1) },
    });

    const volumeClaimTemplates: KubePersistentVolumeClaimProps[] = this.appendOnly
      ? [
          {
            metadata: { name: 'data', labels },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: this.storageClassName,
              resources: { requests: { storage: Quantity.fromString(`${this.storageGiB}Gi`) } },
            },
          },
        ]
      : [];
    const volumes: Volume[] = [
      { name: 'config', configMap: { name: this.configMapName } },
      { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: Quantity.fromString('1Mi') } },
      emptyDir('tmp', 16),
    ];
    if (!this.appendOnly) {
      // Nothing is persisted, but Redis still changes into its working directory.
      volumes.push(emptyDir('data', 16));
    }

    this.statefulSet = new KubeStatefulSet(this, 'stateful-set', {
      metadata: metadata(this.name),
      spec: {
        serviceName: this.headlessServiceName,
        replicas: 1,
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: { labels, annotations: scrapeAnnotations(METRICS_PORT) },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(REDIS_USER),
            terminationGracePeriodSeconds: this.appendOnly ? 60 : 10,
            containers: [this.redisContainer(), this.exporterContainer()],
            volumes,
          },
        },
        ...(volumeClaimTemplates.length > 0 ? { volumeClaimTemplates } : {}),
      },
    });

    this.connections = new Connections(this, 'network-policy', {
      identity: this.identity,
      namespace: this.namespace,
      podSelectorLabels: selector,
    });
    this.requiredSecrets = [
      { secretName: this.secretName, namespace: this.namespace, keys: [REDIS_PASSWORD_KEY] },
    ];
    this.monitoring = {
      component: 'redis',
      podSelectorLabels: selector,
      namespace: this.namespace,
      serviceName: this.headlessServiceName,
      scrape: { portName: 'metrics', port: METRICS_PORT, path: '/metrics' },
      alertRules: redisAlertRules,
      dashboardTitle: 'Redis',
      dashboardPanels: redisPanels,
    };
  }

  private redisContainer(): Container {
    // redis-cli reads REDISCLI_AUTH, so the password stays out of every argv; the start script
    // copies it into the include file and drops it from the server's environment.
    const start = [
      'umask 077',
      `escaped="$(printf '%s' "$REDISCLI_AUTH" | sed 's/[\\\\"]/\\\\&/g')"`,
      `printf 'requirepass "%s"\\n' "$escaped" > ${AUTH_CONF}`,
      'unset REDISCLI_AUTH escaped',
      `exec redis-server /etc/redis/redis.conf --include ${AUTH_CONF}`,
    ].join('\n');
    const ping: Probe = {
      exec: { command: ['sh', '-c', `redis-cli -h 127.0.0.1 -p ${REDIS_PORT} ping | grep -q PONG`] },
      timeoutSeconds: 3,
    };
    return {
      name: 'redis',
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-ec', start],
      env: [
        {
          name: 'REDISCLI_AUTH',
          valueFrom: { secretKeyRef: { name: this.secretName, key: REDIS_PASSWORD_KEY } },
        },
      ],
      ports: [{ name: 'redis', containerPort: REDIS_PORT }],
      resources: containerResources(this.resources),
      securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
      // Loading a large append-only file answers LOADING for a while: give it five minutes.
      startupProbe: { ...ping, periodSeconds: 5, failureThreshold: 60 },
      readinessProbe: { ...ping, periodSeconds: 5, failureThreshold: 2 },
      livenessProbe: { ...ping, periodSeconds: 15, failureThreshold: 4 },
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'config', mountPath: '/etc/redis', readOnly: true },
        { name: 'run', mountPath: '/run/redis' },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    };
  }

  private exporterContainer(): Container {
    return {
      name: 'redis-exporter',
      image: 'oliver006/redis_exporter:v1.67.0',
      imagePullPolicy: 'IfNotPresent',
      env: [
        { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${REDIS_PORT}` },
        {
          name: 'REDIS_PASSWORD',
          valueFrom: { secretKeyRef: { name: this.secretName, key: REDIS_PASSWORD_KEY } },
        },
        // CONFIG is disabled on the server; maxmemory still arrives through INFO.
        { name: 'REDIS_EXPORTER_CONFIG_COMMAND', value: '-' },
        { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${METRICS_PORT}` },
      ],
      ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
      resources: containerResources(ResourcePreset.NANO),
      securityContext: sidecarSecurityContext(EXPORTER_USER),
      startupProbe: {
        httpGet: { path: '/health', port: IntOrString.fromString('metrics') },
        periodSeconds: 2,
        failureThreshold: 30,
      },
      readinessProbe: {
        httpGet: { path: '/health', port: IntOrString.fromString('metrics') },
        periodSeconds: 15,
      },
      livenessProbe: {
        httpGet: { path: '/health', port: IntOrString.fromString('metrics') },
        periodSeconds: 30,
      },
    };
  }
}

function renderRedisConf(options: {
  preset: ResourcePreset;
  maxMemoryMiB: number;
  maxMemoryPolicy: string;
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

function redisAlertRules(s: SeriesSelector): AlertRule[] {
  return [
    {
      alert: 'RedisDown',
      expr: `(count(${s.series('redis_up')} == 1) or vector(0)) < 1`,
      for: '2m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Redis is down',
        description:
          'The Redis cache has not answered its exporter for 2 minutes; the API serves from the database.',
      },
    },
    {
      alert: 'RedisMemoryNearMax',
      expr: `max by (pod) (${s.series('redis_memory_used_bytes')} / (${s.series('redis_memory_max_bytes')} > 0)) > 0.95`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Redis memory at maxmemory',
        description: 'Redis {{ $labels.pod }} uses {{ $value | humanizePercentage }} of maxmemory.',
      },
    },
    {
      alert: 'RedisHighEvictionRate',
      expr: `sum by (pod) (rate(${s.series('redis_evicted_keys_total')}[5m])) > 50`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Redis evicts keys constantly',
        description:
          'Redis {{ $labels.pod }} evicts {{ $value }} keys/s: the cache is too small for its working set.',
      },
    },
    {
      alert: 'RedisRejectedConnections',
      expr: `sum by (pod) (increase(${s.series('redis_rejected_connections_total')}[5m])) > 0`,
      // Rejections come in bursts; one more evaluation confirms it is not a single scrape's blip.
      for: '1m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Redis rejects connections',
        description:
          'Redis {{ $labels.pod }} rejected {{ $value }} connections in 5 minutes (maxclients reached).',
      },
    },
  ];
}

function redisPanels(s: SeriesSelector): DashboardPanel[] {
  return [
    {
      title: 'Cache hit ratio',
      type: 'timeseries',
      unit: 'percentunit',
      targets: [
        {
          expr: `sum(rate(${s.series('redis_keyspace_hits_total')}[5m])) / (sum(rate(${s.series('redis_keyspace_hits_total')}[5m])) + sum(rate(${s.series('redis_keyspace_misses_total')}[5m])))`,
          legendFormat: 'hit ratio',
        },
      ],
    },
    {
      title: 'Memory used vs maxmemory',
      type: 'timeseries',
      unit: 'bytes',
      targets: [
        { expr: `sum(${s.series('redis_memory_used_bytes')})`, legendFormat: 'used' },
        { expr: `sum(${s.series('redis_memory_max_bytes')})`, legendFormat: 'maxmemory' },
      ],
    },
    {
      title: 'Commands per second',
      type: 'timeseries',
      unit: 'ops',
      targets: [
        { expr: `sum(rate(${s.series('redis_commands_processed_total')}[5m]))`, legendFormat: 'commands' },
      ],
    },
    {
      title: 'Evicted and expired keys per second',
      type: 'timeseries',
      unit: 'ops',
      targets: [
        { expr: `sum(rate(${s.series('redis_evicted_keys_total')}[5m]))`, legendFormat: 'evicted' },
        { expr: `sum(rate(${s.series('redis_expired_keys_total')}[5m]))`, legendFormat: 'expired' },
      ],
    },
    {
      title: 'Connected clients',
      type: 'timeseries',
      targets: [{ expr: `sum(${s.series('redis_connected_clients')})`, legendFormat: 'clients' }],
    },
  ];
}
