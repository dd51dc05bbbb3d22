import { Chart, Testing } from 'cdk8s';
import { MariaDbStatefulSet, MariaDbStatefulSetProps } from '../../charts/mariadb/mariadb-stateful-set';
import { ResourcePreset } from '../../charts/resources';
import { SeriesSelector } from '../../charts/series-selector';
import {
  container,
  envOf,
  expectNoLiteralSecrets,
  expectProductionReadyPods,
  find,
  names,
  secretRefs,
  synth,
} from './backing-assertions';

/** The series of MariaDB as a monitoring stack in memo scrapes them. */
const series = new SeriesSelector({ job: 'memo-mariadb-headless', namespace: 'memo' });

function build(props: MariaDbStatefulSetProps = {}, chartProps = { namespace: 'memo' }) {
  const app = Testing.app();
  const chart = new Chart(app, 'test', chartProps);
  const db = new MariaDbStatefulSet(chart, 'mariadb', props);
  return { chart, db, manifests: synth(chart) };
}

describe('MariaDbStatefulSet with defaults', () => {
  const { db, manifests } = build();
  const sts = find(manifests, 'StatefulSet', 'memo-mariadb');

  test('when synthesized, then the manifests match the snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });

  test('when synthesized, then the stateful resource names are the contract names', () => {
    expect(names(manifests, 'StatefulSet')).toEqual(['memo-mariadb']);
    expect(sts.spec.serviceName).toBe('memo-mariadb-headless');
    expect(sts.spec.volumeClaimTemplates.map((t: { metadata: { name: string } }) => t.metadata.name)).toEqual(
      ['data'],
    );
    expect(names(manifests, 'Service')).toEqual(['memo-mariadb', 'memo-mariadb-headless']);
    expect(names(manifests, 'ConfigMap')).toEqual(['memo-mariadb-config']);
    expect(names(manifests, 'PersistentVolumeClaim')).toEqual(['memo-mariadb-backup']);
    expect(names(manifests, 'CronJob')).toEqual(['memo-mariadb-backup']);
    expect(names(manifests, 'PodDisruptionBudget')).toEqual([]);
  });

  test('when synthesized, then the client Service exposes 3306 as mysql and the headless one adds metrics', () => {
    expect(find(manifests, 'Service', 'memo-mariadb').spec.ports).toEqual([
      { name: 'mysql', port: 3306, targetPort: 'mysql' },
    ]);
    const headless = find(manifests, 'Service', 'memo-mariadb-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).toEqual([
      'mysql:3306',
      'metrics:9104',
    ]);
  });

  test('when synthesized, then every pod is restricted, sized, probed and pinned', () => {
    expectProductionReadyPods(manifests);
    expect(sts.spec.template.spec.securityContext).toMatchObject({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
    });
    expect(container(sts, 'mariadb').image).toBe('mariadb:10.11.19');
    expect(container(sts, 'mysqld-exporter')).toMatchObject({
      image: 'prom/mysqld-exporter:v0.15.1',
      securityContext: { runAsUser: 65534, runAsGroup: 65534 },
      resources: ResourcePreset.NANO.toResourceRequirements(),
    });
    expect(container(sts, 'mariadb').resources).toEqual(ResourcePreset.SMALL.toResourceRequirements());
  });

  test('when synthesized, then the data volume is kept when the StatefulSet is deleted or scaled down', () => {
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '5Gi' } },
    });
  });

  test('when synthesized, then the probes run the image healthcheck.sh with connect and innodb_initialized', () => {
    const c = container(sts, 'mariadb');
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
      expect(probe.exec.command.join(' ')).toContain('healthcheck.sh --connect --innodb_initialized');
    }
    expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(300);
  });

  test('when synthesized, then the database and its two accounts are bootstrapped by the initdb script from the Secret', () => {
    const c = container(sts, 'mariadb');
    const env = envOf(c);
    // Not the image's MARIADB_USER: its account gets ALL on the database, DDL included.
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(['MARIADB_USER']));
    expect(Object.keys(env)).not.toContain('MARIADB_PASSWORD');
    expect(c.env.filter((e: { name: string }) => /USER_PASSWORD$/.test(e.name))).toEqual([
      {
        name: 'APP_USER_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'memo-mariadb-credentials', key: 'password' } },
      },
      {
        name: 'MIGRATION_USER_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'memo-mariadb-credentials', key: 'migration-password' } },
      },
    ]);
    const config = find(manifests, 'ConfigMap', 'memo-mariadb-config');
    expect(config.data['create-app-accounts.sh']).toBe(db.accountsScript);
    expect(db.accountsScript).toContain(
      "GRANT SELECT, INSERT, UPDATE, DELETE ON \\`memos\\`.* TO 'memo'@'%';",
    );
    expect(db.accountsScript).toMatch(/GRANT SELECT, .*CREATE, DROP, ALTER, .* TO 'memo_migrator'@'%';/);
    expect(db.accountsScript).not.toMatch(/ALL|GRANT OPTION|\*\.\*/);
    expect(
      sts.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'initdb').configMap.items,
    ).toEqual([
      { key: 'create-app-accounts.sh', path: 'create-app-accounts.sh' },
      { key: 'create-exporter-user.sh', path: 'create-exporter-user.sh' },
    ]);
    expect(secretRefs(manifests)).toEqual([
      'memo-mariadb-credentials/exporter-password',
      'memo-mariadb-credentials/migration-password',
      'memo-mariadb-credentials/password',
      'memo-mariadb-credentials/root-password',
    ]);
    expectNoLiteralSecrets(manifests);
    expect(db.requiredSecrets).toEqual([
      {
        secretName: 'memo-mariadb-credentials',
        namespace: 'memo',
        keys: ['root-password', 'password', 'migration-password', 'exporter-password'],
      },
    ]);
  });

  test('when synthesized, then root is created for localhost only (the socket inside the pod), not for every host', () => {
    expect(envOf(container(sts, 'mariadb'))).toMatchObject({ MARIADB_ROOT_HOST: 'localhost' });
  });

  test('when synthesized, then my.cnf is utf8mb4, self-contained and sized from the SMALL preset', () => {
    expect(db.myCnf).toContain('character-set-server = utf8mb4');
    expect(db.myCnf).toContain('collation-server = utf8mb4_unicode_ci');
    expect(db.myCnf).toContain('skip-name-resolve');
    expect(db.myCnf).toContain('bind-address = 0.0.0.0');
    expect(db.myCnf).not.toContain('!include');
    expect(db.myCnf).not.toContain('log_bin');
    // SMALL has a 256 MiB limit: half for the buffer pool, half the MiB as connections.
    expect(db.myCnf).toContain('innodb_buffer_pool_size = 128M');
    expect(db.myCnf).toContain('max_connections = 128');
    expect(find(manifests, 'ConfigMap', 'memo-mariadb-config').data['memo.cnf']).toBe(db.myCnf);
  });

  test('when synthesized, then the exporter account is created without reaching the binary log', () => {
    const script = find(manifests, 'ConfigMap', 'memo-mariadb-config').data['create-exporter-user.sh'];
    expect(script).toContain('SET @@SESSION.SQL_LOG_BIN=0;');
    expect(script).toContain("CREATE USER IF NOT EXISTS 'exporter'@'127.0.0.1'");
    expect(script).toContain('GRANT PROCESS, REPLICA MONITOR ON *.*');
    expect(script).not.toMatch(/GRANT[^;]*SELECT/);
  });

  test('when synthesized, then the pods carry scrape annotations for the exporter port', () => {
    expect(sts.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9104',
      'prometheus.io/path': '/metrics',
    });
    expect(db.monitoring).toMatchObject({
      component: 'mariadb',
      serviceName: 'memo-mariadb-headless',
      scrape: { portName: 'metrics', port: 9104 },
    });
    expect(db.monitoring.alertRules(series).map((r) => r.alert)).toEqual([
      'MariaDbDown',
      'MariaDbConnectionsNearMax',
      'MariaDbSlowQueries',
    ]);
  });

  test('when synthesized, then the backup CronJob dumps with a consistent snapshot and keeps seven files', () => {
    const cron = find(manifests, 'CronJob', 'memo-mariadb-backup');
    expect(cron.spec).toMatchObject({ schedule: '0 3 * * *', concurrencyPolicy: 'Forbid' });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const script: string = pod.containers[0].command.join(' ');
    // The schema owner: it can read triggers and views, which the application account cannot.
    expect(script).toContain('mariadb-dump --host=memo-mariadb --port=3306 --user=memo_migrator ');
    expect(script).toContain('--single-transaction');
    expect(script).toContain('tail -n +8');
    expect(pod.volumes[0]).toEqual({
      name: 'backup',
      persistentVolumeClaim: { claimName: 'memo-mariadb-backup' },
    });
    expect(pod.containers[0].env).toEqual([
      {
        name: 'MYSQL_PWD',
        valueFrom: { secretKeyRef: { name: 'memo-mariadb-credentials', key: 'migration-password' } },
      },
    ]);
  });

  test('when synthesized, then the backup pods may reach the database and nothing else but DNS', () => {
    const policy = find(manifests, 'NetworkPolicy', 'memo-mariadb-backup');
    expect(policy.spec.egress.at(-1).ports).toEqual([{ port: 3306, protocol: 'TCP' }]);
    const dbPolicy = find(manifests, 'NetworkPolicy', 'memo-mariadb');
    expect(dbPolicy.spec.ingress).toEqual([
      {
        from: [
          {
            podSelector: {
              matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'backup' }),
            },
          },
        ],
        ports: [{ port: 3306, protocol: 'TCP' }],
      },
    ]);
  });

  test('when read, then the endpoint tells a client where to connect and with which Secret', () => {
    expect({
      host: db.host,
      port: db.port,
      namespace: db.namespace,
      databaseName: db.databaseName,
      username: db.username,
      passwordSecret: db.passwordSecret,
      readHost: db.readHost,
    }).toEqual({
      host: 'memo-mariadb',
      port: 3306,
      namespace: 'memo',
      databaseName: 'memos',
      username: 'memo',
      passwordSecret: { secretName: 'memo-mariadb-credentials', key: 'password' },
      readHost: 'memo-mariadb',
    });
  });
});

