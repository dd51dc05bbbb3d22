/** Standalone mode: Prometheus, Alertmanager and Grafana run by the stack, and the flows between them. */
import { Construct } from 'constructs';
import { Connections } from '../connections';
import { IMonitored, IMonitoringContribution, RequiredSecret } from '../endpoints';
import { addAlertmanager, AlertmanagerSpec } from './alertmanager';
import { MonitoringBackend } from './backend';
import { connectionsOf } from '../common/connectable';
import { addGrafana, GRAFANA_ADMIN_PASSWORD_KEY, GrafanaSpec } from './grafana';
import { ALERTMANAGER_PORT, PROMETHEUS_PORT } from './ports';
import { addPrometheus, PrometheusSpec } from './prometheus';
import { serverEndpoint, serverPeer, StackPlacement } from './workload';

const KUBERNETES_API_PORTS = [{ port: 443 }, { port: 6443 }];

/** What the standalone servers are built from: the stack's resolved props and its rendered files. */
export interface StandaloneSettings {
  readonly placement: StackPlacement;
  readonly prometheus: PrometheusSpec;
  readonly alertmanager: AlertmanagerSpec;
  readonly grafana: GrafanaSpec;
  /** Where Alertmanager posts notifications; its port is opened towards anywhere. */
  readonly alertWebhookUrl?: string;
}

export class StandaloneMonitoring implements MonitoringBackend {
  public readonly requiredSecrets: RequiredSecret[];
  public readonly prometheusConnections: Connections;
  public readonly alertmanagerConnections: Connections;
  public readonly grafanaConnections: Connections;
  private readonly placement: StackPlacement;

  public constructor(scope: Construct, settings: StandaloneSettings) {
    const placement = settings.placement;
    this.placement = placement;
    this.requiredSecrets = [
      {
        secretName: settings.grafana.adminSecretName,
        namespace: placement.namespace,
        keys: [GRAFANA_ADMIN_PASSWORD_KEY],
      },
    ];
    const prometheus = addPrometheus(scope, placement, settings.prometheus);
    const alertmanager = addAlertmanager(scope, placement, settings.alertmanager);
    const grafana = addGrafana(scope, placement, settings.grafana);
    this.prometheusConnections = prometheus;
    this.alertmanagerConnections = alertmanager;
    this.grafanaConnections = grafana;

    prometheus.allowToAnywhere(KUBERNETES_API_PORTS);
    prometheus.allowTo(serverEndpoint(placement, 'alertmanager', ALERTMANAGER_PORT, alertmanager));
    grafana.allowTo(serverEndpoint(placement, 'prometheus', PROMETHEUS_PORT, prometheus));
    if (settings.alertWebhookUrl !== undefined) {
      const url = new URL(settings.alertWebhookUrl);
      const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      // The receiver's address is outside the cluster and unknown here.
      alertmanager.allowToAnywhere([{ port }]);
    }
  }

  public monitor(component: IMonitored, c: IMonitoringContribution): void {
    if (c.namespace !== this.placement.namespace) {
      throw new Error(
        `MonitoringStack.monitor: component "${c.component}" is in namespace "${c.namespace}", ` +
          `but standalone Prometheus discovers pods only in "${this.placement.namespace}"`,
      );
    }
    const ports = [{ port: c.scrape.port }];
    this.prometheusConnections.allowToPeer(c, ports);
    connectionsOf(component)?.allowFrom(serverPeer(this.placement, 'prometheus'), ports);
  }
}
