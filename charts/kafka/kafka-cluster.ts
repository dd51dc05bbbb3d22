import * as plus from 'cdk8s-plus-27';
import { createHash } from 'crypto';
import { Construct } from 'constructs';
import { IntOrString, KubeJob, KubeService, KubeStatefulSet, Quantity } from '../../imports/k8s';
import { requirePinnedImage } from '../common/image';
import { podFqdn, resolveNamespace } from '../common/namespace';
import { containerResources, emptyDir, podDisruptionBudget, scrapeAnnotations } from '../common/pod-parts';
import {
  MAX_TOPIC_PARTITIONS,
  requireDnsLabel,
  requireDnsSubdomain,
  requireInteger,
  requireNamespace,
  requireResources,
} from '../common/prop-checks';
import { AllowClientOptions, PlusPeer } from '../plus-peer';
import { Connections, IConnectable } from '../connections';
import { kafkaAlertRules, kafkaPanels } from './monitoring';
import { BROKER_PORT, CONTROLLER_PORT, KAFKA_USER, kafkaPodSpec, LOG_DIR, METRICS_PORT } from './pod-spec';
import { KafkaTopic, KafkaTopicOptions, TOPIC_NAME, topicJobName } from './topic';
import {
  ExistingEventsAttributes,
  IEventsEndpoint,
  IHasCredentials,
  IMonitored,
  IMonitoringContribution,
  RequiredSecret,
} from '../endpoints';
import { ComponentIdentity, recommendedLabels, selectorLabels } from '../labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';

const OWNER = 'KafkaCluster';

export interface KafkaClusterProps {
  /**
   * Name of the StatefulSet; Services are `<name>-headless` and `<name>-bootstrap`. Renaming it
   * orphans the data volumes and changes the derived cluster id.
   * @default "memo-kafka"
   */
  readonly name?: string;
  /**
   * Namespace of every resource.
   * @default - the chart's namespace, else "memo"
   */
  readonly namespace?: string;
  /**
   * The Apache Kafka image, pinned.
   * @default "apache/kafka:3.9.1"
   */
  readonly image?: string;
  /**
   * Number of nodes, each a broker and a KRaft controller voter. Use an odd number (1 or 3): a
   * quorum of n voters survives the loss of (n-1)/2. The quorum is static, so the count is fixed
   * once the cluster has started.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * CPU and memory of each Kafka container; the JVM heap is half the memory limit, the rest is
   * page cache and off-heap.
   * @default ResourcePreset.MEDIUM
   */
  readonly resources?: ResourcePreset;
  /**
   * Size of each node's log volume, in GiB.
   * @default 10
   */
  readonly storageGiB?: number;
  /**
   * StorageClass of the log volumes.
   * @default - the cluster's default StorageClass
   * @see https://kubernetes.io/docs/concepts/storage/storage-classes/
   */
  readonly storageClassName?: string;
  /**
   * Spread the nodes across zones and hosts.
   * @default false
   */
  readonly spreadAcrossZones?: boolean;
  /**
   * The KRaft cluster id (22 characters of base64url).
   * @default - derived from namespace and name, so every synth yields the same id
   */
  readonly clusterId?: string;
  /**
   * The cluster's DNS domain, for the nodes' advertised addresses and the quorum voters.
   * @default "cluster.local"
   */
  readonly clusterDomain?: string;
  /**
   * `log.retention.hours` of topics that do not set their own.
   * @default 168
   */
  readonly logRetentionHours?: number;
}

/**
 * Apache Kafka in KRaft combined mode (every node a broker and a controller, no ZooKeeper) on
 * the official image: a StatefulSet with a log volume per node, a headless Service for the
 * nodes' own addresses and a bootstrap Service for clients, a kafka-exporter sidecar, and
 * topics provisioned by idempotent Jobs.
 */
