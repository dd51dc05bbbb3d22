/** Pod parts several constructs build the same way: spread, disruption budget, resources, scratch space, hashes. */
import { createHash } from 'crypto';
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
} from '../../imports/k8s';
import { ComponentIdentity, recommendedLabels } from '../labels';
import { ImageUser, restrictedContainerSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';

/**
 * Zone and host spread constraints for replicated pods. Zones are a preference (a single-zone
 * cluster must still schedule); hosts are a rule, since two replicas on one node fail together.
 */
export function zoneAndHostSpread(selector: Record<string, string>): TopologySpreadConstraint[] {
  const labelSelector = { matchLabels: { ...selector } };
  return [
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
  ];
}

/**
 * The spread constraints plus a preferred anti-affinity on hosts, for the stateful backing
 * services: the scheduler weighs it even where a constraint's skew would allow two on one node.
 */
export function spreadAcrossZones(selector: Record<string, string>): {
  topologySpreadConstraints: TopologySpreadConstraint[];
  affinity: Affinity;
} {
  const labelSelector = { matchLabels: { ...selector } };
  return {
    topologySpreadConstraints: zoneAndHostSpread(selector),
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

/** The hex SHA-256 of a rendered config, for a `checksum/config` annotation that rolls the pods when it changes. */
export function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
