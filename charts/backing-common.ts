/**
 * Internal helpers shared by the backing-service constructs (MariaDB, Redis, Kafka). Not part of
 * the public API: charts/index.ts does not re-export this file.
 */
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  Affinity,
  IntOrString,
  KubePodDisruptionBudget,
  Quantity,
  ResourceRequirements,
  SecurityContext,
  TopologySpreadConstraint,
  Volume,
} from '../imports/k8s';
import { ComponentIdentity, recommendedLabels } from './labels';
import { ImageUser, restrictedContainerSecurityContext } from './pod-security';
import { ResourcePreset } from './resources';

/** The namespace used when neither the prop nor the chart names one. */
export const DEFAULT_NAMESPACE = 'memo';

/** The prop's value, else the chart's namespace, else `memo`. */
export function resolveNamespace(scope: Construct, namespace: string | undefined): string {
  return namespace ?? Chart.of(scope).namespace ?? DEFAULT_NAMESPACE;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Throws unless `value` is a DNS-1035 label of at most `maxLength` characters. StatefulSet names
 * are held to 52: the controller adds `-<ordinal>` to pod names and a 10-character revision hash
 * to a 63-character label value.
 */
export function requireDnsLabel(owner: string, prop: string, value: string, maxLength = 63): void {
  if (!DNS_LABEL.test(value) || value.length > maxLength) {
    throw new Error(
      `${owner}: ${prop} must be a lowercase DNS label (a-z, 0-9, '-', starting with a letter) of at most ${maxLength} characters, got '${value}'`,
    );
  }
}

/** Throws unless `value` is an integer within [min, max]. */
export function requireInteger(
  owner: string,
  prop: string,
  value: number,
  min: number,
  max = Infinity,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw new Error(`${owner}: ${prop} must be an integer ${range}, got ${value}`);
  }
}

/** Throws unless `schedule` has the five fields of a cron expression (or is a `@macro`). */
export function requireCronSchedule(owner: string, prop: string, schedule: string): void {
  const macro = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;
  if (!macro.test(schedule) && schedule.trim().split(/\s+/).length !== 5) {
    throw new Error(
      `${owner}: ${prop} must be a five-field cron expression (e.g. '0 3 * * *') or an @macro, got '${schedule}'`,
    );
  }
}

/** The fully qualified DNS name of one StatefulSet pod behind its headless Service. */
export function podFqdn(
  podName: string,
  headlessService: string,
  namespace: string,
  clusterDomain: string,
): string {
  return `${podName}.${headlessService}.${namespace}.svc.${clusterDomain}`;
}

/**
 * Zone and host spread for replicated pods. Zones are a preference (a single-zone cluster must
 * still schedule); hosts are a rule, since two replicas on one node fail together.
 */
export function spreadAcrossZones(selector: Record<string, string>): {
  topologySpreadConstraints: TopologySpreadConstraint[];
  affinity: Affinity;
} {
  const labelSelector = { matchLabels: { ...selector } };
  return {
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector,
      },
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector,
      },
    ],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector } },
        ],
      },
    },
  };
}

/** A PodDisruptionBudget letting one pod at a time go (node drains, upgrades). */
export function podDisruptionBudget(
  scope: Construct,
  id: string,
  props: {
    readonly name: string;
    readonly namespace: string;
    readonly identity: ComponentIdentity;
    readonly selector: Record<string, string>;
  },
): KubePodDisruptionBudget {
  return new KubePodDisruptionBudget(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: recommendedLabels(props.identity) },
    spec: { maxUnavailable: IntOrString.fromNumber(1), selector: { matchLabels: { ...props.selector } } },
  });
}

/** Memory-backed scratch space would count against the memory limit; disk-backed is the safer default. */
export function emptyDir(name: string, sizeLimitMiB = 64): Volume {
  return { name, emptyDir: { sizeLimit: Quantity.fromString(`${sizeLimitMiB}Mi`) } };
}

/** Prometheus scrape annotations for the pod template (the standalone MonitoringStack's discovery keys). */
export function scrapeAnnotations(port: number, path = '/metrics'): Record<string, string> {
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': path };
}

/** A preset as the generated Kubernetes types want it (quantities, not plain strings). */
export function containerResources(preset: ResourcePreset): ResourceRequirements {
  const plain = preset.toResourceRequirements();
  return {
    requests: {
      cpu: Quantity.fromString(plain.requests.cpu),
      memory: Quantity.fromString(plain.requests.memory),
    },
    limits: { memory: Quantity.fromString(plain.limits.memory) },
  };
}

/** The restricted container security context, for a sidecar whose image runs as another user than the pod's. */
export function sidecarSecurityContext(user: ImageUser): SecurityContext {
  return {
    ...restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
    runAsUser: user.uid,
    runAsGroup: user.gid,
  };
}

/** The tag of an image reference, for the `app.kubernetes.io/version` label. */
export function imageTag(image: string): string {
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon === -1 ? 'latest' : lastSegment.slice(colon + 1).split('@')[0];
}

/** Throws unless the image is pinned to a tag or digest (a moving `latest` breaks reproducible rollouts). */
export function requirePinnedImage(owner: string, prop: string, image: string): void {
  const tag = imageTag(image);
  if (!image.includes('@sha256:') && (tag === 'latest' || tag === '')) {
    throw new Error(
      `${owner}: ${prop} must be pinned to a tag or digest (e.g. 'mariadb:10.11.19'), got '${image}'`,
    );
  }
}
