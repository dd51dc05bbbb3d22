/** What a MonitoringMode puts behind a MonitoringStack: the standalone servers or the operator's objects. */
import { Connections } from '../connections';
import { IMonitored, MonitoringContribution, RequiredSecret } from '../endpoints';

/** A component handed to `MonitoringStack.monitor()`; with `connections`, its ingress is opened too. */
export type MonitoredComponent = IMonitored & { readonly connections?: Connections };

export interface MonitoringBackend {
  /** Secrets the backend's pods read. */
  readonly requiredSecrets: readonly RequiredSecret[];
  /** Allowed flows of the Prometheus, Alertmanager and Grafana pods (when the backend runs them). */
  readonly prometheusConnections?: Connections;
  readonly alertmanagerConnections?: Connections;
  readonly grafanaConnections?: Connections;
  /**
   * Scrapes a component the stack has just registered (`contribution` is its checked
   * `monitoring`): allows the scrape flow and adds what the mode needs for it.
   */
  monitor(component: MonitoredComponent, contribution: MonitoringContribution): void;
}
