/**
 * One server of the standalone stack (Prometheus, Alertmanager or Grafana) as a workload: its
 * identity and peer, its single-replica Deployment with a Service and a NetworkPolicy, its probes.
 */
import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { Container, IntOrString, KubeDeployment, KubeService, Volume } from '../../imports/k8s';
import { Connections, IConnectable, INetworkPeer } from '../connections';
import { IServiceEndpoint } from '../endpoints';
import { ComponentIdentity, recommendedLabels, selectorLabels } from '../labels';
import { ImageUser, restrictedPodSecurityContext } from '../pod-security';

export type StackServer = 'prometheus' | 'alertmanager' | 'grafana';

/** Where the stack's servers live: `<namePrefix>-<server>` in `namespace`. */
export interface StackPlacement {
  readonly namespace: string;
  readonly namePrefix: string;
}

/** The user of the Prometheus and Alertmanager images. */
export const NOBODY: ImageUser = { uid: 65534, gid: 65534 };

export function serverIdentity(
  placement: StackPlacement,
  name: StackServer,
  version: string,
): ComponentIdentity {
  return {
    name,
    instance: `${placement.namePrefix}-${name}`,
    component: 'monitoring',
    version,
  };
}

/** The pods of one server, as a NetworkPolicy peer. */
export function serverPeer(placement: StackPlacement, name: StackServer): INetworkPeer {
  return {
    namespace: placement.namespace,
    podSelectorLabels: selectorLabels({
      name,
      instance: `${placement.namePrefix}-${name}`,
      component: 'monitoring',
      version: '',
    }),
  };
}

/** One server's Service (`<prefix>-<name>`) on `port`, with the flows of its pods, for `allowTo`. */
export function serverEndpoint(
  placement: StackPlacement,
  name: StackServer,
  port: number,
  connections: Connections,
): IServiceEndpoint & IConnectable {
  return { ...serverPeer(placement, name), host: `${placement.namePrefix}-${name}`, port, connections };
}

/** What a server's pod is built from. */
export interface ServerPodSpec {
  readonly container: Container;
  readonly volumes: Volume[];
  readonly securityUser: ImageUser;
  readonly serviceAccountName?: string;
  readonly recreate: boolean;
  readonly configChecksum: () => string;
}

/**
 * A single-replica Deployment with its ClusterIP Service `<prefix>-<name>` on the container's
 * `http` port, and the Connections of its pods.
 */
export function addServerWorkload(
  scope: Construct,
  placement: StackPlacement,
  name: StackServer,
  identity: ComponentIdentity,
  spec: ServerPodSpec,
): Connections {
  const labels = recommendedLabels(identity);
  const selector = selectorLabels(identity);
  const metadata = { name: identity.instance, namespace: placement.namespace, labels };
  const port = spec.container.ports?.[0]?.containerPort ?? 0;
  new KubeDeployment(scope, `${name}-deployment`, {
    metadata,
    spec: {
      replicas: 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      strategy: spec.recreate
        ? { type: 'Recreate' }
        : {
            type: 'RollingUpdate',
            rollingUpdate: {
              maxUnavailable: IntOrString.fromNumber(0),
              maxSurge: IntOrString.fromNumber(1),
            },
          },
      template: {
        metadata: {
          labels,
          // Config files are read at start; a changed file must roll the pod.
          annotations: {
            'checksum/config': Lazy.any({ produce: spec.configChecksum }) as unknown as string,
          },
        },
        spec: {
          // Only Prometheus talks to the API server (service discovery).
          automountServiceAccountToken: spec.serviceAccountName !== undefined,
          serviceAccountName: spec.serviceAccountName,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurityContext(spec.securityUser),
          containers: [spec.container],
          volumes: spec.volumes,
        },
      },
    },
  });
  new KubeService(scope, `${name}-service`, {
    metadata,
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'http', port, targetPort: IntOrString.fromString('http'), protocol: 'TCP' }],
    },
  });
  return new Connections(scope, `${name}-network-policy`, {
    identity,
    namespace: placement.namespace,
    podSelectorLabels: selectorLabels(identity),
  });
}

export function httpProbe(
  path: string,
  periodSeconds: number,
  failureThreshold: number,
): Container['livenessProbe'] {
  return {
    httpGet: { path, port: IntOrString.fromString('http') },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 3,
  };
}
