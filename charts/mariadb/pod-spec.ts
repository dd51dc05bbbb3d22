/** The server pods: the MariaDB container with its probes and replication start, the exporter sidecar, volumes and spread. */
import { Container, EnvVar, IntOrString, PodSpec, Probe } from '../../imports/k8s';
import { containerResources, emptyDir, sidecarSecurityContext, spreadAcrossZones } from '../common/pod-parts';
import { ImageUser, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';
import {
  EXPORTER_USERNAME,
  MARIADB_SECRET_KEYS,
  ACCOUNT_PASSWORD_ENV,
  REPLICATION_USERNAME,
} from './accounts';
import { MYSQL_PORT } from './my-cnf';
import {
  ACCOUNTS_SCRIPT_FILE,
  EXPORTER_USER_SCRIPT_FILE,
  HEALTHCHECK,
  READINESS_SCRIPT,
  replicationWrapper,
} from './scripts';

/** The official image's `mysql` user (created with `useradd -r` on Ubuntu: 999:999). */
export const MARIADB_USER: ImageUser = { uid: 999, gid: 999 };
/** prom/mysqld-exporter runs as `nobody`. */
const EXPORTER_USER: ImageUser = { uid: 65534, gid: 65534 };

/** The port mysqld-exporter serves `/metrics` on, named `metrics` on the container and the headless Service. */
export const METRICS_PORT = 9104;

/** What the pod spec is built from: the construct's resolved values. */
export interface MariaDbPodSpecSource {
  readonly image: string;
  readonly replicas: number;
  readonly resources: ResourcePreset;
  readonly secretName: string;
  readonly configMapName: string;
  readonly spreadAcrossZones: boolean;
  readonly podSelectorLabels: Record<string, string>;
}

/** The StatefulSet's pod spec; replicas start from `primaryFqdn`, the address of ordinal 0. */
export function mariadbPodSpec(db: MariaDbPodSpecSource, primaryFqdn: string): PodSpec {
  const secretEnv = (name: string, key: string): EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: db.secretName, key } },
  });
  const replicated = db.replicas > 1;
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
    image: db.image,
    imagePullPolicy: 'IfNotPresent',
    ...(replicated ? { command: ['bash', '-ec', replicationWrapper(primaryFqdn)] } : {}),
    env,
    ports: [{ name: 'mysql', containerPort: MYSQL_PORT }],
    resources: containerResources(db.resources),
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
        configMap: { name: db.configMapName, items: [{ key: 'memo.cnf', path: 'memo.cnf' }] },
      },
      {
        name: 'initdb',
        configMap: {
          name: db.configMapName,
          items: [ACCOUNTS_SCRIPT_FILE, EXPORTER_USER_SCRIPT_FILE].map((key) => ({ key, path: key })),
        },
      },
      emptyDir('run', 16),
      emptyDir('tmp', 512),
    ],
    ...(db.spreadAcrossZones ? spreadAcrossZones(db.podSelectorLabels) : {}),
  };
}
