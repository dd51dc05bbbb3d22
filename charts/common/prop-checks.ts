/**
 * The prop checks every construct and the profile data use, so that a bad value fails at
 * construction with one message shape: `<Owner>: <prop> must be <what>, got <value>`. The
 * Kubernetes rules behind them are k8s-syntax.ts's, the ones the manifest validator applies.
 */
import { ResourcePreset } from '../resources';
import {
  configMapKey,
  cronSchedule,
  dns1035Label,
  dns1123Label,
  dns1123Subdomain,
  labelValue,
  qualifiedName,
} from './k8s-syntax';

/** Partitions per Kafka topic we accept (far above any sensible count; a typo of 60000 is not one). */
export const MAX_TOPIC_PARTITIONS = 10_000;

/**
 * Throws unless `value` is a DNS-1035 label of at most `maxLength` characters. StatefulSet names
 * are held to 52: the controller adds `-<ordinal>` to pod names and a 10-character revision hash
 * to a 63-character label value.
 */
export function requireDnsLabel(owner: string, prop: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || dns1035Label(value).length > 0 || value.length > maxLength) {
    throw new Error(
      `${owner}: ${prop} must be a lowercase DNS label (a-z, 0-9, '-', starting with a letter) of at most ${maxLength} characters, got '${value}'`,
    );
  }
}

/** Throws unless `value` is a Namespace name: an RFC 1123 label (it may start with a digit), at most 63 characters. */
export function requireNamespace(owner: string, prop: string, value: string): void {
  if (typeof value !== 'string' || dns1123Label(value).length > 0) {
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
  if (typeof value !== 'string' || dns1123Subdomain(value).length > 0 || value.length > maxLength) {
    throw new Error(
      `${owner}: ${prop} must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', at most ${maxLength} characters), got '${value}'`,
    );
  }
}

/** Throws unless `value` is a host name an Ingress accepts: an RFC 1123 subdomain, `*.` allowed first, not an IP address. */
export function requireHostname(owner: string, prop: string, value: string): void {
  const name = typeof value === 'string' ? value.replace(/^\*\./, '') : '';
  if (
    dns1123Subdomain(name).length > 0 ||
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
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) {
    throw new Error(
      `${owner}: ${prop} must hold at least one label (an empty selector matches every pod), got {}`,
    );
  }
  for (const [key, value] of entries) {
    const valueOk = typeof value === 'string' && labelValue(value).length === 0;
    if (qualifiedName(key).length > 0 || !valueOk) {
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
  if (typeof ref.key !== 'string' || configMapKey(ref.key).length > 0) {
    throw new Error(
      `${owner}: ${prop}.key must be a Secret key (a-z, A-Z, 0-9, '-', '_', '.'), got '${ref.key}'`,
    );
  }
}

/** Throws unless `schedule` is a schedule the CronJob controller can parse: five cron fields or an `@descriptor`. */
export function requireCronSchedule(owner: string, prop: string, schedule: string): void {
  const problems = typeof schedule === 'string' ? cronSchedule(schedule) : ['it is not a string'];
  if (problems.length > 0) {
    throw new Error(
      `${owner}: ${prop} must be a five-field cron expression (e.g. '0 3 * * *') or an @macro (${problems[0]}), got '${schedule}'`,
    );
  }
}
