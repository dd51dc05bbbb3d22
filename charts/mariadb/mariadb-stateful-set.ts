import * as plus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  IntOrString,
  KubeConfigMap,
  KubeCronJob,
  KubePersistentVolumeClaim,
  KubeService,
  KubeStatefulSet,
  Quantity,
} from '../../imports/k8s';
import { requirePinnedImage } from '../common/image';
import { podFqdn, resolveNamespace } from '../common/namespace';
import { podDisruptionBudget, scrapeAnnotations } from '../common/pod-parts';
import {
  requireCronSchedule,
  requireDnsLabel,
  requireDnsSubdomain,
  requireInteger,
  requireNamespace,
  requireResources,
} from '../common/prop-checks';
import { AllowClientOptions, PlusPeer } from '../plus-peer';
import { Connections, IConnectable } from '../connections';
import { MARIADB_SECRET_KEYS, SYSTEM_USERNAMES } from './accounts';
import { addMariaDbBackup } from './backup-cron-job';
import { mariadbAlertRules, mariadbPanels } from './monitoring';
import { MYSQL_PORT, renderMyCnf } from './my-cnf';
import { mariadbPodSpec, METRICS_PORT } from './pod-spec';
import {
  ACCOUNTS_SCRIPT_FILE,
  EXPORTER_USER_SCRIPT,
  EXPORTER_USER_SCRIPT_FILE,
  renderAccountsScript,
} from './scripts';
import {
  ExistingDatabaseAttributes,
  IDatabaseEndpoint,
  IHasCredentials,
  IMonitored,
  IMonitoringContribution,
  RequiredSecret,
  SecretKeyReference,
} from '../endpoints';
import { ComponentIdentity, recommendedLabels, selectorLabels } from '../labels';
import { ResourcePreset } from '../resources';

const OWNER = 'MariaDbStatefulSet';

export interface MariaDbStatefulSetProps {
  /**
   * Name of the StatefulSet and of the client Service; every other resource name derives from it.
   * Renaming it orphans the data volumes.
   * @default "memo-mariadb"
   */
  readonly name?: string;
  /**
   * Namespace of every resource.
   * @default - the chart's namespace, else "memo"
   */
  readonly namespace?: string;
  /**
   * The official MariaDB image, pinned.
   * @default "mariadb:10.11.19"
   */
  readonly image?: string;
  /**
   * Number of servers. 1 is a single primary; more adds asynchronous GTID replicas (ordinal 0 is
   * the primary, the others are read-only replicas behind the `<name>-read` Service).
   * @default 1
   */
  readonly replicas?: number;
  /**
   * CPU and memory of the database container; InnoDB's buffer pool and the connection limit are sized from it.
   * @default ResourcePreset.SMALL
   */
  readonly resources?: ResourcePreset;
  /**
   * Size of each server's data volume, in GiB.
   * @default 5
   */
  readonly storageGiB?: number;
  /**
   * StorageClass of the data and backup volumes.
   * @default - the cluster's default StorageClass
   * @see https://kubernetes.io/docs/concepts/storage/storage-classes/
   */
  readonly storageClassName?: string;
  /**
   * The database created at first start.
   * @default "memos"
   */
  readonly databaseName?: string;
  /**
   * The application account created at first start: SELECT, INSERT, UPDATE and DELETE on
   * `databaseName`, nothing else (no DDL, no other database).
   * @default "memo"
   */
  readonly username?: string;
  /**
   * The migration account created at first start, which owns the schema: DDL (CREATE, ALTER,
   * DROP, INDEX, REFERENCES, views, triggers) and data statements on `databaseName` only. Schema
   * migrations and the backup log in with it; the application never does.
   * @default "memo_migrator"
   */
  readonly migrationUsername?: string;
  /**
   * Name of the Secret holding the credentials (keys `root-password`, `password`,
   * `migration-password`, `exporter-password`, and `replication-password` when replicas > 1).
   * It is never created here.
   * @default "<name>-credentials"
   */
  readonly existingSecretName?: string;
  /**
   * `max_connections` of the server.
   * @default - half the memory limit in MiB, between 50 and 500
   */
  readonly maxConnections?: number;
  /**
   * Spread the servers across zones and hosts.
   * @default false
   */
  readonly spreadAcrossZones?: boolean;
  /**
   * Run a nightly logical backup (`mariadb-dump`) into a PersistentVolumeClaim.
   * @default true
   */
  readonly backupEnabled?: boolean;
  /**
   * Cron schedule of the backup, in the controller's time zone (UTC on most clusters).
   * @default "0 3 * * *"
   */
  readonly backupSchedule?: string;
  /**
   * Number of backup files kept; older ones are deleted after each successful run.
   * @default 7
   */
  readonly backupRetention?: number;
  /**
   * Size of the backup volume, in GiB.
   * @default - the same as storageGiB
   */
  readonly backupStorageGiB?: number;
  /**
   * The cluster's DNS domain, for the replicas' address of the primary.
   * @default "cluster.local"
   */
  readonly clusterDomain?: string;
}

