import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { IntOrString, KubeNetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../imports/k8s';
import { ComponentIdentity, MEMOSTACK_VERSION, recommendedLabels } from './labels';

/** Pods that traffic may come from or go to. */
export interface NetworkPeer {
  /** Labels of the peer pods; none (`{}`) means every pod of the namespace. */
  readonly podSelectorLabels: Record<string, string>;
  /** Namespace of the peer pods. */
  readonly namespace: string;
}

/** Implemented by constructs whose pods take part in NetworkPolicies. */
export interface IConnectable extends NetworkPeer {
  readonly connections: Connections;
}

export interface PortRule {
  readonly port: number;
  /** @default "TCP" */
  readonly protocol?: 'TCP' | 'UDP';
}

/** Cluster DNS (CoreDNS/kube-dns carries `k8s-app: kube-dns` on kind, k3d and the managed clouds). */
export const CLUSTER_DNS: NetworkPeer = {
  namespace: 'kube-system',
  podSelectorLabels: { 'k8s-app': 'kube-dns' },
};

const DNS_PORTS: readonly PortRule[] = [
  { port: 53, protocol: 'UDP' },
  { port: 53, protocol: 'TCP' },
];

interface Rule {
  readonly peers: NetworkPolicyPeer[];
  readonly ports: NetworkPolicyPort[];
}

/**
 * The allowed network flows of one group of pods, rendered as one NetworkPolicy that selects
 * them for both ingress and egress. Rules accumulate while the app is built (wiring happens
 * after construction), so the spec is rendered lazily at synth. With the namespace's
 * default-deny policy in place, a flow that nobody declared is a flow that does not happen.
 */
export class Connections {
  /** The namespace-wide policy that denies every flow not allowed explicitly. */
  public static defaultDeny(scope: Construct, id: string, namespace: string): KubeNetworkPolicy {
    return new KubeNetworkPolicy(scope, id, {
      metadata: {
        name: 'default-deny-all',
        namespace,
        labels: recommendedLabels({
          name: 'memostack',
          instance: `${namespace}-default-deny`,
          component: 'network-policy',
          version: MEMOSTACK_VERSION,
        }),
      },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
  }

  /** The rendered policy. */
  public readonly policy: ApiObject;
  private readonly ingress: Rule[] = [];
  private readonly egress: Rule[] = [];

  public constructor(
    scope: Construct,
    id: string,
    private readonly self: {
      readonly identity: ComponentIdentity;
      readonly namespace: string;
      readonly podSelectorLabels: Record<string, string>;
    },
  ) {
    // Every pod resolves names; without DNS nothing else works.
    this.egress.push({
      peers: [peerOf(CLUSTER_DNS, self.namespace)],
      ports: DNS_PORTS.map(portOf),
    });
    this.policy = new KubeNetworkPolicy(scope, id, {
      metadata: {
        name: self.identity.instance,
        namespace: self.namespace,
        labels: recommendedLabels(self.identity),
      },
      spec: {
        podSelector: { matchLabels: self.podSelectorLabels },
        policyTypes: ['Ingress', 'Egress'],
        // No rules means deny all, said by policyTypes alone: the API server drops an empty
        // list, so `ingress: []` in dist bumped the policy's generation on every re-apply.
        ingress: Lazy.any({
          produce: () => (this.ingress.length > 0 ? render(this.ingress, 'from') : undefined),
        }),
        egress: Lazy.any({ produce: () => (this.egress.length > 0 ? render(this.egress, 'to') : undefined) }),
      },
    });
  }

  /** Allows `peer` to open connections to these pods on `ports`. */
  public allowFrom(peer: NetworkPeer, ports: readonly PortRule[]): void {
    this.ingress.push({ peers: [peerOf(peer, this.self.namespace)], ports: ports.map(portOf) });
  }

  /** Allows connections to these pods on `ports` from any pod in any namespace (e.g. an ingress controller). */
  public allowFromAnyNamespace(ports: readonly PortRule[]): void {
    this.ingress.push({ peers: [{ namespaceSelector: {} }], ports: ports.map(portOf) });
  }

  /** Allows these pods to open connections to `peer` on `ports`. */
  public allowToPeer(peer: NetworkPeer, ports: readonly PortRule[]): void {
    this.egress.push({ peers: [peerOf(peer, this.self.namespace)], ports: ports.map(portOf) });
  }

  /** Allows connections to any address on `ports` (e.g. the Kubernetes API, whose address differs per cluster). */
  public allowToAnywhere(ports: readonly PortRule[]): void {
    this.egress.push({ peers: [], ports: ports.map(portOf) });
  }

  /**
   * Allows connections to addresses outside the cluster's pods: each block is a CIDR, optionally
   * minus `except` ranges inside it (an identity provider on the internet, but not the private
   * ranges pods and nodes live in).
   */
  public allowToCidrs(
    blocks: readonly { readonly cidr: string; readonly except?: readonly string[] }[],
    ports: readonly PortRule[],
  ): void {
    this.egress.push({
      peers: blocks.map((b) => ({ ipBlock: { cidr: b.cidr, except: b.except ? [...b.except] : undefined } })),
      ports: ports.map(portOf),
    });
  }

  /** Allows traffic between the pods of this group on `ports` (cluster members, replicas). */
  public allowInternal(ports: readonly PortRule[]): void {
    this.allowFrom(this.self, ports);
    this.allowToPeer(this.self, ports);
  }

  /** Both directions of a client-server flow: egress here and, when the server is connectable, ingress there. */
  public allowTo(server: NetworkPeer & { readonly port: number; readonly connections?: Connections }): void {
    const ports = [{ port: server.port }];
    this.allowToPeer(server, ports);
    server.connections?.allowFrom(this.self, ports);
  }
}

/** Empty `podSelectorLabels` stand for every pod of the peer's namespace. */
function peerOf(peer: NetworkPeer, ownNamespace: string): NetworkPolicyPeer {
  const everyPod = Object.keys(peer.podSelectorLabels).length === 0;
  const podSelector = everyPod ? {} : { matchLabels: { ...peer.podSelectorLabels } };
  if (peer.namespace === ownNamespace) {
    return { podSelector };
  }
  const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': peer.namespace } };
  return everyPod ? { namespaceSelector } : { namespaceSelector, podSelector };
}

function portOf(rule: PortRule): NetworkPolicyPort {
  return { port: IntOrString.fromNumber(rule.port), protocol: rule.protocol ?? 'TCP' };
}

function render(rules: readonly Rule[], key: 'from' | 'to'): unknown[] {
  return rules.map((rule) => ({
    ...(rule.peers.length > 0 ? { [key]: rule.peers } : {}),
    ports: rule.ports,
  }));
}
