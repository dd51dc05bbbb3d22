/** The standalone Alertmanager: its config ConfigMap and server. */
import { Construct } from 'constructs';
import { Container, KubeConfigMap } from '../../imports/k8s';
import { configHash, containerResources, emptyDir } from '../common/pod-parts';
import { Connections } from '../connections';
import { recommendedLabels } from '../labels';
import { restrictedContainerSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';
import { ALERTMANAGER_PORT } from './ports';
import { addServerWorkload, httpProbe, NOBODY, serverIdentity, StackPlacement } from './workload';

/** What the Alertmanager server is built from. */
export interface AlertmanagerSpec {
  /** Name of the Deployment and Service; prefix of the ConfigMap. */
  readonly name: string;
  readonly image: string;
  readonly version: string;
  readonly resources: ResourcePreset;
  /** alertmanager.yml (it depends on props only, not on the monitored components). */
  readonly config: string;
}

export function addAlertmanager(
  scope: Construct,
  placement: StackPlacement,
  spec: AlertmanagerSpec,
): Connections {
  const identity = serverIdentity(placement, 'alertmanager', spec.version);
  const configName = `${spec.name}-config`;
  new KubeConfigMap(scope, 'alertmanager-config', {
    metadata: { name: configName, namespace: placement.namespace, labels: recommendedLabels(identity) },
    data: { 'alertmanager.yml': spec.config },
  });
  const container: Container = {
    name: 'alertmanager',
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    args: [
      '--config.file=/etc/alertmanager/alertmanager.yml',
      '--storage.path=/alertmanager',
      `--web.listen-address=:${ALERTMANAGER_PORT}`,
      // A single replica: an empty address turns off the gossip cluster and its port 9094.
      '--cluster.listen-address=',
    ],
    ports: [{ name: 'http', containerPort: ALERTMANAGER_PORT, protocol: 'TCP' }],
    resources: containerResources(spec.resources),
    securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
    volumeMounts: [
      { name: 'config', mountPath: '/etc/alertmanager', readOnly: true },
      { name: 'data', mountPath: '/alertmanager' },
    ],
    readinessProbe: httpProbe('/-/ready', 10, 3),
    livenessProbe: httpProbe('/-/healthy', 15, 4),
  };
  return addServerWorkload(scope, placement, 'alertmanager', identity, {
    container,
    volumes: [{ name: 'config', configMap: { name: configName } }, emptyDir('data', 256)],
    securityUser: NOBODY,
    recreate: false,
    configChecksum: () => configHash(spec.config),
  });
}
