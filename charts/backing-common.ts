/**
 * Internal helpers shared by the constructs: the backing-service building blocks (MariaDB, Redis,
 * Kafka) and the prop checks every construct and the profile data use, so that a bad value fails
 * at construction with one message shape: `<Owner>: <prop> must be <what>, got <value>`. Not part
 * of the public API: charts/index.ts does not re-export this file.
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

/** Partitions per Kafka topic we accept (far above any sensible count; a typo of 60000 is not one). */
export const MAX_TOPIC_PARTITIONS = 10_000;

/** The prop's value, else the chart's namespace, else `memo`. */
export function resolveNamespace(scope: Construct, namespace: string | undefined): string {
  return namespace ?? Chart.of(scope).namespace ?? DEFAULT_NAMESPACE;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const RFC1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Throws unless `value` is a DNS-1035 label of at most `maxLength` characters. StatefulSet names
 * are held to 52: the controller adds `-<ordinal>` to pod names and a 10-character revision hash
 * to a 63-character label value.
 */
export function requireDnsLabel(owner: string, prop: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || !DNS_LABEL.test(value) || value.length > maxLength) {
    throw new Error(
      `${owner}: ${prop} must be a lowercase DNS label (a-z, 0-9, '-', starting with a letter) of at most ${maxLength} characters, got '${value}'`,
    );
  }
}

/** Throws unless `value` is a Namespace name: an RFC 1123 label (it may start with a digit), at most 63 characters. */
export function requireNamespace(owner: string, prop: string, value: string): void {
  if (typeof value !== 'string' || !RFC1123_LABEL.test(value) || value.length > 63) {
    throw new Error(
      `${owner}: ${prop} must be a namespace name (an RFC 1123 label: a-z, 0-9, '-', at most 63 characters), got '${value}'`,
    );
  }
}

/**
 * Throws unless `value` names a Kubernetes object whose name is an RFC 1123 subdomain (Secrets,
 * StorageClasses, IngressClasses, ClusterIssuers, ClusterSecretStores) or is a DNS domain.
 */
export function requireDnsSubdomain(owner: string, prop: string, value: string, maxLength = 253): void {
  // The API server's IsDNS1123Subdomain: no per-label length limit, unlike a DNS name.
  if (typeof value !== 'string' || !RFC1123_SUBDOMAIN.test(value) || value.length > maxLength) {
    throw new Error(
      `${owner}: ${prop} must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', at most ${maxLength} characters), got '${value}'`,
    );
  }
}

