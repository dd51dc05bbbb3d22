/** The containers of the Redis pod: the server and its exporter sidecar. */
import { Container, IntOrString, Probe } from '../../imports/k8s';
import { containerResources, sidecarSecurityContext } from '../common/pod-parts';
import { ImageUser, restrictedContainerSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';
import { REDIS_PORT } from './redis-conf';

/** The official (Debian) image's `redis` user: `useradd -r -g redis -u 999` with group 999. */
export const REDIS_USER: ImageUser = { uid: 999, gid: 999 };
/** oliver006/redis_exporter's scratch image declares `USER 59000:59000`. */
export const EXPORTER_USER: ImageUser = { uid: 59000, gid: 59000 };

/** The port redis_exporter serves `/metrics` on, named `metrics` on the container and the headless Service. */
export const METRICS_PORT = 9121;
/** Written at start from the Secret; tmpfs, so the password never touches a disk. */
export const AUTH_CONF = '/run/redis/auth.conf';

/** The key of the credentials Secret that holds the `requirepass` password. */
export const REDIS_PASSWORD_KEY = 'password';

/** What the containers are built from: the construct's resolved values. */
export interface RedisPodSource {
  readonly image: string;
  readonly secretName: string;
  readonly resources: ResourcePreset;
}

/** The Redis container: the start script that writes the password into the include file, redis-cli probes. */
export function redisContainer(source: RedisPodSource): Container {
  // redis-cli reads REDISCLI_AUTH, so the password stays out of every argv; the start script
  // copies it into the include file and drops it from the server's environment.
  const start = [
    'umask 077',
    `escaped="$(printf '%s' "$REDISCLI_AUTH" | sed 's/[\\\\"]/\\\\&/g')"`,
    `printf 'requirepass "%s"\\n' "$escaped" > ${AUTH_CONF}`,
    'unset REDISCLI_AUTH escaped',
    `exec redis-server /etc/redis/redis.conf --include ${AUTH_CONF}`,
  ].join('\n');
  const ping: Probe = {
    exec: { command: ['sh', '-c', `redis-cli -h 127.0.0.1 -p ${REDIS_PORT} ping | grep -q PONG`] },
    timeoutSeconds: 3,
  };
  return {
    name: 'redis',
    image: source.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-ec', start],
    env: [
      {
        name: 'REDISCLI_AUTH',
        valueFrom: { secretKeyRef: { name: source.secretName, key: REDIS_PASSWORD_KEY } },
      },
    ],
    ports: [{ name: 'redis', containerPort: REDIS_PORT }],
    resources: containerResources(source.resources),
    securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
    // Loading a large append-only file answers LOADING for a while: give it five minutes.
    startupProbe: { ...ping, periodSeconds: 5, failureThreshold: 60 },
    readinessProbe: { ...ping, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { ...ping, periodSeconds: 15, failureThreshold: 4 },
    volumeMounts: [
      { name: 'data', mountPath: '/data' },
      { name: 'config', mountPath: '/etc/redis', readOnly: true },
      { name: 'run', mountPath: '/run/redis' },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

/** The redis_exporter sidecar, reading the server over loopback with the same password. */
export function exporterContainer(source: Pick<RedisPodSource, 'secretName'>): Container {
  return {
    name: 'redis-exporter',
    image: 'oliver006/redis_exporter:v1.67.0',
    imagePullPolicy: 'IfNotPresent',
    env: [
      { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${REDIS_PORT}` },
      {
        name: 'REDIS_PASSWORD',
        valueFrom: { secretKeyRef: { name: source.secretName, key: REDIS_PASSWORD_KEY } },
      },
      // CONFIG is disabled on the server; maxmemory still arrives through INFO.
      { name: 'REDIS_EXPORTER_CONFIG_COMMAND', value: '-' },
      { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${METRICS_PORT}` },
    ],
    ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
    resources: containerResources(ResourcePreset.NANO),
    securityContext: sidecarSecurityContext(EXPORTER_USER),
    startupProbe: {
      httpGet: { path: '/health', port: IntOrString.fromString('metrics') },
      periodSeconds: 2,
      failureThreshold: 30,
    },
    readinessProbe: {
      httpGet: { path: '/health', port: IntOrString.fromString('metrics') },
      periodSeconds: 15,
    },
    livenessProbe: {
      httpGet: { path: '/health', port: IntOrString.fromString('metrics') },
      periodSeconds: 30,
    },
  };
}
