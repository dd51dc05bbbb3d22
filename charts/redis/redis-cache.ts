import * as plus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  IntOrString,
  KubeConfigMap,
  KubeService,
  KubeStatefulSet,
  KubePersistentVolumeClaimProps,
  Quantity,
  Volume,
} from '../../imports/k8s';
import { requirePinnedImage } from '../common/image';
import { resolveNamespace } from '../common/namespace';
import { emptyDir, scrapeAnnotations } from '../common/pod-parts';
import {
  requireDnsLabel,
  requireDnsSubdomain,
  requireInteger,
  requireNamespace,
  requireResources,
} from '../common/prop-checks';
import { AllowClientOptions, PlusPeer } from '../plus-peer';
import { Connections, IConnectable } from '../connections';
import { redisAlertRules, redisPanels } from './monitoring';
import { exporterContainer, METRICS_PORT, REDIS_PASSWORD_KEY, REDIS_USER, redisContainer } from './pod-spec';
import { EvictionPolicy } from './eviction-policy';
import { DEFAULT_DISABLED_COMMANDS, REDIS_PORT, renderRedisConf, REQUIRED_COMMANDS } from './redis-conf';
import {
  ExistingCacheAttributes,
  ICacheEndpoint,
  IHasCredentials,
  IMonitored,
  IMonitoringContribution,
  RequiredSecret,
  SecretKeyReference,
} from '../endpoints';
import { ComponentIdentity, recommendedLabels, selectorLabels } from '../labels';
import { restrictedPodSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';

const OWNER = 'RedisCache';

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
   * @default EvictionPolicy.ALLKEYS_LRU
   * @see https://redis.io/docs/latest/develop/reference/eviction/
   */
  readonly maxMemoryPolicy?: EvictionPolicy;
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
  readonly disabledCommands?: string[];
  /**
   * `maxclients`: connections beyond it are rejected (and alerted on).
   * @default 1000
   */
  readonly maxClients?: number;
}

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
  extends PlusPeer
  implements ICacheEndpoint, IConnectable, IMonitored, IHasCredentials
{
  /**
   * A Redis this chart does not make, for clients such as `MemoApi`: its Service and password
   * Secret. No ingress rule is added on its side.
   */
  public static fromExistingCache(attributes: ExistingCacheAttributes): ICacheEndpoint {
    return { ...attributes, podSelectorLabels: { ...attributes.podSelectorLabels } };
  }

  public readonly name: string;
  public readonly namespace: string;
  public readonly image: string;
  public readonly resources: ResourcePreset;
  public readonly maxMemoryMiB: number;
  public readonly maxMemoryPolicy: EvictionPolicy;
  public readonly appendOnly: boolean;
  public readonly storageGiB: number;
  public readonly storageClassName?: string;
  public readonly secretName: string;
  public readonly disabledCommands: string[];
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
  public readonly monitoring: IMonitoringContribution;
  public readonly requiredSecrets: RequiredSecret[];

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
    this.maxMemoryPolicy = props.maxMemoryPolicy ?? EvictionPolicy.ALLKEYS_LRU;
    // JavaScript callers (and jsii languages' casts) can hand over any string.
    const policies: string[] = Object.values(EvictionPolicy);
    if (!policies.includes(this.maxMemoryPolicy)) {
      throw new Error(
        `${OWNER}: maxMemoryPolicy must be one of ${policies.join(', ')}, got '${this.maxMemoryPolicy}'`,
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
            containers: [redisContainer(this), exporterContainer(this)],
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

  /**
   * Lets a cdk8s-plus workload (Deployment, StatefulSet, DaemonSet or Job) of any chart connect to
   * Redis on port 6379, and on no other port; `options.isolation` picks which side
   * gets a policy. These pods are cdk8s-plus network peers too, so
   * `client.connections.allowTo(this, { ports })` works as for any cdk8s-plus pod.
   */
  public allowClient(client: plus.Workload, options: AllowClientOptions = {}): void {
    this.connectClient('RedisCache', client, this.port, options);
  }
}