/**
 * MariaDB on the official image: a StatefulSet with one data volume per server, utf8mb4
 * configuration, database and user bootstrap from a Secret, `healthcheck.sh` probes, a
 * mysqld-exporter sidecar, opt-in primary/replica replication and a backup CronJob.
 */
export class MariaDbStatefulSet
  extends PlusPeer
  implements IDatabaseEndpoint, IConnectable, IMonitored, IHasCredentials
{
  /**
   * A MariaDB (or MySQL-protocol) database this chart does not make, for clients such as
   * `MemoApi`: its Service, accounts and password Secrets. No ingress rule is added on its side.
   */
  public static fromExistingDatabase(attributes: ExistingDatabaseAttributes): IDatabaseEndpoint {
    return { ...attributes, podSelectorLabels: { ...attributes.podSelectorLabels } };
  }

  public readonly name: string;
  public readonly namespace: string;
  public readonly image: string;
  public readonly replicas: number;
  public readonly resources: ResourcePreset;
  public readonly storageGiB: number;
  public readonly storageClassName?: string;
  public readonly databaseName: string;
  public readonly username: string;
  public readonly migrationUsername: string;
  public readonly secretName: string;
  public readonly maxConnections: number;
  public readonly spreadAcrossZones: boolean;
  public readonly clusterDomain: string;
  /** The `innodb_buffer_pool_size` in MiB, derived from the memory limit. */
  public readonly innodbBufferPoolMiB: number;

  /** The client Service (writes go to the primary). */
  public readonly host: string;
  public readonly port = MYSQL_PORT;
  /** The Service for reads: every server when replicated, else the same as `host`. */
  public readonly readHost: string;
  public readonly headlessServiceName: string;
  public readonly configMapName: string;
  public readonly passwordSecret: SecretKeyReference;
  public readonly migrationPasswordSecret: SecretKeyReference;
  public readonly rootPasswordSecret: SecretKeyReference;
  /** Labels selecting every server pod. */
  public readonly podSelectorLabels: Record<string, string>;
  public readonly identity: ComponentIdentity;

  /** The server configuration, mounted as `/etc/mysql/conf.d/memo.cnf`; self-contained (no `!includedir`). */
  public readonly myCnf: string;
  /**
   * The initdb script that creates the database and its two accounts on the primary's first
   * start (`create-app-accounts.sh` in the ConfigMap), sourced by the image's entrypoint.
   */
  public readonly accountsScript: string;
  public readonly statefulSet: KubeStatefulSet;
  public readonly service: KubeService;
  public readonly headlessService: KubeService;
  public readonly readService?: KubeService;
  public readonly configMap: KubeConfigMap;
  public readonly backupCronJob?: KubeCronJob;
  public readonly backupClaim?: KubePersistentVolumeClaim;
  public readonly connections: Connections;
  /** The policy of the backup job's pods (egress to the database). */
  public readonly backupConnections?: Connections;
  public readonly monitoring: IMonitoringContribution;
  public readonly requiredSecrets: RequiredSecret[];

  public constructor(scope: Construct, id: string, props: MariaDbStatefulSetProps = {}) {
    super(scope, id);

    this.name = props.name ?? 'memo-mariadb';
    requireDnsLabel(OWNER, 'name', this.name, 52);
    this.namespace = resolveNamespace(this, props.namespace);
    requireNamespace(OWNER, 'namespace', this.namespace);
    this.image = props.image ?? 'mariadb:10.11.19';
    const version = requirePinnedImage(OWNER, 'image', this.image);
    this.replicas = props.replicas ?? 1;
    requireInteger(OWNER, 'replicas', this.replicas, 1, 9);
    this.resources = props.resources ?? ResourcePreset.SMALL;
    // The buffer pool's 32 MiB floor must stay within half the limit (see innodbBufferPoolMiB).
    requireResources(
      OWNER,
      'resources',
      this.resources,
      64,
      'the 32 MiB InnoDB buffer pool floor is half of it',
    );
    this.storageGiB = props.storageGiB ?? 5;
    requireInteger(OWNER, 'storageGiB', this.storageGiB, 1);
    this.storageClassName = props.storageClassName;
    if (this.storageClassName !== undefined) {
      requireDnsSubdomain(OWNER, 'storageClassName', this.storageClassName);
    }
    this.databaseName = props.databaseName ?? 'memos';
    requireIdentifier('databaseName', this.databaseName);
    this.username = props.username ?? 'memo';
    requireIdentifier('username', this.username);
    this.migrationUsername = props.migrationUsername ?? 'memo_migrator';
    requireIdentifier('migrationUsername', this.migrationUsername);
    for (const [prop, value] of [
      ['username', this.username],
      ['migrationUsername', this.migrationUsername],
    ] as const) {
      if (SYSTEM_USERNAMES.includes(value)) {
        throw new Error(`${OWNER}: ${prop} '${value}' is reserved for a system account; choose another`);
      }
    }
    if (this.migrationUsername === this.username) {
      throw new Error(
        `${OWNER}: migrationUsername must differ from username (the application account may not change the schema), got '${this.migrationUsername}' for both`,
      );
    }
    this.secretName = props.existingSecretName ?? `${this.name}-credentials`;
    requireDnsSubdomain(OWNER, 'existingSecretName', this.secretName);
    const memoryLimitMiB = this.resources.memoryLimitMiB;
    this.maxConnections = props.maxConnections ?? Math.min(500, Math.max(50, Math.floor(memoryLimitMiB / 2)));
    requireInteger(OWNER, 'maxConnections', this.maxConnections, 10, 100_000);
    this.spreadAcrossZones = props.spreadAcrossZones ?? false;
    this.clusterDomain = props.clusterDomain ?? 'cluster.local';
    // It ends up in the replicas' start script: only a plain domain may go there.
    requireDnsSubdomain(OWNER, 'clusterDomain', this.clusterDomain);
    // Checked even when backups are off, so a typo does not wait for the day they are turned on.
    const backupOptions = {
      schedule: props.backupSchedule ?? '0 3 * * *',
      retention: props.backupRetention ?? 7,
      storageGiB: props.backupStorageGiB ?? this.storageGiB,
    };
    requireCronSchedule(OWNER, 'backupSchedule', backupOptions.schedule);
    requireInteger(OWNER, 'backupRetention', backupOptions.retention, 1, 1000);
    requireInteger(OWNER, 'backupStorageGiB', backupOptions.storageGiB, 1);

    this.host = this.name;
    this.headlessServiceName = `${this.name}-headless`;
    this.readHost = this.replicas > 1 ? `${this.name}-read` : this.name;
    this.configMapName = `${this.name}-config`;
    this.passwordSecret = { secretName: this.secretName, key: MARIADB_SECRET_KEYS.PASSWORD };
    this.migrationPasswordSecret = {
      secretName: this.secretName,
      key: MARIADB_SECRET_KEYS.MIGRATION_PASSWORD,
    };
    this.rootPasswordSecret = { secretName: this.secretName, key: MARIADB_SECRET_KEYS.ROOT_PASSWORD };
    this.identity = {
      name: 'mariadb',
      instance: this.name,
      component: 'database',
      version,
    };
    const selector = selectorLabels(this.identity);
    this.podSelectorLabels = selector;
    const labels = recommendedLabels(this.identity);
    const metadata = (name: string) => ({ name, namespace: this.namespace, labels });

    // A 50 % share leaves room for per-connection buffers and the exporter-free overhead of
    // mariadbd itself; large servers can afford 60 %. Multiples of 8 MiB avoid rounding warnings.
    const share = memoryLimitMiB >= 2048 ? 0.6 : 0.5;
    this.innodbBufferPoolMiB = Math.max(32, Math.floor((memoryLimitMiB * share) / 8) * 8);
    this.myCnf = renderMyCnf({
      preset: this.resources,
      bufferPoolMiB: this.innodbBufferPoolMiB,
      maxConnections: this.maxConnections,
      replicated: this.replicas > 1,
    });

    this.accountsScript = renderAccountsScript({
      databaseName: this.databaseName,
      username: this.username,
      migrationUsername: this.migrationUsername,
    });
    this.configMap = new KubeConfigMap(this, 'config', {
      metadata: metadata(this.configMapName),
      data: {
        'memo.cnf': this.myCnf,
        [ACCOUNTS_SCRIPT_FILE]: this.accountsScript,
        [EXPORTER_USER_SCRIPT_FILE]: EXPORTER_USER_SCRIPT,
      },
    });

    this.headlessService = new KubeService(this, 'headless-service', {
      metadata: metadata(this.headlessServiceName),
      spec: {
        clusterIp: 'None',
        selector,
        ports: [
          { name: 'mysql', port: MYSQL_PORT, targetPort: IntOrString.fromString('mysql') },
          { name: 'metrics', port: METRICS_PORT, targetPort: IntOrString.fromString('metrics') },
        ],
      },
    });
    const primarySelector =
      this.replicas > 1 ? { ...selector, 'statefulset.kubernetes.io/pod-name': `${this.name}-0` } : selector;
    this.service = new KubeService(this, 'service', {
      metadata: metadata(this.name),
      spec: {
        selector: primarySelector,
        ports: [{ name: 'mysql', port: MYSQL_PORT, targetPort: IntOrString.fromString('mysql') }],
      },
    });
    if (this.replicas > 1) {
      this.readService = new KubeService(this, 'read-service', {
        metadata: metadata(this.readHost),
        spec: {
          selector,
          ports: [{ name: 'mysql', port: MYSQL_PORT, targetPort: IntOrString.fromString('mysql') }],
        },
      });
    }

    const primaryFqdn = podFqdn(
      `${this.name}-0`,
      this.headlessServiceName,
      this.namespace,
      this.clusterDomain,
    );
    const podSpec = mariadbPodSpec(this, primaryFqdn);
    this.statefulSet = new KubeStatefulSet(this, 'stateful-set', {
      metadata: metadata(this.name),
      spec: {
        serviceName: this.headlessServiceName,
        replicas: this.replicas,
        // Replicas clone from the primary at first start, so the primary must be up first.
        podManagementPolicy: 'OrderedReady',
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: { labels, annotations: scrapeAnnotations(METRICS_PORT) },
          spec: podSpec,
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
    if (this.replicas > 1) {
      // Replicas pull the binary log from the primary over the MySQL protocol.
      this.connections.allowInternal([{ port: MYSQL_PORT }]);
    }

    if (props.backupEnabled ?? true) {
      const backup = addMariaDbBackup(this, backupOptions);
      this.backupCronJob = backup.cronJob;
      this.backupClaim = backup.claim;
      this.backupConnections = backup.connections;
    }

    const keys: string[] = [
      MARIADB_SECRET_KEYS.ROOT_PASSWORD,
      MARIADB_SECRET_KEYS.PASSWORD,
      MARIADB_SECRET_KEYS.MIGRATION_PASSWORD,
      MARIADB_SECRET_KEYS.EXPORTER_PASSWORD,
    ];
    if (this.replicas > 1) {
      keys.push(MARIADB_SECRET_KEYS.REPLICATION_PASSWORD);
    }
    this.requiredSecrets = [{ secretName: this.secretName, namespace: this.namespace, keys }];

    this.monitoring = {
      component: 'mariadb',
      podSelectorLabels: selector,
      namespace: this.namespace,
      serviceName: this.headlessServiceName,
      scrape: { portName: 'metrics', port: METRICS_PORT, path: '/metrics' },
      alertRules: (series) => mariadbAlertRules(series, this.replicas),
      dashboardTitle: 'MariaDB',
      dashboardPanels: mariadbPanels,
    };
  }

  /**
   * Lets a cdk8s-plus workload (Deployment, StatefulSet, DaemonSet or Job) of any chart connect to
   * MariaDB on port 3306, and on no other port; `options.isolation` picks which side
   * gets a policy. These pods are cdk8s-plus network peers too, so
   * `client.connections.allowTo(this, { ports })` works as for any cdk8s-plus pod.
   */
  public allowClient(client: plus.Workload, options: AllowClientOptions = {}): void {
    this.connectClient('MariaDbStatefulSet', client, this.port, options);
  }
}

/** Database and user names go into SQL unquoted by the image's scripts: keep them plain. */
function requireIdentifier(prop: string, value: string): void {
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(value)) {
    throw new Error(
      `${OWNER}: ${prop} must start with a letter and contain only letters, digits and '_' (at most 32 characters), got '${value}'`,
    );
  }
}
