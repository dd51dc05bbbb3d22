/** The nightly logical backup: a CronJob running mariadb-dump into its own claim, and its network policy. */
import { Construct } from 'constructs';
import { KubeCronJob, KubePersistentVolumeClaim, Quantity } from '../../imports/k8s';
import { containerResources, emptyDir } from '../common/pod-parts';
import { Connections, IConnectable } from '../connections';
import { ComponentIdentity, recommendedLabels, selectorLabels } from '../labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';
import { MARIADB_SECRET_KEYS } from './accounts';
import { MARIADB_USER } from './pod-spec';
import { renderBackupScript } from './scripts';

/** When, how many and how large: the construct's resolved backup props. */
export interface MariaDbBackupOptions {
  readonly schedule: string;
  readonly retention: number;
  readonly storageGiB: number;
}

/** The server the backup dumps: the construct itself, as scope, network peer and source of names. */
export interface MariaDbBackupSource extends Construct, IConnectable {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly migrationUsername: string;
  readonly secretName: string;
  readonly storageClassName?: string;
  readonly identity: ComponentIdentity;
}

/**
 * Adds the backup objects under `db`. Their ids (`backup-claim`, `backup`,
 * `backup-network-policy`) are those the construct always gave them: a new claim id would mean a
 * new, empty backup volume.
 */
export function addMariaDbBackup(
  db: MariaDbBackupSource,
  options: MariaDbBackupOptions,
): {
  cronJob: KubeCronJob;
  claim: KubePersistentVolumeClaim;
  connections: Connections;
} {
  const backupName = `${db.name}-backup`;
  const identity: ComponentIdentity = { ...db.identity, instance: backupName, component: 'backup' };
  const labels = recommendedLabels(identity);
  const selector = selectorLabels(identity);

  const claim = new KubePersistentVolumeClaim(db, 'backup-claim', {
    metadata: { name: backupName, namespace: db.namespace, labels },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: db.storageClassName,
      resources: { requests: { storage: Quantity.fromString(`${options.storageGiB}Gi`) } },
    },
  });

  const script = renderBackupScript({
    host: db.host,
    databaseName: db.databaseName,
    migrationUsername: db.migrationUsername,
    retention: options.retention,
  });

  const cronJob = new KubeCronJob(db, 'backup', {
    metadata: { name: backupName, namespace: db.namespace, labels },
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
                  image: db.image,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['bash', '-euo', 'pipefail', '-c', script],
                  env: [
                    {
                      name: 'MYSQL_PWD',
                      valueFrom: {
                        secretKeyRef: {
                          name: db.secretName,
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

  const connections = new Connections(db, 'backup-network-policy', {
    identity,
    namespace: db.namespace,
    podSelectorLabels: selector,
  });
  connections.allowTo(db);
  return { cronJob, claim, connections };
}