describe('MariaDbStatefulSet with replication', () => {
  const { db, manifests } = build({ replicas: 2, resources: ResourcePreset.LARGE, storageGiB: 50 });
  const sts = find(manifests, 'StatefulSet', 'memo-mariadb');

  test('when replicas is 2, then the manifests match the snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });

  test('when replicas is 2, then writes go to ordinal 0 and reads to every server', () => {
    expect(find(manifests, 'Service', 'memo-mariadb').spec.selector).toMatchObject({
      'statefulset.kubernetes.io/pod-name': 'memo-mariadb-0',
    });
    const read = find(manifests, 'Service', 'memo-mariadb-read');
    expect(read.spec.selector).not.toHaveProperty('statefulset.kubernetes.io/pod-name');
    expect(db.readHost).toBe('memo-mariadb-read');
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
  });

  test('when replicas is 2, then a PodDisruptionBudget lets one server go at a time', () => {
    expect(find(manifests, 'PodDisruptionBudget', 'memo-mariadb').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: sts.spec.selector.matchLabels },
    });
  });

  test('when replicas is 2, then servers get ids from their ordinal and replicas follow the primary', () => {
    const c = container(sts, 'mariadb');
    const script: string = c.command.join(' ');
    expect(script).toContain('--server-id="$((ordinal + 1))"');
    expect(script).toContain(
      'MARIADB_MASTER_HOST=memo-mariadb-0.memo-mariadb-headless.memo.svc.cluster.local',
    );
    // The accounts arrive through the binary log; the accounts script skips itself on a replica.
    expect(db.accountsScript).toContain('if [ -z "${MARIADB_MASTER_HOST:-}" ]; then');
    expect(script).toContain('--read-only=ON');
    // Replicas leave the read Service when replication stops, but are not restarted for it.
    expect(c.readinessProbe.exec.command.join(' ')).toContain('--replication_io --replication_sql');
    expect(c.livenessProbe.exec.command).toEqual(['healthcheck.sh', '--connect', '--innodb_initialized']);
    expect(c.startupProbe.exec.command).toEqual(['healthcheck.sh', '--connect', '--innodb_initialized']);
    expect(envOf(c)).toMatchObject({ MARIADB_REPLICATION_USER: 'replicator' });
    expect(secretRefs(manifests)).toContain('memo-mariadb-credentials/replication-password');
    expect(db.requiredSecrets[0].keys).toContain('replication-password');
    expect(db.myCnf).toMatch(/^log_bin = mysql-bin$/m);
    expect(db.myCnf).toMatch(/^gtid_strict_mode = ON$/m);
    expect(db.myCnf).toMatch(/^binlog_format = ROW$/m);
  });

  test('when replicas is 2, then the servers may replicate to each other on 3306', () => {
    const policy = find(manifests, 'NetworkPolicy', 'memo-mariadb');
    const self = { podSelector: { matchLabels: sts.spec.selector.matchLabels } };
    expect(policy.spec.ingress).toContainEqual({ from: [self], ports: [{ port: 3306, protocol: 'TCP' }] });
    expect(policy.spec.egress).toContainEqual({ to: [self], ports: [{ port: 3306, protocol: 'TCP' }] });
  });

  test('when replicas is 2, then replication alerts are added', () => {
    expect(db.monitoring.alertRules(series).map((r) => r.alert)).toEqual(
      expect.arrayContaining(['MariaDbReplicationStopped', 'MariaDbReplicationLag']),
    );
  });

  test('when replicas is 2, then MariaDbDown counts the up servers among its own series only', () => {
    // Another stack's healthy servers in the same Prometheus must not make up for ours.
    expect(db.monitoring.alertRules(series)[0].expr).toBe(
      '(count(mysql_up{job="memo-mariadb-headless",namespace="memo"} == 1) or vector(0)) < 2',
    );
  });

  test('when the preset is LARGE, then InnoDB gets 60 % of the limit', () => {
    expect(db.innodbBufferPoolMiB).toBe(2456);
    expectProductionReadyPods(manifests);
  });
});

