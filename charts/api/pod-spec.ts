/** The containers of the API pod: the migrations (an init container) and the service. */
import { Container, EnvVar, IntOrString } from '../../imports/k8s';
import { containerResources } from '../common/pod-parts';
import { ImageUser, restrictedContainerSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';

/** The service's HTTP port, named `http` on the container and the Service. */
export const CONTAINER_PORT = 3000;
/** The Service's HTTP port, in front of CONTAINER_PORT. */
export const SERVICE_PORT = 80;
/** Metrics have a port of their own: a NetworkPolicy opens ports, not paths, to Prometheus alone. */
export const METRICS_PORT = 9464;
export const METRICS_PATH = '/metrics';
/** The node image's `node` user (the Dockerfile's `USER node`). */
export const IMAGE_USER: ImageUser = { uid: 1000, gid: 1000 };

/** What the containers are built from: the construct's resolved values. */
export interface ApiPodSource {
  readonly image: string;
  readonly resources: ResourcePreset;
  /** The service container's environment (ConfigMap and Secret references). */
  readonly env: EnvVar[];
  /** The migration container's environment: the schema owner's account, nothing else. */
  readonly migrationEnv: EnvVar[];
  /** `sleep` in preStop, so endpoints are gone before the service stops accepting; 0 for none. */
  readonly preStopDelaySeconds: number;
}

export function apiContainers(source: ApiPodSource): { migrate: Container; api: Container } {
  const resources = containerResources(source.resources);
  const securityContext = restrictedContainerSecurityContext({ readOnlyRootFilesystem: true });
  const tmpMount = [{ name: 'tmp', mountPath: '/tmp' }];
  const migrate: Container = {
    name: 'migrate',
    image: source.image,
    imagePullPolicy: 'IfNotPresent',
    // knex takes a lock table row first, so replicas starting together run the migrations once.
    command: ['node', 'dist/migrate.js'],
    env: source.migrationEnv,
    resources,
    securityContext,
    volumeMounts: tmpMount,
  };
  const api: Container = {
    name: 'api',
    image: source.image,
    imagePullPolicy: 'IfNotPresent',
    ports: [
      { name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
    ],
    env: source.env,
    resources,
    securityContext,
    volumeMounts: tmpMount,
    // Startup covers the first connection to MariaDB; liveness never depends on a backing service.
    startupProbe: httpProbe('/health/live', { periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 }),
    livenessProbe: httpProbe('/health/live', { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 }),
    readinessProbe: httpProbe('/health/ready', {
      periodSeconds: 5,
      failureThreshold: 2,
      timeoutSeconds: 2,
    }),
    lifecycle:
      source.preStopDelaySeconds > 0
        ? { preStop: { exec: { command: ['sleep', String(source.preStopDelaySeconds)] } } }
        : undefined,
  };
  return { migrate, api };
}

function httpProbe(
  path: string,
  timing: { periodSeconds: number; failureThreshold: number; timeoutSeconds: number },
): Container['livenessProbe'] {
  return { httpGet: { path, port: IntOrString.fromString('http') }, ...timing };
}
