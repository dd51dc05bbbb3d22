/**
 * cdk8s-plus-27 interop. Our workloads are rendered as L1 objects (see each construct for why),
 * but a user's own workloads are usually cdk8s-plus ones; this module lets the two meet with the
 * API cdk8s-plus users already know: our constructs are `INetworkPolicyPeer`s and
 * `IPodSelector`s, so `deployment.connections.allowTo(redis, ...)` works, and each service
 * construct offers `allowClient(deployment)`, the one call that opens exactly its client port.
 */
import * as plus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CLUSTER_DNS, INetworkPeer } from './connections';

/** How `allowClient` polices the client's side of the flow. */
export interface AllowClientOptions {
  /**
   * Which side gets a NetworkPolicy, as in cdk8s-plus's `PodConnections.allowTo`: `POD` only
   * the client's egress, `PEER` only the service's ingress.
   * @default - both: the client may connect out and the service admits it
   */
  readonly isolation?: plus.PodConnectionsIsolation;
}

/**
 * The pods of one memostack component, as cdk8s-plus addresses pods: a label selector in one
 * named namespace. cdk8s-plus needs the namespace by name to write the policy on our side.
 */
export abstract class PlusPeer
  extends Construct
  implements plus.INetworkPolicyPeer, plus.IPodSelector, INetworkPeer
{
  public abstract readonly namespace: string;
  public abstract readonly podSelectorLabels: Record<string, string>;

  /** @see plus.IPodSelector */
  public toPodSelectorConfig(): plus.PodSelectorConfig {
    return {
      labelSelector: plus.LabelSelector.of({ labels: { ...this.podSelectorLabels } }),
      namespaces: { names: [this.namespace] },
    };
  }

  /** @see plus.INetworkPolicyPeer */
  public toNetworkPolicyPeerConfig(): plus.NetworkPolicyPeerConfig {
    return { podSelector: this.toPodSelectorConfig() };
  }

  /** @see plus.INetworkPolicyPeer */
  public toPodSelector(): plus.IPodSelector | undefined {
    return this;
  }

  /**
   * Lets `client` open TCP connections to these pods on `port` and nothing else: an ingress
   * policy on our pods (under the namespace's default deny, the only way in) and, unless
   * `isolation` is `PEER`, an egress policy on the client's pods to here and to cluster DNS (an
   * egress policy isolates the client's egress, and without DNS it could not resolve our Service).
   */
  protected connectClient(
    owner: string,
    client: plus.Workload,
    port: number,
    options: AllowClientOptions,
  ): void {
    // cdk8s-plus takes a client without a namespace to live in ours; for a client of another
    // namespace that would admit the wrong pods, so it is refused.
    if (client.metadata.namespace === undefined) {
      throw new Error(
        `${owner}.allowClient: the client ${client.node.path} has no namespace; set it (metadata.namespace, or the chart's namespace) so the policies can name it`,
      );
    }
    const ports = [plus.NetworkPolicyPort.tcp(port)];
    client.connections.allowTo(this, { ports, isolation: options.isolation });
    if (options.isolation !== plus.PodConnectionsIsolation.PEER) allowDns(client);
  }
}

/** One DNS egress rule per client, however many services it is connected to. */
function allowDns(client: plus.Workload): void {
  const id = 'memostack-cluster-dns';
  if (client.node.tryFindChild(id)) return;
  const dns = plus.Pods.select(client, id, {
    labels: CLUSTER_DNS.podSelectorLabels,
    namespaces: plus.Namespaces.select(client, `${id}-namespace`, { names: [CLUSTER_DNS.namespace] }),
  });
  client.connections.allowTo(dns, {
    isolation: plus.PodConnectionsIsolation.POD,
    ports: [plus.NetworkPolicyPort.udp(53), plus.NetworkPolicyPort.tcp(53)],
  });
}