describe('MariaDbStatefulSet options', () => {
  test('when an existing Secret is named, then every reference uses it', () => {
    const { db, manifests } = build({ existingSecretName: 'db-creds', replicas: 2 });
    expect(manifests).toMatchSnapshot();
    expect(secretRefs(manifests).every((r) => r.startsWith('db-creds/'))).toBe(true);
    expect(db.passwordSecret).toEqual({ secretName: 'db-creds', key: 'password' });
    expect(db.requiredSecrets.map((s) => s.secretName)).toEqual(['db-creds']);
  });

  test('when spread across zones, then zone and host spread constraints select the server pods', () => {
    const { manifests } = build({ spreadAcrossZones: true, replicas: 2 });
    const spec = find(manifests, 'StatefulSet', 'memo-mariadb').spec.template.spec;
    expect(spec.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
    expect(spec.affinity.podAntiAffinity).toBeDefined();
  });

  test('when a storage class is given, then the data and backup claims use it', () => {
    const { manifests } = build({ storageClassName: 'fast', storageGiB: 20, backupStorageGiB: 40 });
    const sts = find(manifests, 'StatefulSet', 'memo-mariadb');
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '20Gi' } },
    });
    expect(find(manifests, 'PersistentVolumeClaim', 'memo-mariadb-backup').spec).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '40Gi' } },
    });
  });

  test('when backups are disabled, then neither the CronJob nor its claim exist', () => {
    const { db, manifests } = build({ backupEnabled: false });
    expect(names(manifests, 'CronJob')).toEqual([]);
    expect(names(manifests, 'PersistentVolumeClaim')).toEqual([]);
    expect(db.backupCronJob).toBeUndefined();
  });

  test('when the chart has a namespace, then it is the default; without one, memo is', () => {
    expect(build({}, { namespace: 'other' }).db.namespace).toBe('other');
    const app = Testing.app();
    const bare = new Chart(app, 'bare');
    expect(new MariaDbStatefulSet(bare, 'db').namespace).toBe('memo');
  });

  test('when two syntheses run, then the output is identical', () => {
    expect(build({ replicas: 2 }).manifests).toEqual(build({ replicas: 2 }).manifests);
  });
});

