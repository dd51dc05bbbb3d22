import { Chart, Testing } from 'cdk8s';
import { KafkaCluster, KafkaClusterProps } from '../../charts/kafka/kafka-cluster';
import { ResourcePreset } from '../../charts/resources';
import { SeriesSelector } from '../../charts/series-selector';
import { container, envOf, expectProductionReadyPods, find, names, synth } from './backing-assertions';

function build(props: KafkaClusterProps = {}, topics = true) {
  const app = Testing.app();
  const chart = new Chart(app, 'test', { namespace: 'memo' });
  const kafka = new KafkaCluster(chart, 'kafka', props);
  if (topics) {
    kafka.addTopic('memo_events', { partitions: 6 });
  }
  return { chart, kafka, manifests: synth(chart) };
}

/** What the image's configureDefaults fills in when unset: each must come from us instead. */
const IMAGE_DEFAULTED = [
  'CLUSTER_ID',
  'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP',
  'KAFKA_LISTENERS',
  'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
  'KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS',
  'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR',
  'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR',
  'KAFKA_PROCESS_ROLES',
  'KAFKA_CONTROLLER_QUORUM_VOTERS',
  'KAFKA_INTER_BROKER_LISTENER_NAME',
  'KAFKA_CONTROLLER_LISTENER_NAMES',
  'KAFKA_LOG_DIRS',
];

