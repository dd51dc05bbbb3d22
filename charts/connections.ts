import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { IntOrString, KubeNetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../imports/k8s';
import { connectionsOf } from './common/connectable';
import type { IServiceEndpoint } from './endpoints';
import { ComponentIdentity, MEMOSTACK_VERSION, recommendedLabels } from './labels';

/** Pods that traffic may come from or go to. */
export interface INetworkPeer {
  /** Labels of the peer pods; none (`{}`) means every pod of the namespace. */
  readonly podSelectorLabels: Record<string, string>;
  /** Namespace of the peer pods. */
  readonly namespace: string;
}

/** Pods named by their labels and namespace, for pods this library does not make. */
export class NetworkPeer implements INetworkPeer {
  /** The pods of `namespace` that carry all of `labels`; empty `labels` mean every pod of it. */
  public static fromLabels(namespace: string, labels: Record<string, string>): NetworkPeer {
    return new NetworkPeer(namespace, { ...labels });
  }

  /** Every pod of `namespace` (an ingress controller's namespace, say). */
  public static allPodsIn(namespace: string): NetworkPeer {
    return new NetworkPeer(namespace, {});
  }

  private constructor(
    public readonly namespace: string,
    public readonly podSelectorLabels: Record<string, string>,
  ) {}
}

/** Implemented by constructs whose pods take part in NetworkPolicies. */
export interface IConnectable extends INetworkPeer {
  /** The allowed network flows of these pods. */
  readonly connections: Connections;
}

/** The transport protocol of a port in a NetworkPolicy rule. */
export enum Protocol {
  TCP = 'TCP',
  UDP = 'UDP',
}

/** A port a NetworkPolicy rule opens. */
export interface PortRule {
  /** The port number. */
  readonly port: number;
  /** @default Protocol.TCP */
  readonly protocol?: Protocol;
}

/** An address range outside the cluster's pods, as a NetworkPolicy `ipBlock` names it. */
export interface CidrBlock {
  /** The range, e.g. `0.0.0.0/0`. */
  readonly cidr: string;
  /**
   * Ranges inside `cidr` left out.
   * @default - none
   */
  readonly except?: string[];
}

/** The pods a `Connections` polices, and the labels of its NetworkPolicy. */
export interface ConnectionsProps {
  /** The component the pods belong to; names and labels the NetworkPolicy. */
  readonly identity: ComponentIdentity;
  /** The namespace of the pods (and of the NetworkPolicy). */
  readonly namespace: string;
  /** Labels selecting the pods. */
  readonly podSelectorLabels: Record<string, string>;
}

/** Cluster DNS (CoreDNS/kube-dns carries `k8s-app: kube-dns` on kind, k3d and the managed clouds). */
export const CLUSTER_DNS: INetworkPeer = NetworkPeer.fromLabels('kube-system', { 'k8s-app': 'kube-dns' });

const DNS_PORTS: PortRule[] = [
  { port: 53, protocol: Protocol.UDP },
  { port: 53, protocol: Protocol.TCP },
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
    private readonly self: ConnectionsProps,
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
  public allowFrom(peer: INetworkPeer, ports: PortRule[]): void {
    this.ingress.push({ peers: [peerOf(peer, this.self.namespace)], ports: ports.map(portOf) });
  }

  /** Allows connections to these pods on `ports` from any pod in any namespace (e.g. an ingress controller). */
  public allowFromAnyNamespace(ports: PortRule[]): void {
    this.ingress.push({ peers: [{ namespaceSelector: {} }], ports: ports.map(portOf) });
  }

  /** Allows these pods to open connections to `peer` on `ports`. */
  public allowToPeer(peer: INetworkPeer, ports: PortRule[]): void {
    this.egress.push({ peers: [peerOf(peer, this.self.namespace)], ports: ports.map(portOf) });
  }

  /** Allows connections to any address on `ports` (e.g. the Kubernetes API, whose address differs per cluster). */
  public allowToAnywhere(ports: PortRule[]): void {
    this.egress.push({ peers: [], ports: ports.map(portOf) });
  }

  /**
   * Allows connections to addresses outside the cluster's pods: each block is a CIDR, optionally
   * minus `except` ranges inside it (an identity provider on the internet, but not the private
   * ranges pods and nodes live in).
   */
  public allowToCidrs(blocks: CidrBlock[], ports: PortRule[]): void {
    this.egress.push({
      peers: blocks.map((b) => ({ ipBlock: { cidr: b.cidr, except: b.except ? [...b.except] : undefined } })),
      ports: ports.map(portOf),
    });
  }

  /** Allows traffic between the pods of this group on `ports` (cluster members, replicas). */
  public allowInternal(ports: PortRule[]): void {
    this.allowFrom(this.self, ports);
    this.allowToPeer(this.self, ports);
  }

  /** Both directions of a client-server flow: egress here and, when the server has `connections`, ingress there. */
  public allowTo(server: IServiceEndpoint): void {
    const ports = [{ port: server.port }];
    this.allowToPeer(server, ports);
    connectionsOf(server)?.allowFrom(this.self, ports);
  }
}

/** Empty `podSelectorLabels` stand for every pod of the peer's namespace. */
function peerOf(peer: INetworkPeer, ownNamespace: string): NetworkPolicyPeer {
  const everyPod = Object.keys(peer.podSelectorLabels).length === 0;
  const podSelector = everyPod ? {} : { matchLabels: { ...peer.podSelectorLabels } };
  if (peer.namespace === ownNamespace) {
    return { podSelector };
  }
  const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': peer.namespace } };
  return everyPod ? { namespaceSelector } : { namespaceSelector, podSelector };
}

function portOf(rule: PortRule): NetworkPolicyPort {
  return { port: IntOrString.fromNumber(rule.port), protocol: rule.protocol ?? Protocol.TCP };
}

function render(rules: readonly Rule[], key: 'from' | 'to'): unknown[] {
  return rules.map((rule) => ({
    ...(rule.peers.length > 0 ? { [key]: rule.peers } : {}),
    ports: rule.ports,
  }));
}
