/** What a MonitoringMode puts behind a MonitoringStack: the standalone servers or the operator's objects. */
import { Connections } from '../connections';
import { IMonitored, IMonitoringContribution, RequiredSecret } from '../endpoints';

export interface MonitoringBackend {
  /** Secrets the backend's pods read. */
  readonly requiredSecrets: RequiredSecret[];
  /** Allowed flows of the Prometheus, Alertmanager and Grafana pods (when the backend runs them). */
  readonly prometheusConnections?: Connections;
  readonly alertmanagerConnections?: Connections;
  readonly grafanaConnections?: Connections;
  /**
   * Scrapes a component the stack has just registered (`contribution` is its checked
   * `monitoring`): allows the scrape flow (ingress too when the component is `IConnectable`) and
   * adds what the mode needs for it.
   */
  monitor(component: IMonitored, contribution: IMonitoringContribution): void;
}