describe('KafkaCluster with one node', () => {
  const { kafka, manifests } = build();
  const sts = find(manifests, 'StatefulSet', 'memo-kafka');
  const env = envOf(container(sts, 'kafka'));

  test('when synthesized, then the manifests match the snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });

  test('when synthesized, then the stateful resource names are the contract names', () => {
    expect(names(manifests, 'StatefulSet')).toEqual(['memo-kafka']);
    expect(sts.spec.serviceName).toBe('memo-kafka-headless');
    expect(sts.spec.volumeClaimTemplates.map((t: { metadata: { name: string } }) => t.metadata.name)).toEqual(
      ['data'],
    );
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    expect(names(manifests, 'Service')).toEqual(['memo-kafka-bootstrap', 'memo-kafka-headless']);
    expect(names(manifests, 'PodDisruptionBudget')).toEqual([]);
  });

  test('when synthesized, then the headless Service publishes not-ready nodes on kafka and controller ports', () => {
    const headless = find(manifests, 'Service', 'memo-kafka-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(headless.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).toEqual([
      'kafka:9092',
      'controller:9093',
      'metrics:9308',
    ]);
    expect(find(manifests, 'Service', 'memo-kafka-bootstrap').spec.ports).toEqual([
      { name: 'kafka', port: 9092, targetPort: 'kafka' },
    ]);
    expect(kafka.bootstrapServers).toBe('memo-kafka-bootstrap.memo.svc:9092');
    expect(kafka.host).toBe('memo-kafka-bootstrap');
    expect(kafka.port).toBe(9092);
  });

  test('when synthesized, then every pod is restricted, sized, probed and pinned', () => {
    expectProductionReadyPods(manifests);
    expect(sts.spec.template.spec.securityContext).toMatchObject({
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
    });
    expect(container(sts, 'kafka').image).toBe('apache/kafka:3.9.1');
    expect(container(sts, 'kafka').resources).toEqual(ResourcePreset.MEDIUM.toResourceRequirements());
    expect(container(sts, 'kafka-exporter')).toMatchObject({
      image: 'danielqsj/kafka-exporter:v1.8.0',
      securityContext: { runAsUser: 65534, runAsGroup: 65534 },
    });
    expect(sts.spec.template.spec.enableServiceLinks).toBe(false);
  });

  test('when synthesized, then the probes check the broker and controller ports with a generous start', () => {
    const c = container(sts, 'kafka');
    expect(c.readinessProbe.tcpSocket.port).toBe('kafka');
    expect(c.livenessProbe.tcpSocket.port).toBe('controller');
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
  });

  test('when one node, then the quorum has one voter addressed through the headless Service', () => {
    expect(kafka.quorumVoters).toBe('0@memo-kafka-0.memo-kafka-headless.memo.svc.cluster.local:9093');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(kafka.quorumVoters);
  });

  test('when one node, then replication factors and min ISR are 1', () => {
    expect(env).toMatchObject({
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    });
  });

  test('when synthesized, then KRaft combined mode is configured without ZooKeeper and no image default is left', () => {
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(Object.keys(env).filter((k) => k.includes('ZOOKEEPER'))).toEqual([]);
    for (const key of IMAGE_DEFAULTED) {
      expect({ key, set: env[key] !== undefined && env[key] !== '' }).toEqual({ key, set: true });
    }
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });

  test('when synthesized, then the env is exactly brokerSettings plus the cluster id and heap', () => {
    const { CLUSTER_ID, KAFKA_HEAP_OPTS, ...rest } = env;
    expect(rest).toEqual(kafka.brokerSettings);
    expect(CLUSTER_ID).toBe(kafka.clusterId);
    // MEDIUM: 1 GiB limit, half of it heap.
    expect(KAFKA_HEAP_OPTS).toBe('-Xms512m -Xmx512m');
    expect(kafka.brokerSettings.KAFKA_LOG_CLEANER_DEDUPE_BUFFER_SIZE).toBe(String(64 * 1024 * 1024));
  });

  test('when synthesized, then the logs live on the volume claim, not in /tmp', () => {
    expect(env.KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data/logs');
    const mounts = container(sts, 'kafka').volumeMounts;
    expect(mounts).toContainEqual({ name: 'data', mountPath: '/var/lib/kafka/data' });
  });

  test('when a pod starts, then its node id and advertised listener come from its hostname', () => {
    const c = container(sts, 'kafka');
    const script: string = c.command.join(' ');
    expect(script).toContain('export KAFKA_NODE_ID="${HOSTNAME##*-}"');
    expect(script).toContain(
      'export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://${HOSTNAME}.memo-kafka-headless.memo.svc.cluster.local:9092"',
    );
    expect(script).toMatch(/exec \/etc\/kafka\/docker\/run$/);
    expect(env).not.toHaveProperty('KAFKA_NODE_ID');
    expect(kafka.brokerSettingsFor(0)).toMatchObject({
      KAFKA_NODE_ID: '0',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://memo-kafka-0.memo-kafka-headless.memo.svc.cluster.local:9092',
    });
  });

  test('when memo_events is added, then an idempotent Job creates it through the bootstrap Service', () => {
    const job = find(manifests, 'Job', 'memo-kafka-topic-memo-events');
    const script: string = job.spec.template.spec.containers[0].command.join(' ');
    expect(script).toContain('/opt/kafka/bin/kafka-topics.sh --bootstrap-server memo-kafka-bootstrap:9092');
    expect(script).toContain('--create --if-not-exists');
    expect(script).toContain("--topic 'memo_events' --partitions 6 --replication-factor 1");
    expect(job.spec).toMatchObject({ backoffLimit: 3 });
    // No TTL: a finished Job that disappears is recreated by Argo CD on every sync.
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(job.metadata.annotations).toMatchObject({
      'argocd.argoproj.io/hook': 'Sync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
    });
    expect(job.spec.template.spec.restartPolicy).toBe('OnFailure');
  });

  test('when a topic Job exists, then its pods may reach the brokers and the brokers accept them', () => {
    const topicPolicy = find(manifests, 'NetworkPolicy', 'memo-kafka-topics');
    expect(topicPolicy.spec.egress.at(-1).ports).toEqual([{ port: 9092, protocol: 'TCP' }]);
    const kafkaPolicy = find(manifests, 'NetworkPolicy', 'memo-kafka');
    expect(kafkaPolicy.spec.ingress).toContainEqual({
      from: [
        {
          podSelector: {
            matchLabels: expect.objectContaining({ 'app.kubernetes.io/instance': 'memo-kafka-topics' }),
          },
        },
      ],
      ports: [{ port: 9092, protocol: 'TCP' }],
    });
  });

  test('when topics are added, then the lag alert watches them', () => {
    const rules = kafka.monitoring.alertRules(
      new SeriesSelector({ job: 'memo-kafka-headless', namespace: 'memo' }),
    );
    const lag = rules.find((r) => r.alert === 'KafkaConsumerGroupLag');
    expect(lag?.expr).toContain(
      'kafka_consumergroup_lag_sum{job="memo-kafka-headless",namespace="memo",topic=~"memo_events"}',
    );
    expect(rules.map((r) => r.alert)).toEqual([
      'KafkaBrokersDown',
      'KafkaUnderReplicatedPartitions',
      'KafkaOfflinePartitions',
      'KafkaConsumerGroupLag',
    ]);
    expect(kafka.monitoring).toMatchObject({ serviceName: 'memo-kafka-headless', scrape: { port: 9308 } });
    expect(kafka.requiredSecrets).toEqual([]);
  });
});

describe('KafkaCluster with three nodes', () => {
  const { kafka, manifests } = build({
    replicas: 3,
    resources: ResourcePreset.LARGE,
    storageGiB: 50,
    spreadAcrossZones: true,
  });
  const sts = find(manifests, 'StatefulSet', 'memo-kafka');
  const env = envOf(container(sts, 'kafka'));

  test('when three nodes, then the manifests match the snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });

  test('when three nodes, then the quorum lists the three pods as voters 0, 1 and 2', () => {
    expect(kafka.quorumVoters).toBe(
      [
        '0@memo-kafka-0.memo-kafka-headless.memo.svc.cluster.local:9093',
        '1@memo-kafka-1.memo-kafka-headless.memo.svc.cluster.local:9093',
        '2@memo-kafka-2.memo-kafka-headless.memo.svc.cluster.local:9093',
      ].join(','),
    );
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
  });

  test('when three nodes, then replication factors are 3 and min ISR is 2', () => {
    expect(env).toMatchObject({
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '3',
      KAFKA_DEFAULT_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '2',
    });
    expect(
      find(manifests, 'Job', 'memo-kafka-topic-memo-events').spec.template.spec.containers[0].command[2],
    ).toContain('--replication-factor 3');
  });

  test('when three nodes, then a PDB, zone/host spread and intra-cluster flows are in place', () => {
    expect(find(manifests, 'PodDisruptionBudget', 'memo-kafka').spec.maxUnavailable).toBe(1);
    const spec = sts.spec.template.spec;
    expect(spec.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
    const policy = find(manifests, 'NetworkPolicy', 'memo-kafka');
    const self = { podSelector: { matchLabels: sts.spec.selector.matchLabels } };
    const ports = [
      { port: 9092, protocol: 'TCP' },
      { port: 9093, protocol: 'TCP' },
    ];
    expect(policy.spec.ingress).toContainEqual({ from: [self], ports });
    expect(policy.spec.egress).toContainEqual({ to: [self], ports });
  });

  test('when the preset is LARGE, then the heap is 2 GiB and the dedupe buffer keeps its 128 MiB default', () => {
    expect(env.KAFKA_HEAP_OPTS).toBe('-Xms2048m -Xmx2048m');
    expect(env.KAFKA_LOG_CLEANER_DEDUPE_BUFFER_SIZE).toBe(String(128 * 1024 * 1024));
    expectProductionReadyPods(manifests);
  });
});

describe('KafkaCluster cluster id', () => {
  test('when built twice from the same namespace and name, then the cluster id is the same', () => {
    const a = build({}, false).kafka.clusterId;
    const b = build({}, false).kafka.clusterId;
    expect(a).toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(16);
  });

  test('when the namespace or the name differ, then the cluster id differs', () => {
    const base = KafkaCluster.deriveClusterId('memo', 'memo-kafka');
    expect(KafkaCluster.deriveClusterId('staging', 'memo-kafka')).not.toBe(base);
    expect(KafkaCluster.deriveClusterId('memo', 'other-kafka')).not.toBe(base);
    expect(build({ namespace: 'staging' }, false).kafka.clusterId).toBe(
      KafkaCluster.deriveClusterId('staging', 'memo-kafka'),
    );
  });

  test('when a cluster id is given, then it is used as it is', () => {
    expect(build({ clusterId: 'MkU3OEVBNTcwNTJENDM2Qk' }, false).kafka.clusterId).toBe(
      'MkU3OEVBNTcwNTJENDM2Qk',
    );
  });
});

describe('KafkaCluster settings as server.properties', () => {
  test('when converted, then names follow the image rules (_ to ., __ to _, ___ to -)', () => {
    expect(
      KafkaCluster.toServerProperties({
        KAFKA_LOG_DIRS: '/d',
        KAFKA_LISTENER_NAME_CONTROLLER_SASL__MECHANISM: 'x',
        KAFKA_SOME___DASHED: 'y',
        CLUSTER_ID: 'ignored',
      }),
    ).toBe('listener.name.controller.sasl_mechanism=x\nlog.dirs=/d\nsome-dashed=y\n');
  });

  test('when the node settings are converted, then they form a complete KRaft combined configuration', () => {
    const properties = KafkaCluster.toServerProperties(
      build({ replicas: 3 }, false).kafka.brokerSettingsFor(2),
    );
    expect(properties).toContain('node.id=2\n');
    expect(properties).toContain('process.roles=broker,controller\n');
    expect(properties).toContain('controller.listener.names=CONTROLLER\n');
    expect(properties).toContain('min.insync.replicas=2\n');
    expect(properties).not.toContain('heap');
  });
});

describe('KafkaCluster errors', () => {
  const cases: Array<[string, KafkaClusterProps, RegExp]> = [
    ['replicas 0', { replicas: 0 }, /replicas must be an odd integer 1\.\.9 .*got 0/],
    ['negative storage', { storageGiB: -5 }, /storageGiB must be an integer >= 1, got -5/],
    ['a short cluster id', { clusterId: 'abc' }, /clusterId must be 22 characters of base64url.*got 'abc'/],
    [
      'an unpinned image',
      { image: 'apache/kafka:latest' },
      /image must be pinned.*got 'apache\/kafka:latest'/,
    ],
  ];
  test.each(cases)(
    'when given %s, then construction fails naming the prop and value',
    (_label, props, message) => {
      expect(() => new KafkaCluster(Testing.chart(), 'kafka', props)).toThrow(message);
    },
  );

  test('when a topic name has illegal characters, then addTopic fails naming it', () => {
    const kafka = new KafkaCluster(Testing.chart(), 'kafka');
    expect(() => kafka.addTopic('memo events', { partitions: 1 })).toThrow(
      /name must be 1-249 characters.*got 'memo events'/,
    );
    expect(() => kafka.addTopic('x'.repeat(250), { partitions: 1 })).toThrow(/name must be 1-249 characters/);
    expect(() => kafka.addTopic('..', { partitions: 1 })).toThrow(/not '\.' or '\.\.'/);
  });

  test('when partitions or replication factor are out of range, then addTopic fails naming the value', () => {
    const kafka = new KafkaCluster(Testing.chart(), 'kafka', { replicas: 1 });
    expect(() => kafka.addTopic('t', { partitions: 0 })).toThrow(
      /partitions must be an integer between 1 and 10000, got 0/,
    );
    expect(() => kafka.addTopic('t', { partitions: 1, replicationFactor: 3 })).toThrow(
      /replicationFactor must be an integer between 1 and replicas \(1\), got 3/,
    );
  });

  test('when two topics map to the same Job name, then the second is refused', () => {
    const kafka = new KafkaCluster(Testing.chart(), 'kafka');
    kafka.addTopic('memo_events', { partitions: 1 });
    expect(() => kafka.addTopic('memo.events', { partitions: 1 })).toThrow(
      /topic 'memo.events' clashes with topic 'memo_events'.*memo-kafka-topic-memo-events/,
    );
  });

  test('when a topic name is long, then its Job name is a valid DNS label with a stable hash', () => {
    const kafka = new KafkaCluster(Testing.chart(), 'kafka');
    const topic = kafka.addTopic('a'.repeat(100), { partitions: 1 });
    const name = topic.job.metadata.name ?? '';
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^memo-kafka-topic-a+-[0-9a-f]{8}$/);
  });
});
