/**
 * Operator mode: per monitored component a ServiceMonitor and a dashboard ConfigMap, and one
 * PrometheusRule with every component's rules, for a cluster running kube-prometheus-stack.
 */
import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { IMonitored, IMonitoringContribution, RequiredSecret } from '../endpoints';
import { ruleGroups } from './alert-rules';
import { MonitoringBackend } from './backend';
import { connectionsOf } from '../common/connectable';
import { renderDashboards } from './grafana-config';
import { MonitoringMode } from './monitoring-mode';

/** What the operator's objects are built from. */
export interface OperatorSettings {
  /** An operator mode: its release label, its Prometheus' namespace and pods, its datasource. */
  readonly mode: MonitoringMode;
  /** Namespace of the PrometheusRule and the dashboard ConfigMaps. */
  readonly namespace: string;
  readonly namePrefix: string;
  readonly scrapeInterval: string;
  /** The stack's registry, live: a component is in it before the backend's monitor() sees it. */
  readonly contributions: readonly IMonitoringContribution[];
}

/** Nothing runs here and nothing exists until a component is monitored: objects are emitted in monitor(). */
export class OperatorMonitoring implements MonitoringBackend {
  public readonly requiredSecrets: RequiredSecret[] = [];

  public constructor(
    private readonly scope: Construct,
    private readonly settings: OperatorSettings,
  ) {}

  public monitor(component: IMonitored, c: IMonitoringContribution): void {
    const mode = this.settings.mode;
    connectionsOf(component)?.allowFrom(
      { namespace: mode.prometheusNamespace, podSelectorLabels: mode.prometheusPodSelectorLabels },
      [{ port: c.scrape.port }],
    );
    this.addObjects(c);
  }

  private addObjects(c: IMonitoringContribution): void {
    const { mode, namespace, namePrefix, contributions } = this.settings;
    const labels = {
      'app.kubernetes.io/part-of': 'memostack',
      'app.kubernetes.io/managed-by': 'cdk8s',
      'app.kubernetes.io/component': 'monitoring',
      release: mode.release,
    };
    const id = c.component.replace(/[^A-Za-z0-9-]/g, '-');
    new ApiObject(this.scope, `service-monitor-${id}`, {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: c.serviceName, namespace: c.namespace, labels },
      spec: {
        selector: { matchLabels: { ...c.podSelectorLabels } },
        namespaceSelector: { matchNames: [c.namespace] },
        endpoints: [
          {
            port: c.scrape.portName,
            path: c.scrape.path ?? '/metrics',
            interval: this.settings.scrapeInterval,
            // Several Services may carry the pods' labels (headless and client); scrape through one.
            relabelings: [
              { sourceLabels: ['__meta_kubernetes_service_name'], regex: c.serviceName, action: 'keep' },
            ],
          },
        ],
      },
    });
    const file = `${c.component}.json`;
    new ApiObject(this.scope, `dashboard-${id}`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `${namePrefix}-dashboard-${id}`,
        namespace,
        labels: { ...labels, grafana_dashboard: '1' },
      },
      data: Lazy.any({
        produce: () => ({ [file]: renderDashboards(contributions, mode.datasourceUid)[file] }),
      }),
    });
    if (contributions.length === 1) {
      new ApiObject(this.scope, 'prometheus-rule', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: `${namePrefix}-rules`, namespace, labels },
        spec: Lazy.any({ produce: () => ({ groups: ruleGroups(contributions) }) }),
      });
    }
  }
}