describe('MariaDbStatefulSet errors', () => {
  const cases: Array<[string, MariaDbStatefulSetProps, RegExp]> = [
    ['replicas 0', { replicas: 0 }, /replicas must be an integer between 1 and 9, got 0/],
    ['replicas 1.5', { replicas: 1.5 }, /replicas must be an integer between 1 and 9, got 1\.5/],
    ['negative storage', { storageGiB: -1 }, /storageGiB must be an integer >= 1, got -1/],
    ['a name with capitals', { name: 'Memo_DB' }, /name must be a lowercase DNS label.*got 'Memo_DB'/],
    ['an unpinned image', { image: 'mariadb:latest' }, /image must be pinned.*got 'mariadb:latest'/],
    [
      'a quoted database name',
      { databaseName: "memos'; --" },
      /databaseName must start with a letter.*got 'memos'; --'/,
    ],
    ['the exporter user name', { username: 'exporter' }, /username 'exporter' is reserved/],
    [
      'a bad schedule',
      { backupSchedule: 'nightly' },
      /backupSchedule must be a five-field cron expression.*got 'nightly'/,
    ],
    [
      'zero retention',
      { backupRetention: 0 },
      /backupRetention must be an integer between 1 and 1000, got 0/,
    ],
  ];
  test.each(cases)(
    'when given %s, then construction fails naming the prop and value',
    (_label, props, message) => {
      const chart = Testing.chart();
      expect(() => new MariaDbStatefulSet(chart, 'db', props)).toThrow(message);
    },
  );
});
