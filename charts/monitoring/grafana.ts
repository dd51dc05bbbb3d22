/** The standalone Grafana: its provisioning and dashboard ConfigMaps and server. */
import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { Container, KubeConfigMap } from '../../imports/k8s';
import { configHash, containerResources, emptyDir } from '../common/pod-parts';
import { Connections } from '../connections';
import { recommendedLabels } from '../labels';
import { ImageUser, restrictedContainerSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';
import { DASHBOARDS_PATH, renderDashboardProviders, renderDatasources } from './grafana-config';
import { GRAFANA_PORT, PROMETHEUS_PORT } from './ports';
import { addServerWorkload, httpProbe, serverIdentity, StackPlacement } from './workload';

/** The key of the admin credentials Secret that holds the admin password. */
export const GRAFANA_ADMIN_PASSWORD_KEY = 'admin-password';
/** The grafana/grafana image's `grafana` user. */
const GRAFANA_USER: ImageUser = { uid: 472, gid: 472 };

/** What the Grafana server is built from. */
export interface GrafanaSpec {
  /** Name of the Deployment and Service; prefix of the ConfigMaps. */
  readonly name: string;
  readonly image: string;
  readonly version: string;
  readonly resources: ResourcePreset;
  /** Secret holding the admin password under GRAFANA_ADMIN_PASSWORD_KEY. */
  readonly adminSecretName: string;
  /** uid the Prometheus datasource is provisioned under (the one the dashboards query). */
  readonly datasourceUid: string;
  /** The Prometheus Service the datasource points at. */
  readonly prometheusName: string;
  /** Dashboard JSON per component, rendered at synth, after every monitor(). */
  readonly dashboards: () => Record<string, string>;
}

export function addGrafana(scope: Construct, placement: StackPlacement, spec: GrafanaSpec): Connections {
  const identity = serverIdentity(placement, 'grafana', spec.version);
  const labels = recommendedLabels(identity);
  const name = spec.name;
  const metadata = (n: string) => ({ name: n, namespace: placement.namespace, labels });
  const datasourcesName = `${name}-datasources`;
  const providersName = `${name}-dashboard-providers`;
  const dashboardsName = `${name}-dashboards`;

  const datasources = renderDatasources(
    spec.datasourceUid,
    `http://${spec.prometheusName}:${PROMETHEUS_PORT}`,
  );
  const providers = renderDashboardProviders();
  new KubeConfigMap(scope, 'grafana-datasources', {
    metadata: metadata(datasourcesName),
    data: { 'datasources.yaml': datasources },
  });
  new KubeConfigMap(scope, 'grafana-dashboard-providers', {
    metadata: metadata(providersName),
    data: { 'providers.yaml': providers },
  });
  new KubeConfigMap(scope, 'grafana-dashboards', {
    metadata: metadata(dashboardsName),
    data: Lazy.any({ produce: () => spec.dashboards() }) as unknown as Record<string, string>,
  });

  const setting = (envName: string, value: string) => ({ name: envName, value });
  const container: Container = {
    name: 'grafana',
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: GRAFANA_PORT, protocol: 'TCP' }],
    env: [
      setting('GF_SECURITY_ADMIN_USER', 'admin'),
      {
        name: 'GF_SECURITY_ADMIN_PASSWORD',
        valueFrom: { secretKeyRef: { name: spec.adminSecretName, key: GRAFANA_ADMIN_PASSWORD_KEY } },
      },
      // Egress is closed: no update checks, usage reports or plugin downloads.
      setting('GF_ANALYTICS_REPORTING_ENABLED', 'false'),
      setting('GF_ANALYTICS_CHECK_FOR_UPDATES', 'false'),
      setting('GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', 'false'),
      setting('GF_PLUGINS_PREINSTALL_DISABLED', 'true'),
      setting('GF_LOG_MODE', 'console'),
      setting('GF_USERS_ALLOW_SIGN_UP', 'false'),
    ],
    resources: containerResources(spec.resources),
    securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
    volumeMounts: [
      { name: 'data', mountPath: '/var/lib/grafana' },
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true },
      { name: 'dashboard-providers', mountPath: '/etc/grafana/provisioning/dashboards', readOnly: true },
      { name: 'dashboards', mountPath: DASHBOARDS_PATH, readOnly: true },
    ],
    startupProbe: httpProbe('/api/health', 5, 24),
    readinessProbe: httpProbe('/api/health', 10, 3),
    livenessProbe: httpProbe('/api/health', 15, 4),
  };
  return addServerWorkload(scope, placement, 'grafana', identity, {
    container,
    volumes: [
      emptyDir('data', 512),
      emptyDir('tmp', 64),
      { name: 'datasources', configMap: { name: datasourcesName } },
      { name: 'dashboard-providers', configMap: { name: providersName } },
      { name: 'dashboards', configMap: { name: dashboardsName } },
    ],
    securityUser: GRAFANA_USER,
    recreate: false,
    configChecksum: () => configHash(datasources + providers + JSON.stringify(spec.dashboards())),
  });
}
