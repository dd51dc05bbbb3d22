/** The standalone Prometheus: its config and rules ConfigMaps, discovery RBAC, TSDB volume and server. */
import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import {
  Container,
  KubeConfigMap,
  KubePersistentVolumeClaim,
  KubeRole,
  KubeRoleBinding,
  KubeServiceAccount,
  Quantity,
  Volume,
} from '../../imports/k8s';
import { configHash, containerResources } from '../common/pod-parts';
import { Connections } from '../connections';
import { recommendedLabels } from '../labels';
import { restrictedContainerSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';
import { PROMETHEUS_PORT } from './ports';
import { addServerWorkload, httpProbe, NOBODY, serverIdentity, StackPlacement } from './workload';

/** What the Prometheus server is built from: the stack's resolved props and its rendered files. */
export interface PrometheusSpec {
  /** Name of the Deployment, Service, ServiceAccount and Role; prefix of the ConfigMaps and the PVC. */
  readonly name: string;
  readonly image: string;
  readonly version: string;
  readonly resources: ResourcePreset;
  readonly retention: string;
  /** Size of the TSDB's PersistentVolumeClaim; without it an emptyDir. */
  readonly storageGiB?: number;
  readonly storageClassName?: string;
  /** prometheus.yml, rendered at synth, after every monitor(). */
  readonly config: () => string;
  /** The alert rules file, rendered at synth. */
  readonly rules: () => string;
}

export function addPrometheus(
  scope: Construct,
  placement: StackPlacement,
  spec: PrometheusSpec,
): Connections {
  const identity = serverIdentity(placement, 'prometheus', spec.version);
  const labels = recommendedLabels(identity);
  const name = spec.name;
  const metadata = (n: string) => ({ name: n, namespace: placement.namespace, labels });
  const configName = `${name}-config`;
  const rulesName = `${name}-rules`;

  new KubeConfigMap(scope, 'prometheus-config', {
    metadata: metadata(configName),
    data: { 'prometheus.yml': Lazy.any({ produce: () => spec.config() }) as unknown as string },
  });
  new KubeConfigMap(scope, 'prometheus-rules', {
    metadata: metadata(rulesName),
    data: { 'memostack.yaml': Lazy.any({ produce: () => spec.rules() }) as unknown as string },
  });

  // Service discovery reads pods in this namespace only: a Role, not a ClusterRole.
  new KubeServiceAccount(scope, 'prometheus-sa', {
    metadata: metadata(name),
    automountServiceAccountToken: false,
  });
  new KubeRole(scope, 'prometheus-role', {
    metadata: metadata(name),
    rules: [
      { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  new KubeRoleBinding(scope, 'prometheus-role-binding', {
    metadata: metadata(name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: placement.namespace }],
  });

  let dataVolume: Volume;
  const retentionArgs = [`--storage.tsdb.retention.time=${spec.retention}`];
  if (spec.storageGiB !== undefined) {
    const claimName = `${name}-data`;
    new KubePersistentVolumeClaim(scope, 'prometheus-data', {
      metadata: metadata(claimName),
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: spec.storageClassName,
        resources: { requests: { storage: Quantity.fromString(`${spec.storageGiB}Gi`) } },
      },
    });
    dataVolume = { name: 'data', persistentVolumeClaim: { claimName } };
    // Leave headroom for the WAL and compaction so a full volume never stops ingestion.
    retentionArgs.push(`--storage.tsdb.retention.size=${Math.floor(spec.storageGiB * 1024 * 0.8)}MB`);
  } else {
    dataVolume = { name: 'data', emptyDir: {} };
  }

  const container: Container = {
    name: 'prometheus',
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    args: [
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      ...retentionArgs,
      `--web.listen-address=:${PROMETHEUS_PORT}`,
    ],
    ports: [{ name: 'http', containerPort: PROMETHEUS_PORT, protocol: 'TCP' }],
    resources: containerResources(spec.resources),
    securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
    volumeMounts: [
      {
        name: 'config',
        mountPath: '/etc/prometheus/prometheus.yml',
        subPath: 'prometheus.yml',
        readOnly: true,
      },
      { name: 'rules', mountPath: '/etc/prometheus/rules', readOnly: true },
      { name: 'data', mountPath: '/prometheus' },
    ],
    // WAL replay after a restart can take minutes on a large TSDB.
    startupProbe: httpProbe('/-/ready', 5, 60),
    readinessProbe: httpProbe('/-/ready', 10, 3),
    livenessProbe: httpProbe('/-/healthy', 15, 4),
  };
  return addServerWorkload(scope, placement, 'prometheus', identity, {
    container,
    volumes: [
      { name: 'config', configMap: { name: configName } },
      { name: 'rules', configMap: { name: rulesName } },
      dataVolume,
    ],
    securityUser: NOBODY,
    serviceAccountName: name,
    // A ReadWriteOnce volume and the TSDB lock allow one Prometheus at a time.
    recreate: true,
    configChecksum: () => configHash(spec.config() + spec.rules()),
  });
}
