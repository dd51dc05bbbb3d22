/** Finds in-cluster host names in configuration values, and resolves them against the folder's Services. */
import { get, num, str } from './json';
import { find, isHeadless, ofKind, servicePorts } from './model';
import type { K8sObject } from './types';

export interface HostRef {
  /** The token as written (`memo-kafka-0.memo-kafka-headless.memo.svc.cluster.local:9093`). */
  readonly token: string;
  readonly host: string;
  readonly port?: number;
  /** The `N@` prefix of a KRaft voter entry. */
  readonly voterId?: number;
}

const HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** Keys whose last word says the value is a host or list of hosts. */
const HOST_WORDS = new Set([
  'host',
  'hosts',
  'hostname',
  'broker',
  'brokers',
  'servers',
  'url',
  'urls',
  'uri',
  'addr',
  'address',
  'addresses',
  'endpoint',
  'endpoints',
  'voters',
  'bootstrap',
  'targets',
  'dsn',
]);

/** `character-set-server = utf8mb4`: "server" alone names a host only when a port or scheme says so. */
const WEAK_HOST_WORDS = new Set(['server']);

export function isHostKey(key: string, value?: string): boolean {
  const words = key.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  const word = (words[words.length - 1] ?? '').toLowerCase();
  if (HOST_WORDS.has(word)) return true;
  return WEAK_HOST_WORDS.has(word) && value !== undefined && /(:\/\/|:\d+\b)/.test(value);
}

/** Splits lists (`a:9092,b:9092`), URLs, `user@host`, `0@host:port`; drops what cannot be a host. */
export function extractHosts(value: string): HostRef[] {
  const out: HostRef[] = [];
  for (const raw of value.split(/[\s,;]+/)) {
    let t = raw.replace(/^[[("'`]+|[\])"'`]+$/g, '');
    if (t === '' || t.includes('$') || t.includes('{') || t.includes('%')) continue;
    const withoutScheme = t.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');
    const hadScheme = withoutScheme !== t;
    t = withoutScheme;
    let voterId: number | undefined;
    const slash = t.search(/[/?#]/);
    // `d/abc` or `api/v1` is a relative path, not a host; a host followed by a path needs a scheme.
    if (slash >= 0 && !hadScheme) continue;
    if (slash >= 0) t = t.slice(0, slash);
    const at = t.lastIndexOf('@');
    if (at >= 0) {
      const prefix = t.slice(0, at);
      if (/^\d+$/.test(prefix)) voterId = Number(prefix);
      t = t.slice(at + 1);
    }
    const m = /^([^:]+)(?::(\d+))?$/.exec(t);
    if (!m) continue;
    const host = m[1].replace(/\.$/, '');
    if (!HOST.test(host) || /^\d+$/.test(host) || IPV4.test(host) || host === 'localhost') continue;
    out.push({
      token: raw.replace(/^[[("'`]+|[\])"'`]+$/g, ''),
      host,
      port: m[2] === undefined ? undefined : Number(m[2]),
      voterId,
    });
  }
  return out;
}

export type Target =
  | { readonly type: 'service'; readonly service: string; readonly namespace: string }
  | { readonly type: 'pod'; readonly pod: string; readonly service: string; readonly namespace: string };

/**
 * `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, `pod.svc.ns.svc.cluster.local`.
 * Bare names count only where the key says it is a host; two-part names only when the second
 * part is a namespace of the folder, so `example.com` stays external.
 */
export function classify(
  host: string,
  defaultNs: string,
  namespaces: ReadonlySet<string>,
  allowBare: boolean,
): Target | undefined {
  const parts = host.replace(/\.cluster\.local$/, '').split('.');
  if (parts[parts.length - 1] === 'svc') {
    const body = parts.slice(0, -1);
    if (body.length === 2) return { type: 'service', service: body[0], namespace: body[1] };
    if (body.length === 3) return { type: 'pod', pod: body[0], service: body[1], namespace: body[2] };
    return undefined;
  }
  if (host.endsWith('.cluster.local')) return undefined;
  if (parts.length === 1)
    return allowBare ? { type: 'service', service: parts[0], namespace: defaultNs } : undefined;
  if (parts.length === 2 && namespaces.has(parts[1]))
    return { type: 'service', service: parts[0], namespace: parts[1] };
  return undefined;
}

/** Why the folder cannot serve this host and port, or undefined when it can. */
export function resolveProblem(
  objects: readonly K8sObject[],
  target: Target,
  ref: HostRef,
): string | undefined {
  const svc = find(objects, 'Service', target.namespace, target.service);
  const shown = JSON.stringify(ref.token);
  if (!svc) return `Not found: ${shown}: no Service ${target.namespace}/${target.service} in this folder`;
  if (get(svc.raw, 'spec', 'type') === 'ExternalName') return undefined;
  const ports = servicePorts(svc).map((p) => p.port);
  if (ref.port !== undefined && !ports.includes(ref.port))
    return `Invalid value: ${shown}: Service ${svc.namespace}/${svc.name} does not expose port ${ref.port} (ports: ${ports.join(', ') || 'none'})`;
  if (target.type === 'pod') {
    if (!isHeadless(svc))
      return `Invalid value: ${shown}: Service ${svc.namespace}/${svc.name} is not headless, so it gives pods no DNS names`;
    const sts = ofKind(objects, 'StatefulSet').find(
      (s) =>
        s.namespace === target.namespace &&
        str(get(s.raw, 'spec', 'serviceName')) === target.service &&
        target.pod.startsWith(`${s.name}-`),
    );
    const ordinal = sts ? Number(target.pod.slice(sts.name.length + 1)) : NaN;
    if (!sts || !Number.isInteger(ordinal))
      return `Not found: ${shown}: no StatefulSet governed by ${target.service} has a pod named ${target.pod}`;
    const replicas = num(get(sts.raw, 'spec', 'replicas')) ?? 1;
    if (ordinal >= replicas)
      return `Invalid value: ${shown}: StatefulSet ${sts.namespace}/${sts.name} has ${replicas} replica(s), ordinals 0..${replicas - 1}`;
  }
  return undefined;
}
