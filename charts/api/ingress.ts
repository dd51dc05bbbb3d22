/** The API's Ingress: the public paths only, with a cert-manager certificate when asked. */
import { Construct } from 'constructs';
import { KubeIngress } from '../../imports/k8s';

export interface ApiIngressSource {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly ingressClassName?: string;
  readonly host?: string;
  readonly clusterIssuer?: string;
  readonly tlsSecretName: string;
}

export function apiIngress(scope: Construct, id: string, source: ApiIngressSource): KubeIngress {
  const backend = { service: { name: source.name, port: { name: 'http' } } };
  return new KubeIngress(scope, id, {
    metadata: {
      name: source.name,
      namespace: source.namespace,
      labels: source.labels,
      annotations: source.clusterIssuer
        ? { 'cert-manager.io/cluster-issuer': source.clusterIssuer }
        : undefined,
    },
    spec: {
      ingressClassName: source.ingressClassName,
      tls:
        source.clusterIssuer && source.host
          ? [{ hosts: [source.host], secretName: source.tlsSecretName }]
          : undefined,
      rules: [
        {
          host: source.host,
          // /metrics is absent: it is served on the metrics port, which only Prometheus reaches.
          http: {
            paths: [
              { path: '/api', pathType: 'Prefix', backend },
              { path: '/health', pathType: 'Prefix', backend },
              { path: '/docs', pathType: 'Prefix', backend },
              { path: '/openapi.json', pathType: 'Exact', backend },
            ],
          },
        },
      ],
    },
  });
}
