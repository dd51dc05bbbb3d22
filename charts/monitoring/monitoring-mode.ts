/** How monitoring is provided: a self-contained stack, or objects for a Prometheus Operator, and the operator's options. */
import { requireLabels, requireNamespace } from '../common/prop-checks';

/** Options of `MonitoringMode.operator()`. */
export interface OperatorModeOptions {
  /**
   * The Helm release name of kube-prometheus-stack; its Prometheus selects ServiceMonitors and
   * PrometheusRules by the label `release: <release>`.
   * @default "kube-prometheus-stack"
   */
  readonly release?: string;
  /**
   * Namespace the operator's Prometheus pods run in (allowed to scrape through the NetworkPolicies).
   * @default "monitoring"
   */
  readonly prometheusNamespace?: string;
  /**
   * Labels of the operator's Prometheus pods.
   * @default { "app.kubernetes.io/name": "prometheus" }
   */
  readonly prometheusPodSelectorLabels?: Record<string, string>;
  /**
   * uid of the Prometheus datasource in the operator's Grafana, which the dashboards query.
   * @default "prometheus"
   */
  readonly datasourceUid?: string;
}

/** Which of the two ways `MonitoringMode` provides monitoring. */
export enum MonitoringModeKind {
  /** Prometheus, Alertmanager and Grafana deployed by the MonitoringStack. */
  STANDALONE = 'standalone',
  /** Objects for a Prometheus Operator (kube-prometheus-stack). */
  OPERATOR = 'operator',
}

/** How monitoring is provided: a self-contained stack, or objects for a Prometheus Operator. */
export class MonitoringMode {
  /** Prometheus, Alertmanager and Grafana deployed by this construct; needs no CRDs. */
  public static standalone(): MonitoringMode {
    return new MonitoringMode(
      MonitoringModeKind.STANDALONE,
      'kube-prometheus-stack',
      '',
      {},
      'memo-prometheus',
    );
  }

  /** ServiceMonitor, PrometheusRule and dashboard ConfigMaps for a cluster running kube-prometheus-stack. */
  public static operator(options: OperatorModeOptions = {}): MonitoringMode {
    const release = options.release ?? 'kube-prometheus-stack';
    if (typeof release !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(release)) {
      throw new Error(`MonitoringMode.operator: release must be a valid label value, got "${release}"`);
    }
    const owner = 'MonitoringMode.operator';
    const prometheusNamespace = options.prometheusNamespace ?? 'monitoring';
    requireNamespace(owner, 'prometheusNamespace', prometheusNamespace);
    const prometheusPodSelectorLabels = options.prometheusPodSelectorLabels ?? {
      'app.kubernetes.io/name': 'prometheus',
    };
    requireLabels(owner, 'prometheusPodSelectorLabels', prometheusPodSelectorLabels);
    const datasourceUid = options.datasourceUid ?? 'prometheus';
    requireGrafanaUid(owner, 'datasourceUid', datasourceUid);
    return new MonitoringMode(
      MonitoringModeKind.OPERATOR,
      release,
      prometheusNamespace,
      prometheusPodSelectorLabels,
      datasourceUid,
    );
  }

  private constructor(
    /** Standalone stack or Prometheus Operator objects. */
    public readonly kind: MonitoringModeKind,
    /** The `release` label value (operator mode). */
    public readonly release: string,
    /** Namespace of the operator's Prometheus (operator mode). */
    public readonly prometheusNamespace: string,
    /** Labels of the operator's Prometheus pods (operator mode). */
    public readonly prometheusPodSelectorLabels: Record<string, string>,
    /** uid of the datasource dashboards query. */
    public readonly datasourceUid: string,
  ) {}
}

/** Throws unless `value` is a Grafana uid (at most 40 letters, digits, '-' or '_'). */
function requireGrafanaUid(owner: string, prop: string, value: string): void {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(value)) {
    throw new Error(
      `${owner}: ${prop} must be a Grafana uid (1-40 of A-Z, a-z, 0-9, '-', '_'), got "${value}"`,
    );
  }
}
