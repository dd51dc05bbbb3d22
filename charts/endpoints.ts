import type { SeriesSelector } from './series-selector';

/**
 * What a backing construct exposes so that any client (the MemoApi, or a plain Deployment in
 * another chart) can connect to it and be allowed through the NetworkPolicies, without knowing
 * how the construct is built.
 */

/** A key of a Secret, as a client references it with `secretKeyRef`. */
export interface SecretKeyReference {
  /** The Secret's name. */
  readonly secretName: string;
  /** The key within the Secret. */
  readonly key: string;
}

/** A network service in the cluster: where to connect and which pods answer. */
export interface ServiceEndpoint {
  /** The Service name; resolvable as `<host>` inside the namespace. */
  readonly host: string;
  /** The namespace of the Service. */
  readonly namespace: string;
  /** The Service port clients connect to (also the container port). */
  readonly port: number;
  /** Labels of the pods behind the Service, for NetworkPolicy peers. */
  readonly podSelectorLabels: Record<string, string>;
}

/**
 * A MariaDB (or MySQL-protocol) database a client logs into, with two accounts: the
 * application's (data statements only) and the migrations' (the schema owner). A database with
 * one account for both names it twice, and gives up the guarantee that the application cannot
 * change or drop the schema.
 */
export interface DatabaseEndpoint extends ServiceEndpoint {
  /** The database (schema) name. */
  readonly databaseName: string;
  /** The application account's name: SELECT, INSERT, UPDATE and DELETE on the database. */
  readonly username: string;
  /** The application account's password. */
  readonly passwordSecret: SecretKeyReference;
  /** The migration account's name: the schema owner (DDL on the database). */
  readonly migrationUsername: string;
  /** The migration account's password. */
  readonly migrationPasswordSecret: SecretKeyReference;
}

/** A Redis-protocol cache. */
export interface CacheEndpoint extends ServiceEndpoint {
  /** The `requirepass` password. */
  readonly passwordSecret: SecretKeyReference;
}

/** A Kafka cluster. */
export interface EventsEndpoint extends ServiceEndpoint {
  /** The bootstrap servers list, `host:port[,host:port]`. */
  readonly bootstrapServers: string;
  /**
   * The topics this cluster declares, read when the app is synthesized (topics may be added
   * after a client is wired). Left out when the endpoint cannot tell (a cluster managed
   * elsewhere, or one that creates topics on first use): clients then skip the topic check.
   */
  declaredTopics?(): readonly string[];
}

/** A Prometheus alerting rule, in the rule-file shape Prometheus and PrometheusRule share. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: 'critical' | 'warning' | 'info' } & Record<string, string>;
  readonly annotations: { readonly summary: string; readonly description: string } & Record<string, string>;
}

/** One Grafana panel, in the dashboard JSON model (https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/). */
export interface DashboardPanel {
  readonly title: string;
  readonly type: 'timeseries' | 'stat' | 'gauge';
  /** PromQL expressions with their legends. */
  readonly targets: ReadonlyArray<{ readonly expr: string; readonly legendFormat?: string }>;
  /** Grafana unit id, e.g. `s`, `reqps`, `percentunit`, `bytes`. */
  readonly unit?: string;
}

/** A scrape target a component offers to the monitoring stack. */
export interface ScrapeEndpoint {
  /** Container port name that serves metrics. */
  readonly portName: string;
  readonly port: number;
  /** @default "/metrics" */
  readonly path?: string;
}

/** What a component contributes to the MonitoringStack: its metrics, dashboard and alerts. */
export interface MonitoringContribution {
  /** Short component name used in job names, dashboard titles and rule group names, e.g. `mariadb`. */
  readonly component: string;
  /** Labels of the pods that serve metrics. */
  readonly podSelectorLabels: Record<string, string>;
  /** The namespace of those pods. */
  readonly namespace: string;
  /** The name of a Service that exposes the metrics port (for ServiceMonitors in operator mode). */
  readonly serviceName: string;
  readonly scrape: ScrapeEndpoint;
  /**
   * The alert rules, every query reading only the series `series` selects: the ones the
   * monitoring stack scrapes from this component (its job and namespace), not another stack's
   * in the same Prometheus.
   */
  alertRules(series: SeriesSelector): readonly AlertRule[];
  readonly dashboardTitle: string;
  /** The dashboard panels, every query scoped to `series` as the alert rules are. */
  dashboardPanels(series: SeriesSelector): readonly DashboardPanel[];
}

/** Implemented by every construct the MonitoringStack can watch. */
export interface IMonitored {
  readonly monitoring: MonitoringContribution;
}

/**
 * A Secret a construct reads but never creates (no secret value is ever written into dist/).
 * The app that synthesizes the chart decides how it comes to exist: a kustomize
 * secretGenerator for local clusters, an ExternalSecret or a pre-created Secret in the cloud.
 */
export interface RequiredSecret {
  readonly secretName: string;
  readonly namespace: string;
  /** The keys the construct reads. */
  readonly keys: readonly string[];
}

/** Implemented by constructs that read credentials from a Secret. */
export interface IHasCredentials {
  readonly requiredSecrets: readonly RequiredSecret[];
}
