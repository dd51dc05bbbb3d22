/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { containerPorts, selectorMatches, WORKLOAD_KINDS } from '../../validation/model';

/**
 * Kubernetes NetworkPolicy semantics over synthesized manifests, for tests that ask "may this
 * pod open that port on that pod?". No cluster here enforces policies (the simulated nodes run
 * no network), so the rules of networking.k8s.io/v1 are applied as the API reference states them:
 * - a pod is isolated for a direction when a policy of its namespace selects it and lists that
 *   direction in `policyTypes` (absent: Ingress, plus Egress when the policy has egress rules);
 * - a flow needs the source's egress and the destination's ingress, each either not isolated or
 *   allowed by a rule of some policy that selects the pod (policies only add);
 * - a rule without `from`/`to` matches every peer, without `ports` every port; one peer with
 *   both `namespaceSelector` and `podSelector` needs both, separate peers are alternatives;
 * - a named port is the destination container's port of that name.
 * `ipBlock` peers never match a pod here: which pod addresses a CIDR covers depends on the
 * cluster, and our policies use ipBlock only for addresses outside it.
 */
export interface ContainerPort {
  readonly containerPort: number;
  readonly name?: string;
  readonly protocol?: string;
}

/** A pod as policies see it: where it runs, its labels and the ports its containers declare. */
export interface PodRef {
  readonly description: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly ContainerPort[];
}

export interface Verdict {
  readonly allowed: boolean;
  /** The source's side: "not isolated" or the policy that allows it, or why not. */
  readonly egress: string;
  /** The destination's side, likewise. */
  readonly ingress: string;
}

/** A LabelSelector against labels, by the validator's own evaluator (one place for the rules). */
export function matchesSelector(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  return selectorMatches(selector, { ...labels });
}

/** The pods every workload in `manifests` makes (one per template; replicas look alike to policies). */
export function podsOf(manifests: readonly any[]): PodRef[] {
  return manifests.flatMap((m) => {
    if (!WORKLOAD_KINDS.has(m.kind)) return [];
    const template =
      m.kind === 'Pod' ? m : m.kind === 'CronJob' ? m.spec?.jobTemplate?.spec?.template : m.spec?.template;
    if (!template) return [];
    return [
      {
        description: `${m.kind}/${m.metadata.name}`,
        namespace: m.metadata.namespace ?? 'default',
        labels: template.metadata?.labels ?? {},
        ports: (template.spec?.containers ?? []).flatMap(containerPorts),
      },
    ];
  });
}

export function podNamed(manifests: readonly any[], kind: string, name: string): PodRef {
  const pod = podsOf(manifests).find((p) => p.description === `${kind}/${name}`);
  if (!pod) throw new Error(`no ${kind}/${name} in the manifests`);
  return pod;
}

/** Whether `from` may open `port`/`protocol` on `to`, under every NetworkPolicy in `manifests`. */
export function canConnect(
  manifests: readonly any[],
  from: PodRef,
  to: PodRef,
  port: number,
  protocol = 'TCP',
): Verdict {
  const namespaceLabels = (name: string): Record<string, string> => {
    const ns = manifests.find((m) => m.kind === 'Namespace' && m.metadata.name === name);
    return { ...(ns?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
  };
  const peerMatches = (peer: any, policyNamespace: string, pod: PodRef): boolean => {
    if (peer.ipBlock) return false;
    const namespaceOk = peer.namespaceSelector
      ? matchesSelector(peer.namespaceSelector, namespaceLabels(pod.namespace))
      : pod.namespace === policyNamespace;
    const podOk = peer.podSelector ? matchesSelector(peer.podSelector, pod.labels) : true;
    return namespaceOk && podOk;
  };
  const portMatches = (rulePort: any): boolean => {
    if ((rulePort.protocol ?? 'TCP') !== protocol) return false;
    if (rulePort.port === undefined) return true;
    if (typeof rulePort.port === 'string') {
      return to.ports.some(
        (p) => p.name === rulePort.port && p.containerPort === port && (p.protocol ?? 'TCP') === protocol,
      );
    }
    return rulePort.endPort === undefined
      ? rulePort.port === port
      : port >= rulePort.port && port <= rulePort.endPort;
  };
  const side = (pod: PodRef, direction: 'Ingress' | 'Egress', peer: PodRef): string | undefined => {
    const key = direction === 'Ingress' ? 'ingress' : 'egress';
    const peersKey = direction === 'Ingress' ? 'from' : 'to';
    const selecting = manifests.filter((m) => {
      if (m.kind !== 'NetworkPolicy' || (m.metadata.namespace ?? 'default') !== pod.namespace) return false;
      const types: string[] = m.spec.policyTypes ?? (m.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
      return types.includes(direction) && matchesSelector(m.spec.podSelector ?? {}, pod.labels);
    });
    if (selecting.length === 0) return 'not isolated';
    for (const policy of selecting) {
      for (const rule of policy.spec[key] ?? []) {
        const peers: any[] = rule[peersKey] ?? [];
        const peerOk = peers.length === 0 || peers.some((p) => peerMatches(p, pod.namespace, peer));
        const ports: any[] = rule.ports ?? [];
        const portOk = ports.length === 0 || ports.some(portMatches);
        if (peerOk && portOk) return `allowed by NetworkPolicy/${policy.metadata.name}`;
      }
    }
    return undefined;
  };
  const egress = side(from, 'Egress', to);
  const ingress = side(to, 'Ingress', from);
  return {
    allowed: egress !== undefined && ingress !== undefined,
    egress: egress ?? `denied: no policy selecting ${from.description} allows egress there`,
    ingress: ingress ?? `denied: no policy selecting ${to.description} allows ingress from there`,
  };
}
