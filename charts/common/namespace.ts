/** Where a construct's objects live: the namespace it resolves and the DNS names pods get there. */
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';

/** The namespace used when neither the prop nor the chart names one. */
export const DEFAULT_NAMESPACE = 'memo';

/** The prop's value, else the chart's namespace, else `memo`. */
export function resolveNamespace(scope: Construct, namespace: string | undefined): string {
  return namespace ?? Chart.of(scope).namespace ?? DEFAULT_NAMESPACE;
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
