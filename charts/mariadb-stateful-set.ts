import { Construct } from 'constructs';
import {
  Container,
  EnvVar,
  IntOrString,
  KubeConfigMap,
  KubeCronJob,
  KubePersistentVolumeClaim,
  KubeService,
  KubeStatefulSet,
  PodSpec,
  Probe,
  Quantity,
} from '../imports/k8s';
import { requirePinnedImage } from './common/image';
import { podFqdn, resolveNamespace } from './common/namespace';
import {
  containerResources,
  emptyDir,
  podDisruptionBudget,
  scrapeAnnotations,
  sidecarSecurityContext,
  spreadAcrossZones,
} from './common/pod-parts';
import {
  requireCronSchedule,
  requireDnsLabel,
  requireDnsSubdomain,
  requireInteger,
  requireNamespace,
  requireResources,
} from './common/prop-checks';
import { Connections, IConnectable } from './connections';
import {
  AlertRule,
  DashboardPanel,
  DatabaseEndpoint,
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

const OWNER = 'MariaDbStatefulSet';

/** The official image's `mysql` user (created with `useradd -r` on Ubuntu: 999:999). */
const MARIADB_USER: ImageUser = { uid: 999, gid: 999 };
/** prom/mysqld-exporter runs as `nobody`. */
const EXPORTER_USER: ImageUser = { uid: 65534, gid: 65534 };

const MYSQL_PORT = 3306;
const METRICS_PORT = 9104;
const EXPORTER_USERNAME = 'exporter';
const REPLICATION_USERNAME = 'replicator';

/** Keys of the credentials Secret. */
export const MARIADB_SECRET_KEYS = {
  /** The `root` account's password (bootstrap and administration only). */
  ROOT_PASSWORD: 'root-password',
  /** The application account's password (data statements on the database only). */
  PASSWORD: 'password',
  /** The migration account's password (the schema owner: DDL on the database only). */
  MIGRATION_PASSWORD: 'migration-password',
  /** The mysqld-exporter account's password (PROCESS and REPLICA MONITOR only). */
  EXPORTER_PASSWORD: 'exporter-password',
  /** The replication account's password; read only when replicas > 1. */
  REPLICATION_PASSWORD: 'replication-password',
} as const;

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
  extends Construct
  implements DatabaseEndpoint, IConnectable, IMonitored, IHasCredentials
{
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
  public readonly monitoring: MonitoringContribution;
  public readonly requiredSecrets: readonly RequiredSecret[];

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
        'create-exporter-user.sh': EXPORTER_USER_SCRIPT,
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
    const podSpec = this.podSpec(primaryFqdn);
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
      const backup = this.addBackup(backupOptions);
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

  private podSpec(primaryFqdn: string): PodSpec {
    const secretEnv = (name: string, key: string): EnvVar => ({
      name,
      valueFrom: { secretKeyRef: { name: this.secretName, key } },
    });
    const replicated = this.replicas > 1;
    const env: EnvVar[] = [
      secretEnv('MARIADB_ROOT_PASSWORD', MARIADB_SECRET_KEYS.ROOT_PASSWORD),
      // The image's default, '%', would also create root@'%': any pod that reaches port 3306
      // could try the root password. root stays on the socket inside the pod.
      { name: 'MARIADB_ROOT_HOST', value: 'localhost' },
      // Read by the initdb script that creates the database and its accounts (not the image's
      // MARIADB_DATABASE/USER/PASSWORD, whose user gets ALL on the database, DDL included).
      secretEnv(ACCOUNT_PASSWORD_ENV.app, MARIADB_SECRET_KEYS.PASSWORD),
      secretEnv(ACCOUNT_PASSWORD_ENV.migration, MARIADB_SECRET_KEYS.MIGRATION_PASSWORD),
      // Read by the initdb script that creates the exporter's account.
      secretEnv('MYSQLD_EXPORTER_PASSWORD', MARIADB_SECRET_KEYS.EXPORTER_PASSWORD),
      // The image's healthcheck account; REPLICA MONITOR lets probes check replication too.
      { name: 'MARIADB_HEALTHCHECK_GRANTS', value: 'REPLICA MONITOR' },
      { name: 'MARIADB_AUTO_UPGRADE', value: '1' },
    ];
    if (replicated) {
      env.push(
        { name: 'MARIADB_REPLICATION_USER', value: REPLICATION_USERNAME },
        secretEnv('MARIADB_REPLICATION_PASSWORD', MARIADB_SECRET_KEYS.REPLICATION_PASSWORD),
      );
    }

    const probe = (command: string[], overrides: Partial<Probe>): Probe => ({
      exec: { command },
      timeoutSeconds: 5,
      ...overrides,
    });

    const mariadb: Container = {
      name: 'mariadb',
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      ...(replicated ? { command: ['bash', '-ec', replicationWrapper(primaryFqdn)] } : {}),
      env,
      ports: [{ name: 'mysql', containerPort: MYSQL_PORT }],
      resources: containerResources(this.resources),
      securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
      // First start initialises the data directory and loads time zones: give it five minutes.
      startupProbe: probe(HEALTHCHECK, { periodSeconds: 10, failureThreshold: 30 }),
      readinessProbe: probe(['bash', '-ec', READINESS_SCRIPT], { periodSeconds: 10, failureThreshold: 3 }),
      livenessProbe: probe(HEALTHCHECK, { periodSeconds: 20, failureThreshold: 3 }),
      volumeMounts: [
        { name: 'data', mountPath: '/var/lib/mysql' },
        { name: 'config', mountPath: '/etc/mysql/conf.d', readOnly: true },
        { name: 'initdb', mountPath: '/docker-entrypoint-initdb.d', readOnly: true },
        { name: 'run', mountPath: '/run/mysqld' },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    };

    const exporter: Container = {
      name: 'mysqld-exporter',
      image: 'prom/mysqld-exporter:v0.15.1',
      imagePullPolicy: 'IfNotPresent',
      args: [
        `--mysqld.address=127.0.0.1:${MYSQL_PORT}`,
        `--mysqld.username=${EXPORTER_USERNAME}`,
        `--web.listen-address=:${METRICS_PORT}`,
      ],
      env: [secretEnv('MYSQLD_EXPORTER_PASSWORD', MARIADB_SECRET_KEYS.EXPORTER_PASSWORD)],
      ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
      resources: containerResources(ResourcePreset.NANO),
      securityContext: sidecarSecurityContext(EXPORTER_USER),
      // The landing page answers without querying the database, so a database restart does not
      // restart the exporter too.
      startupProbe: {
        httpGet: { path: '/', port: IntOrString.fromString('metrics') },
        periodSeconds: 2,
        failureThreshold: 30,
      },
      readinessProbe: { httpGet: { path: '/', port: IntOrString.fromString('metrics') }, periodSeconds: 15 },
      livenessProbe: { httpGet: { path: '/', port: IntOrString.fromString('metrics') }, periodSeconds: 30 },
    };

    return {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: restrictedPodSecurityContext(MARIADB_USER),
      // InnoDB flushes dirty pages on a clean shutdown; a kill means crash recovery at next start.
      terminationGracePeriodSeconds: 60,
      containers: [mariadb, exporter],
      volumes: [
        {
          name: 'config',
          configMap: { name: this.configMapName, items: [{ key: 'memo.cnf', path: 'memo.cnf' }] },
        },
        {
          name: 'initdb',
          configMap: {
            name: this.configMapName,
            items: [ACCOUNTS_SCRIPT_FILE, 'create-exporter-user.sh'].map((key) => ({ key, path: key })),
          },
        },
        emptyDir('run', 16),
        emptyDir('tmp', 512),
      ],
      ...(this.spreadAcrossZones ? spreadAcrossZones(this.podSelectorLabels) : {}),
    };
  }

  private addBackup(options: { schedule: string; retention: number; storageGiB: number }): {
    cronJob: KubeCronJob;
    claim: KubePersistentVolumeClaim;
    connections: Connections;
  } {
    const backupName = `${this.name}-backup`;
    const identity: ComponentIdentity = { ...this.identity, instance: backupName, component: 'backup' };
    const labels = recommendedLabels(identity);
    const selector = selectorLabels(identity);

    const claim = new KubePersistentVolumeClaim(this, 'backup-claim', {
      metadata: { name: backupName, namespace: this.namespace, labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: this.storageClassName,
        resources: { requests: { storage: Quantity.fromString(`${options.storageGiB}Gi`) } },
      },
    });

    // The migration account owns every object of the app's database and reads them all
    // (SELECT, SHOW VIEW, TRIGGER), which is what the dump needs; the application account
    // could not see triggers or views. The password travels in MYSQL_PWD rather than argv. Writing to a temporary name and renaming
    // means a failed dump never replaces a good file nor counts towards the retention.
    const script = [
      'ts="$(date -u +%Y%m%dT%H%M%SZ)"',
      `file="/backup/${this.databaseName}-\${ts}.sql.gz"`,
      `mariadb-dump --host=${this.host} --port=${MYSQL_PORT} --user=${this.migrationUsername} \\`,
      '  --single-transaction --quick --routines --triggers --hex-blob \\',
      `  --databases ${this.databaseName} | gzip -6 > "\${file}.partial"`,
      'mv "${file}.partial" "${file}"',
      `ls -1t /backup/${this.databaseName}-*.sql.gz | tail -n +${options.retention + 1} | xargs -r rm -f --`,
      'echo "backup written: ${file}"',
    ].join('\n');

    const cronJob = new KubeCronJob(this, 'backup', {
      metadata: { name: backupName, namespace: this.namespace, labels },
      spec: {
        schedule: options.schedule,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 3600,
            template: {
              metadata: { labels },
              spec: {
                restartPolicy: 'OnFailure',
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: restrictedPodSecurityContext(MARIADB_USER),
                containers: [
                  {
                    name: 'backup',
                    image: this.image,
                    imagePullPolicy: 'IfNotPresent',
                    command: ['bash', '-euo', 'pipefail', '-c', script],
                    env: [
                      {
                        name: 'MYSQL_PWD',
                        valueFrom: {
                          secretKeyRef: {
                            name: this.secretName,
                            key: MARIADB_SECRET_KEYS.MIGRATION_PASSWORD,
                          },
                        },
                      },
                    ],
                    resources: containerResources(ResourcePreset.MICRO),
                    securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
                    volumeMounts: [
                      { name: 'backup', mountPath: '/backup' },
                      { name: 'tmp', mountPath: '/tmp' },
                    ],
                  },
                ],
                volumes: [
                  { name: 'backup', persistentVolumeClaim: { claimName: backupName } },
                  emptyDir('tmp', 64),
                ],
              },
            },
          },
        },
      },
    });

    const connections = new Connections(this, 'backup-network-policy', {
      identity,
      namespace: this.namespace,
      podSelectorLabels: selector,
    });
    connections.allowTo(this);
    return { cronJob, claim, connections };
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

/** Liveness and startup: the server answers and InnoDB is up (the image's healthcheck.sh and account). */
const HEALTHCHECK = ['healthcheck.sh', '--connect', '--innodb_initialized'];

/**
 * Readiness adds, on a replica (ordinal above 0), running replication threads: a replica that
 * stopped applying the primary's changes leaves the read Service instead of serving ever staler
 * data. Liveness leaves replication out, so replicas are not restarted while the primary is down.
 */
const READINESS_SCRIPT = [
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
function replicationWrapper(primaryFqdn: string): string {
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

const ACCOUNTS_SCRIPT_FILE = 'create-app-accounts.sh';
/** The container variables the accounts script reads the two passwords from. */
const ACCOUNT_PASSWORD_ENV = { app: 'APP_USER_PASSWORD', migration: 'MIGRATION_USER_PASSWORD' } as const;
/** Accounts the image or this construct creates for itself. */
const SYSTEM_USERNAMES: readonly string[] = [
  EXPORTER_USERNAME,
  REPLICATION_USERNAME,
  'root',
  'healthcheck',
  'mysql',
];

/** What each account may do on the app's database; neither has a right on any other database. */
export const MARIADB_ACCOUNT_GRANTS = {
  /** The application: rows only. GET_LOCK and SELECT ... FOR UPDATE SKIP LOCKED need no more. */
  app: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  /** The schema owner: migrations (DDL plus the data changes a migration makes) and backups. */
  migration: [
    'SELECT',
    'INSERT',
    'UPDATE',
    'DELETE',
    'CREATE',
    'DROP',
    'ALTER',
    'INDEX',
    'REFERENCES',
    'CREATE VIEW',
    'SHOW VIEW',
    'TRIGGER',
  ],
} as const;

/**
 * Sourced by the image's entrypoint at first initialisation, with its helpers in scope
 * (`docker_process_sql` runs SQL as root, `docker_sql_escape_string_literal` escapes a literal).
 * It runs on the primary only and stays in the binary log, so replicas receive the database and
 * the accounts from it. Names are identifiers checked by the constructor; `_` is escaped in the
 * GRANT because it is a wildcard there (`memo_db` would also match `memoXdb`).
 */
function renderAccountsScript(options: {
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
const EXPORTER_USER_SCRIPT = `# Creates the mysqld-exporter account (first initialisation only).
exporterPasswordEscaped="$(docker_sql_escape_string_literal "\${MYSQLD_EXPORTER_PASSWORD}")"
docker_process_sql --database=mysql <<EOSQL
SET @@SESSION.SQL_LOG_BIN=0;
CREATE USER IF NOT EXISTS '${EXPORTER_USERNAME}'@'127.0.0.1' IDENTIFIED BY '\${exporterPasswordEscaped}' WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICA MONITOR ON *.* TO '${EXPORTER_USERNAME}'@'127.0.0.1';
EOSQL
`;

function renderMyCnf(options: {
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

function mariadbAlertRules(s: SeriesSelector, replicas: number): AlertRule[] {
  const rules: AlertRule[] = [
    {
      alert: 'MariaDbDown',
      expr: `(count(${s.series('mysql_up')} == 1) or vector(0)) < ${replicas}`,
      for: '2m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'A MariaDB server is down',
        description: `Fewer than ${replicas} MariaDB server(s) answer their exporter for 2 minutes.`,
      },
    },
    {
      alert: 'MariaDbConnectionsNearMax',
      expr: `max by (pod) (${s.series('mysql_global_status_threads_connected')} / ${s.series('mysql_global_variables_max_connections')}) > 0.8`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'MariaDB connections above 80 % of max_connections',
        description: 'MariaDB {{ $labels.pod }} uses {{ $value | humanizePercentage }} of max_connections.',
      },
    },
    {
      alert: 'MariaDbSlowQueries',
      expr: `sum by (pod) (rate(${s.series('mysql_global_status_slow_queries')}[5m])) > 1`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'MariaDB runs more than one slow query per second',
        description: 'MariaDB {{ $labels.pod }} logs {{ $value }} slow queries/s (long_query_time 1 s).',
      },
    },
  ];
  if (replicas > 1) {
    rules.push(
      {
        alert: 'MariaDbReplicationStopped',
        expr: `${s.series('mysql_slave_status_slave_io_running')} == 0 or ${s.series('mysql_slave_status_slave_sql_running')} == 0`,
        for: '2m',
        labels: { severity: 'critical' },
        annotations: {
          summary: 'MariaDB replication stopped',
          description: 'A replication thread of {{ $labels.pod }} is not running.',
        },
      },
      {
        alert: 'MariaDbReplicationLag',
        expr: `${s.series('mysql_slave_status_seconds_behind_master')} > 30`,
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'MariaDB replica lags behind the primary',
          description: 'Replica {{ $labels.pod }} is {{ $value }} s behind the primary.',
        },
      },
    );
  }
  return rules;
}

function mariadbPanels(s: SeriesSelector): DashboardPanel[] {
  return [
    {
      title: 'Queries per second',
      type: 'timeseries',
      unit: 'qps',
      targets: [
        {
          expr: `sum by (pod) (rate(${s.series('mysql_global_status_queries')}[5m]))`,
          legendFormat: '{{pod}}',
        },
      ],
    },
    {
      title: 'Connections',
      type: 'timeseries',
      targets: [
        {
          expr: `sum by (pod) (${s.series('mysql_global_status_threads_connected')})`,
          legendFormat: '{{pod}} connected',
        },
        {
          expr: `max(${s.series('mysql_global_variables_max_connections')})`,
          legendFormat: 'max_connections',
        },
      ],
    },
    {
      title: 'Slow queries per second',
      type: 'timeseries',
      unit: 'qps',
      targets: [
        {
          expr: `sum by (pod) (rate(${s.series('mysql_global_status_slow_queries')}[5m]))`,
          legendFormat: '{{pod}}',
        },
      ],
    },
    {
      title: 'InnoDB buffer pool hit ratio',
      type: 'timeseries',
      unit: 'percentunit',
      targets: [
        {
          expr: `1 - sum by (pod) (rate(${s.series('mysql_global_status_innodb_buffer_pool_reads')}[5m])) / sum by (pod) (rate(${s.series('mysql_global_status_innodb_buffer_pool_read_requests')}[5m]))`,
          legendFormat: '{{pod}}',
        },
      ],
    },
    {
      title: 'Replication lag',
      type: 'timeseries',
      unit: 's',
      targets: [
        {
          expr: `max by (pod) (${s.series('mysql_slave_status_seconds_behind_master')})`,
          legendFormat: '{{pod}}',
        },
      ],
    },
  ];
}