/** Throws unless `value` is a host name an Ingress accepts: an RFC 1123 subdomain, `*.` allowed first, not an IP address. */
export function requireHostname(owner: string, prop: string, value: string): void {
  const name = typeof value === 'string' ? value.replace(/^\*\./, '') : '';
  if (
    !RFC1123_SUBDOMAIN.test(name) ||
    value.length > 253 ||
    name.split('.').some((label) => label.length > 63) ||
    /^[0-9.]+$/.test(name)
  ) {
    throw new Error(
      `${owner}: ${prop} must be a DNS host name like 'memo.example.com' or '*.example.com' (no IP address, port or scheme), got '${value}'`,
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

/** Throws unless `value` is a TCP/UDP port number. */
export function requirePort(owner: string, prop: string, value: number): void {
  requireInteger(owner, prop, value, 1, 65535);
}

/** Throws unless `value` is one of `allowed` (for callers without the TypeScript types, e.g. JSON data). */
export function requireOneOf<T extends string>(
  owner: string,
  prop: string,
  value: T,
  allowed: readonly T[],
): void {
  if (!allowed.includes(value)) {
    throw new Error(
      `${owner}: ${prop} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${String(value)}'`,
    );
  }
}

/**
 * Throws unless `preset` is a ResourcePreset (not a look-alike object) whose memory limit is at
 * least `minMemoryLimitMiB`, below which the construct's derived settings cannot fit.
 */
export function requireResources(
  owner: string,
  prop: string,
  preset: ResourcePreset,
  minMemoryLimitMiB = 1,
  why = '',
): void {
  if (!(preset instanceof ResourcePreset)) {
    throw new Error(
      `${owner}: ${prop} must be a ResourcePreset (e.g. ResourcePreset.SMALL or ResourcePreset.custom({...})), got ${JSON.stringify(preset)}`,
    );
  }
  if (preset.memoryLimitMiB < minMemoryLimitMiB) {
    throw new Error(
      `${owner}: ${prop} must have a memory limit of at least ${minMemoryLimitMiB} MiB${why === '' ? '' : ` (${why})`}, got ${preset.memoryLimitMiB} MiB (preset '${preset.name}')`,
    );
  }
}

/** Throws unless every key is a qualified label key and every value a label value (what a selector may hold). */
export function requireLabels(owner: string, prop: string, labels: Record<string, string>): void {
  const name = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) {
    throw new Error(
      `${owner}: ${prop} must hold at least one label (an empty selector matches every pod), got {}`,
    );
  }
  for (const [key, value] of entries) {
    const slash = key.lastIndexOf('/');
    const prefix = slash === -1 ? undefined : key.slice(0, slash);
    const keyName = key.slice(slash + 1);
    const keyOk =
      name.test(keyName) &&
      (prefix === undefined || (RFC1123_SUBDOMAIN.test(prefix) && prefix.length <= 253));
    const valueOk = typeof value === 'string' && (value === '' || name.test(value));
    if (!keyOk || !valueOk) {
      throw new Error(
        `${owner}: ${prop} must map label keys ([prefix/]name) to label values (at most 63 of A-Z, a-z, 0-9, '-', '_', '.'), got '${key}': '${value}'`,
      );
    }
  }
}

/** Throws unless `endpoint` names a Service (DNS-1035 label), a namespace and a port a client can connect to. */
export function requireServiceEndpoint(
  owner: string,
  prop: string,
  endpoint: { readonly host: string; readonly namespace: string; readonly port: number },
): void {
  if (endpoint === undefined || endpoint === null || typeof endpoint !== 'object') {
    throw new Error(
      `${owner}: ${prop} must be an endpoint object (e.g. a MariaDbStatefulSet), got ${String(endpoint)}`,
    );
  }
  requireDnsLabel(owner, `${prop}.host`, endpoint.host);
  requireNamespace(owner, `${prop}.namespace`, endpoint.namespace);
  requirePort(owner, `${prop}.port`, endpoint.port);
}

/** Throws unless `ref` names a Secret and a key it may hold. */
export function requireSecretKeyRef(
  owner: string,
  prop: string,
  ref: { readonly secretName: string; readonly key: string },
): void {
  requireDnsSubdomain(owner, `${prop}.secretName`, ref?.secretName);
  if (typeof ref.key !== 'string' || !/^[-._a-zA-Z0-9]{1,253}$/.test(ref.key)) {
    throw new Error(
      `${owner}: ${prop}.key must be a Secret key (a-z, A-Z, 0-9, '-', '_', '.'), got '${ref.key}'`,
    );
  }
}

const CRON_FIELDS: ReadonlyArray<{ readonly name: string; readonly min: number; readonly max: number }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
];
const CRON_NAMES: Readonly<Record<string, readonly string[]>> = {
  month: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  'day of week': ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};

/** Why one field of a cron expression is wrong, or undefined when it parses (the grammar the CronJob controller uses). */
function cronFieldProblem(
  field: string,
  spec: { name: string; min: number; max: number },
): string | undefined {
  const names = CRON_NAMES[spec.name] ?? [];
  const value = (text: string): number | undefined => {
    const named = names.indexOf(text.toUpperCase());
    if (named !== -1) return named + (spec.name === 'month' ? 1 : 0);
    return /^[0-9]+$/.test(text) ? Number(text) : undefined;
  };
  for (const part of field.split(',')) {
    const match = /^(\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/([0-9]+))?$/.exec(part);
    if (match === null) return `${spec.name} field '${field}' is not a list of values, ranges and steps`;
    if (match[2] !== undefined && Number(match[2]) === 0)
      return `${spec.name} field '${field}' has a zero step`;
    if (match[1] === '*' || match[1] === '?') continue;
    const bounds = match[1].split('-').map(value);
    if (bounds.some((b) => b === undefined || b < spec.min || b > spec.max)) {
      return `${spec.name} field '${field}' is outside ${spec.min}-${spec.max}`;
    }
    if (bounds.length === 2 && (bounds[0] as number) > (bounds[1] as number)) {
      return `${spec.name} field '${field}' has a range that runs backwards`;
    }
  }
  return undefined;
}

/** Throws unless `schedule` is a five-field cron expression (or an `@macro`) the CronJob controller can parse. */
export function requireCronSchedule(owner: string, prop: string, schedule: string): void {
  const macro = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;
  if (typeof schedule === 'string' && macro.test(schedule)) return;
  const fields = typeof schedule === 'string' ? schedule.trim().split(/\s+/) : [];
  const problem =
    fields.length !== 5
      ? 'it needs five fields'
      : fields.map((f, i) => cronFieldProblem(f, CRON_FIELDS[i])).find((p) => p !== undefined);
  if (problem !== undefined) {
    throw new Error(
      `${owner}: ${prop} must be a five-field cron expression (e.g. '0 3 * * *') or an @macro (${problem}), got '${schedule}'`,
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

/**
 * An image reference as the container runtimes parse it (distribution/reference):
 * `[registry[:port]/]path[:tag][@algorithm:hex]`, the path in lower case.
 */
const IMAGE_REFERENCE = new RegExp(
  '^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)/)?' +
    '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*' +
    '(?::([\\w][\\w.-]{0,127}))?' +
    '(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$',
);

/**
 * Throws unless the image is a valid reference pinned to a tag or digest (a moving `latest`
 * breaks reproducible rollouts); returns its tag, or the digest's first 12 hex digits when it has
 * none, for the `app.kubernetes.io/version` label.
 */
export function requirePinnedImage(
  owner: string,
  prop: string,
  image: string,
  example = 'mariadb:10.11.19',
): string {
  const match = typeof image === 'string' ? IMAGE_REFERENCE.exec(image) : null;
  if (match === null) {
    throw new Error(
      `${owner}: ${prop} must be an image reference like '${example}' (lowercase repository, optional registry, :tag and/or @digest), got '${image}'`,
    );
  }
  const [, tag, digest] = match;
  if (digest === undefined && (tag === undefined || tag === 'latest')) {
    throw new Error(
      `${owner}: ${prop} must be pinned to a tag or digest (e.g. '${example}'), not 'latest' or untagged, got '${image}'`,
    );
  }
  return tag ?? digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}
