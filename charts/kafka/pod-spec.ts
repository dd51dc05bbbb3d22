/** The Kafka node pods and the ports they listen on. */
import { Container, EnvVar, IntOrString, PodSpec } from '../../imports/k8s';
import { containerResources, emptyDir, sidecarSecurityContext, spreadAcrossZones } from '../common/pod-parts';
import { ImageUser, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';

/** apache/kafka adds `appuser` with `adduser -D` on Alpine: the first regular user, 1000:1000. */
export const KAFKA_USER: ImageUser = { uid: 1000, gid: 1000 };
/** danielqsj/kafka-exporter declares no USER (root); run it as `nobody`, which the static binary allows. */
export const EXPORTER_USER: ImageUser = { uid: 65534, gid: 65534 };

/** Clients (PLAINTEXT). */
export const BROKER_PORT = 9092;
/** The KRaft quorum between the nodes. */
export const CONTROLLER_PORT = 9093;
/** kafka-exporter's `/metrics`. */
export const METRICS_PORT = 9308;
/** A sub-directory of the volume: the volume's root may hold `lost+found`, which Kafka would take for a partition. */
export const LOG_DIR = '/var/lib/kafka/data/logs';

/** What the pod spec is built from: the cluster's resolved values. */
export interface KafkaPodSpecSource {
  readonly namespace: string;
  readonly image: string;
  readonly resources: ResourcePreset;
  readonly spreadAcrossZones: boolean;
  readonly clusterDomain: string;
  readonly clusterId: string;
  readonly heapMiB: number;
  readonly brokerSettings: Readonly<Record<string, string>>;
  readonly headlessServiceName: string;
  readonly podSelectorLabels: Record<string, string>;
}

/** The node pods: the Kafka container (KRaft combined mode), the exporter sidecar, volumes and spread. */
export function kafkaPodSpec(cluster: KafkaPodSpecSource): PodSpec {
  const env: EnvVar[] = [
    { name: 'CLUSTER_ID', value: cluster.clusterId },
    ...Object.entries(cluster.brokerSettings).map(([name, value]) => ({ name, value })),
    { name: 'KAFKA_HEAP_OPTS', value: `-Xms${cluster.heapMiB}m -Xmx${cluster.heapMiB}m` },
  ];
  // Node id and advertised address come from the pod's ordinal, which Kubernetes 1.27 does
  // not expose as a label or env var; the hostname carries it.
  const start = [
    'export KAFKA_NODE_ID="${HOSTNAME##*-}"',
    `export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://\${HOSTNAME}.${cluster.headlessServiceName}.${cluster.namespace}.svc.${cluster.clusterDomain}:${BROKER_PORT}"`,
    'exec /etc/kafka/docker/run',
  ].join('\n');

  const kafka: Container = {
    name: 'kafka',
    image: cluster.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['bash', '-ec', start],
    env,
    ports: [
      { name: 'kafka', containerPort: BROKER_PORT },
      { name: 'controller', containerPort: CONTROLLER_PORT },
    ],
    resources: containerResources(cluster.resources),
    securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
    // Formatting storage, replaying the metadata log and electing a leader: up to five minutes.
    startupProbe: {
      tcpSocket: { port: IntOrString.fromString('controller') },
      periodSeconds: 5,
      failureThreshold: 60,
    },
    readinessProbe: {
      tcpSocket: { port: IntOrString.fromString('kafka') },
      periodSeconds: 10,
      failureThreshold: 3,
    },
    livenessProbe: {
      tcpSocket: { port: IntOrString.fromString('controller') },
      periodSeconds: 20,
      failureThreshold: 3,
    },
    volumeMounts: [
      { name: 'data', mountPath: '/var/lib/kafka/data' },
      // The image writes server.properties and log4j files here at every start.
      { name: 'config', mountPath: '/opt/kafka/config' },
      { name: 'logs', mountPath: '/opt/kafka/logs' },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };

  // The exporter exits when it cannot reach a broker at start; waiting for the local broker
  // keeps it out of a crash loop (and its back-off) while Kafka boots.
  // Bounded, so that a missing or different nc delays the exporter but never blocks it.
  const exporterStart = [
    'i=0',
    `while [ "$i" -lt 150 ] && ! nc -z 127.0.0.1 ${BROKER_PORT} 2>/dev/null; do i=$((i + 1)); sleep 2; done`,
    `exec /bin/kafka_exporter --kafka.server=127.0.0.1:${BROKER_PORT} --web.listen-address=:${METRICS_PORT}`,
  ].join('\n');
  const exporter: Container = {
    name: 'kafka-exporter',
    image: 'danielqsj/kafka-exporter:v1.8.0',
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-ec', exporterStart],
    ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
    resources: containerResources(ResourcePreset.NANO),
    securityContext: sidecarSecurityContext(EXPORTER_USER),
    // Covers the bounded wait for the broker (up to 300 s) before the exporter listens.
    startupProbe: {
      tcpSocket: { port: IntOrString.fromString('metrics') },
      periodSeconds: 5,
      failureThreshold: 70,
    },
    readinessProbe: { tcpSocket: { port: IntOrString.fromString('metrics') }, periodSeconds: 15 },
    livenessProbe: { tcpSocket: { port: IntOrString.fromString('metrics') }, periodSeconds: 30 },
  };

  return {
    automountServiceAccountToken: false,
    // Service links would inject variables such as KAFKA_PORT for a Service named "kafka",
    // which the image would turn into bogus broker settings.
    enableServiceLinks: false,
    securityContext: restrictedPodSecurityContext(KAFKA_USER),
    // Controlled shutdown moves partition leadership away before the process exits.
    terminationGracePeriodSeconds: 120,
    containers: [kafka, exporter],
    volumes: [emptyDir('config', 16), emptyDir('logs', 256), emptyDir('tmp', 256)],
    ...(cluster.spreadAcrossZones ? spreadAcrossZones(cluster.podSelectorLabels) : {}),
  };
}