export class KafkaCluster
  extends PlusPeer
  implements IEventsEndpoint, IConnectable, IMonitored, IHasCredentials
{
  /**
   * A Kafka cluster this chart does not make, for clients such as `MemoApi`: its bootstrap
   * Service and, when known, its topics. No ingress rule is added on its side.
   */
  public static fromExistingCluster(attributes: ExistingEventsAttributes): IEventsEndpoint {
    const { declaredTopics, ...service } = attributes;
    const topics = declaredTopics === undefined ? undefined : [...declaredTopics];
    return {
      ...service,
      podSelectorLabels: { ...service.podSelectorLabels },
      declaredTopics: () => (topics === undefined ? undefined : [...topics]),
    };
  }

  /**
   * Renders KAFKA_* settings as server.properties, with the image's own translation
   * (KAFKA_ prefix dropped, lower case, `_` to `.`, `__` to `_`, `___` to `-`).
   */
  public static toServerProperties(settings: Readonly<Record<string, string>>): string {
    return (
      Object.entries(settings)
        .filter(([key]) => key.startsWith('KAFKA_'))
        .map(([key, value]) => {
          const property = key
            .slice('KAFKA_'.length)
            .toLowerCase()
            .replace(/_/g, '.')
            .replace(/\.\.\./g, '-')
            .replace(/\.\./g, '_');
          return `${property}=${value}`;
        })
        .sort()
        .join('\n') + '\n'
    );
  }

  /** The deterministic cluster id of a cluster: 16 bytes of SHA-256 over namespace and name, base64url. */
  public static deriveClusterId(namespace: string, name: string): string {
    return createHash('sha256')
      .update(`kafka-cluster-id/${namespace}/${name}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }

  public readonly name: string;
  public readonly namespace: string;
  public readonly image: string;
  public readonly replicas: number;
  public readonly resources: ResourcePreset;
  public readonly storageGiB: number;
  public readonly storageClassName?: string;
  public readonly spreadAcrossZones: boolean;
  public readonly clusterDomain: string;
  public readonly clusterId: string;
  /** `controller.quorum.voters`: `<ordinal>@<pod>.<headless>.<ns>.svc.<domain>:9093`, one per node. */
  public readonly quorumVoters: string;
  /** Replication factor of internal topics and the default of new ones: min(3, replicas). */
  public readonly replicationFactor: number;
  /** `min.insync.replicas`: 2 from three nodes up, so one node may fail without losing acknowledged writes. */
  public readonly minInSyncReplicas: number;
  /** The JVM heap in MiB (`KAFKA_HEAP_OPTS`). */
  public readonly heapMiB: number;
  /**
   * The KAFKA_* settings every node gets, as environment variables (the image turns them into
   * server.properties). Per-node settings are in `brokerSettingsFor()`.
   */
  public readonly brokerSettings: Readonly<Record<string, string>>;

  /** The bootstrap Service. */
  public readonly host: string;
  public readonly port = BROKER_PORT;
  /** `<bootstrap>.<namespace>.svc:9092`, valid from any namespace. */
  public readonly bootstrapServers: string;
  public readonly headlessServiceName: string;
  public readonly podSelectorLabels: Record<string, string>;
  public readonly identity: ComponentIdentity;
  public readonly statefulSet: KubeStatefulSet;
  public readonly bootstrapService: KubeService;
  public readonly headlessService: KubeService;
  public readonly connections: Connections;
  /** Kafka here has no credentials (PLAINTEXT inside the cluster, fenced by NetworkPolicies). */
  public readonly requiredSecrets: RequiredSecret[] = [];

  private readonly topics: KafkaTopic[] = [];
  private topicConnections?: Connections;

  public constructor(scope: Construct, id: string, props: KafkaClusterProps = {}) {
    super(scope, id);

    this.name = props.name ?? 'memo-kafka';
    requireDnsLabel(OWNER, 'name', this.name, 52);
    this.namespace = resolveNamespace(this, props.namespace);
    requireNamespace(OWNER, 'namespace', this.namespace);
    this.image = props.image ?? 'apache/kafka:3.9.1';
    const version = requirePinnedImage(OWNER, 'image', this.image, 'apache/kafka:3.9.1');
    this.replicas = props.replicas ?? 1;
    // An even voter count tolerates no more failures than one voter fewer, and two voters
    // tolerate none: every node is a controller voter here.
    if (
      !Number.isInteger(this.replicas) ||
      this.replicas < 1 ||
      this.replicas > 9 ||
      this.replicas % 2 === 0
    ) {
      throw new Error(
        `${OWNER}: replicas must be an odd integer 1..9 (the KRaft quorum of n voters survives (n-1)/2 failures), got ${this.replicas}`,
      );
    }
    this.resources = props.resources ?? ResourcePreset.MEDIUM;
    requireResources(OWNER, 'resources', this.resources, 256, 'the JVM heap is half of it, at least 128 MiB');
    this.storageGiB = props.storageGiB ?? 10;
    requireInteger(OWNER, 'storageGiB', this.storageGiB, 1);
    this.storageClassName = props.storageClassName;
    if (this.storageClassName !== undefined) {
      requireDnsSubdomain(OWNER, 'storageClassName', this.storageClassName);
    }
    this.spreadAcrossZones = props.spreadAcrossZones ?? false;
    this.clusterDomain = props.clusterDomain ?? 'cluster.local';
    // It ends up in the advertised listeners and the start script: only a plain domain may go there.
    requireDnsSubdomain(OWNER, 'clusterDomain', this.clusterDomain);
    const logRetentionHours = props.logRetentionHours ?? 168;
    // log.retention.hours is a Java int.
    requireInteger(OWNER, 'logRetentionHours', logRetentionHours, 1, 2_147_483_647);
    this.clusterId = props.clusterId ?? KafkaCluster.deriveClusterId(this.namespace, this.name);
    if (typeof this.clusterId !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(this.clusterId)) {
      throw new Error(
        `${OWNER}: clusterId must be 22 characters of base64url (16 bytes), got '${this.clusterId}'`,
      );
    }

    this.headlessServiceName = `${this.name}-headless`;
    this.host = `${this.name}-bootstrap`;
    this.bootstrapServers = `${this.host}.${this.namespace}.svc:${BROKER_PORT}`;
    this.quorumVoters = Array.from(
      { length: this.replicas },
      (_, ordinal) => `${ordinal}@${this.podAddress(ordinal)}:${CONTROLLER_PORT}`,
    ).join(',');
    this.replicationFactor = Math.min(3, this.replicas);
    this.minInSyncReplicas = this.replicas >= 3 ? 2 : 1;
    // Half the limit for the heap; Kafka lives on the page cache, which needs the rest.
    this.heapMiB = Math.max(128, Math.floor(this.resources.memoryLimitMiB / 2 / 16) * 16);
    // The cleaner's dedupe buffer defaults to 128 MiB, a quarter of a small heap.
    const dedupeBufferBytes = Math.min(128, Math.floor(this.heapMiB / 8)) * 1024 * 1024;

    this.brokerSettings = {
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: this.quorumVoters,
      KAFKA_LISTENERS: `PLAINTEXT://:${BROKER_PORT},CONTROLLER://:${CONTROLLER_PORT}`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LOG_DIRS: LOG_DIR,
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_DEFAULT_REPLICATION_FACTOR: String(this.replicationFactor),
      KAFKA_MIN_INSYNC_REPLICAS: String(this.minInSyncReplicas),
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(this.replicationFactor),
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(this.replicationFactor),
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(this.minInSyncReplicas),
      KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
      // A lone node has nobody to wait for; a cluster waits for its members to join the group.
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: this.replicas === 1 ? '0' : '3000',
      KAFKA_NUM_PARTITIONS: '3',
      KAFKA_LOG_RETENTION_HOURS: String(logRetentionHours),
      // Smaller segments than the 1 GiB default let retention free space on small volumes.
      KAFKA_LOG_SEGMENT_BYTES: String(256 * 1024 * 1024),
      KAFKA_LOG_CLEANER_DEDUPE_BUFFER_SIZE: String(dedupeBufferBytes),
    };

    this.identity = {
      name: 'kafka',
      instance: this.name,
      component: 'events',
      version,
    };
    const selector = selectorLabels(this.identity);
    this.podSelectorLabels = selector;
    const labels = recommendedLabels(this.identity);
    const metadata = (name: string) => ({ name, namespace: this.namespace, labels });

    this.headlessService = new KubeService(this, 'headless-service', {
      metadata: metadata(this.headlessServiceName),
      spec: {
        clusterIp: 'None',
        // Nodes must resolve each other before any is ready: the quorum forms first.
        publishNotReadyAddresses: true,
        selector,
        ports: [
          { name: 'kafka', port: BROKER_PORT, targetPort: IntOrString.fromString('kafka') },
          { name: 'controller', port: CONTROLLER_PORT, targetPort: IntOrString.fromString('controller') },
          { name: 'metrics', port: METRICS_PORT, targetPort: IntOrString.fromString('metrics') },
        ],
      },
    });
    this.bootstrapService = new KubeService(this, 'bootstrap-service', {
      metadata: metadata(this.host),
      spec: {
        selector,
        ports: [{ name: 'kafka', port: BROKER_PORT, targetPort: IntOrString.fromString('kafka') }],
      },
    });

    this.statefulSet = new KubeStatefulSet(this, 'stateful-set', {
      metadata: metadata(this.name),
      spec: {
        serviceName: this.headlessServiceName,
        replicas: this.replicas,
        // All voters must start together: no node becomes ready before a quorum exists.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: { labels, annotations: scrapeAnnotations(METRICS_PORT) },
          spec: kafkaPodSpec(this),
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: this.storageClassName,
              resources: { requests: { storage: Quantity.fromString(`${this.storageGiB}Gi`) } },
            },
          },
        ],
      },
    });

    if (this.replicas > 1) {
      podDisruptionBudget(this, 'pdb', {
        name: this.name,
        namespace: this.namespace,
        identity: this.identity,
        selector,
      });
    }

    this.connections = new Connections(this, 'network-policy', {
      identity: this.identity,
      namespace: this.namespace,
      podSelectorLabels: selector,
    });
    // Replication and metadata between nodes, and the exporter sidecars reaching every broker.
    this.connections.allowInternal([{ port: BROKER_PORT }, { port: CONTROLLER_PORT }]);
  }

  /** The settings of one node: `brokerSettings` plus its node id and advertised listener. */
  public brokerSettingsFor(ordinal: number): Readonly<Record<string, string>> {
    requireInteger(OWNER, 'ordinal', ordinal, 0, this.replicas - 1);
    return {
      ...this.brokerSettings,
      KAFKA_NODE_ID: String(ordinal),
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${this.podAddress(ordinal)}:${BROKER_PORT}`,
    };
  }

  /** The topics added so far. */
  public get topicList(): KafkaTopic[] {
    return [...this.topics];
  }

  /**
   * The names of the topics added so far. Clients check theirs against it, because the brokers
   * run with auto.create.topics.enable=false: a topic nobody added fails every send.
   */
  public declaredTopics(): string[] | undefined {
    return this.topics.map((t) => t.name);
  }

  /**
   * Creates a topic with a Job that runs `kafka-topics.sh --create --if-not-exists` until the
   * cluster answers. Re-running it is harmless; it never changes an existing topic.
   */
  public addTopic(name: string, options: KafkaTopicOptions): KafkaTopic {
    if (!TOPIC_NAME.test(name) || name.length > 249 || name === '.' || name === '..') {
      throw new Error(
        `${OWNER}.addTopic: name must be 1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-' (not '.' or '..'), got '${name}'`,
      );
    }
    requireInteger(`${OWNER}.addTopic`, 'partitions', options.partitions, 1, MAX_TOPIC_PARTITIONS);
    const replicationFactor = options.replicationFactor ?? this.replicationFactor;
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > this.replicas) {
      throw new Error(
        `${OWNER}.addTopic: replicationFactor must be an integer between 1 and replicas (${this.replicas}), got ${replicationFactor}`,
      );
    }
    const config = { ...(options.config ?? {}) };
    for (const [key, value] of Object.entries(config)) {
      // The value lands inside single quotes in the Job's script: no quote may close them.
      if (!/^[a-z][a-z0-9.]*$/.test(key) || typeof value !== 'string' || !/^[^\s,=']+$/.test(value)) {
        throw new Error(
          `${OWNER}.addTopic: config entries must be 'name.like.this' = value without spaces, got '${key}=${value}'`,
        );
      }
    }
    // With acks=all a producer needs min.insync.replicas live replicas; more than the topic has
    // means every such write fails with NOT_ENOUGH_REPLICAS.
    const minInSyncSetting = config['min.insync.replicas'];
    const minInSync = Number(minInSyncSetting ?? this.minInSyncReplicas);
    if (!Number.isInteger(minInSync) || minInSync < 1 || minInSync > replicationFactor) {
      const source = minInSyncSetting === undefined ? 'the cluster default' : "config['min.insync.replicas']";
      throw new Error(
        `${OWNER}.addTopic: min.insync.replicas of topic '${name}' (${source}) must be an integer between 1 and its replicationFactor (${replicationFactor}), got ${minInSyncSetting ?? minInSync}`,
      );
    }
    const jobName = topicJobName(this.name, name);
    const collision = this.topics.find((t) => t.name === name || topicJobName(this.name, t.name) === jobName);
    if (collision !== undefined) {
      throw new Error(
        `${OWNER}.addTopic: topic '${name}' clashes with topic '${collision.name}' already added (Job ${jobName})`,
      );
    }

    const identity: ComponentIdentity = {
      ...this.identity,
      instance: `${this.name}-topics`,
      component: 'topic-provisioner',
    };
    const labels = recommendedLabels(identity);
    if (this.topicConnections === undefined) {
      this.topicConnections = new Connections(this, 'topics-network-policy', {
        identity,
        namespace: this.namespace,
        podSelectorLabels: selectorLabels(identity),
      });
      this.topicConnections.allowTo(this);
    }

    const create = [
      '/opt/kafka/bin/kafka-topics.sh',
      `--bootstrap-server ${this.host}:${BROKER_PORT}`,
      '--create --if-not-exists',
      `--topic '${name}'`,
      `--partitions ${options.partitions}`,
      `--replication-factor ${replicationFactor}`,
      ...Object.entries(config)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => `--config '${key}=${value}'`),
    ].join(' ');
    // Kafka may still be forming its quorum when the Job starts; retrying in-process keeps one
    // pod and one log instead of a trail of failed pods.
    const script = [
      'for attempt in $(seq 1 30); do',
      `  if ${create}; then`,
      `    echo "topic ${name} present"; exit 0`,
      '  fi',
      '  echo "attempt ${attempt} failed; retrying in 10 s"; sleep 10',
      'done',
      'exit 1',
    ].join('\n');

    const job = new KubeJob(this, `topic-${name}`, {
      metadata: {
        name: jobName,
        namespace: this.namespace,
        labels,
        // A Job's template is immutable, and a TTL would make GitOps tools recreate a finished
        // Job forever (Argo CD sees it missing and syncs it again). So the Job stays, and the
        // tools replace it instead of patching it: Argo CD runs it as a Sync hook, deleting the
        // previous run first; Flux recreates it when it changes. The script is idempotent.
        annotations: {
          'argocd.argoproj.io/hook': 'Sync',
          'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
          'kustomize.toolkit.fluxcd.io/force': 'enabled',
        },
      },
      spec: {
        backoffLimit: 3,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'OnFailure',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(KAFKA_USER),
            containers: [
              {
                name: 'create-topic',
                image: this.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['bash', '-ec', script],
                env: [{ name: 'KAFKA_HEAP_OPTS', value: '-Xms64m -Xmx128m' }],
                resources: containerResources(ResourcePreset.SMALL),
                securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'logs', mountPath: '/opt/kafka/logs' },
                ],
              },
            ],
            volumes: [emptyDir('tmp', 64), emptyDir('logs', 64)],
          },
        },
      },
    });
    const topic = new KafkaTopic(name, options.partitions, replicationFactor, config, job);
    this.topics.push(topic);
    return topic;
  }

  /** Computed when read, so that topics added after construction get their lag alerts. */
  public get monitoring(): IMonitoringContribution {
    return {
      component: 'kafka',
      podSelectorLabels: this.podSelectorLabels,
      namespace: this.namespace,
      serviceName: this.headlessServiceName,
      scrape: { portName: 'metrics', port: METRICS_PORT, path: '/metrics' },
      alertRules: (series) =>
        kafkaAlertRules(
          series,
          this.replicas,
          this.topics.map((t) => t.name),
        ),
      dashboardTitle: 'Kafka',
      dashboardPanels: kafkaPanels,
    };
  }

  private podAddress(ordinal: number): string {
    return podFqdn(`${this.name}-${ordinal}`, this.headlessServiceName, this.namespace, this.clusterDomain);
  }

  /**
   * Lets a cdk8s-plus workload (Deployment, StatefulSet, DaemonSet or Job) of any chart connect to
   * every Kafka broker on port 9092, the client listener, and on no other port; `options.isolation` picks which side
   * gets a policy. These pods are cdk8s-plus network peers too, so
   * `client.connections.allowTo(this, { ports })` works as for any cdk8s-plus pod.
   */
  public allowClient(client: plus.Workload, options: AllowClientOptions = {}): void {
    this.connectClient('KafkaCluster', client, this.port, options);
  }
}
