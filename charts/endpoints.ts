import type { INetworkPeer } from './connections';
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

/**
 * A network service in the cluster: where to connect and which pods answer (`namespace` and
 * `podSelectorLabels`, for NetworkPolicy peers). Implemented by the service constructs here, and
 * by `fromExisting...()` for services this chart does not make. When it is also `IConnectable`
 * (the constructs here are), a client's `connections.allowTo()` adds the ingress rule on its side.
 */
export interface IServiceEndpoint extends INetworkPeer {
  /** The Service name, in `namespace`; resolvable as `<host>` inside the namespace. */
  readonly host: string;
  /** The Service port clients connect to (also the container port). */
  readonly port: number;
}

/**
 * A MariaDB (or MySQL-protocol) database a client logs into, with two accounts: the
 * application's (data statements only) and the migrations' (the schema owner). A database with
 * one account for both names it twice, and gives up the guarantee that the application cannot
 * change or drop the schema.
 */
export interface IDatabaseEndpoint extends IServiceEndpoint {
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
export interface ICacheEndpoint extends IServiceEndpoint {
  /** The `requirepass` password. */
  readonly passwordSecret: SecretKeyReference;
}

/** A Kafka cluster. */
export interface IEventsEndpoint extends IServiceEndpoint {
  /** The bootstrap servers list, `host:port[,host:port]`. */
  readonly bootstrapServers: string;
  /**
   * The topics this cluster declares, read when the app is synthesized (topics may be added
   * after a client is wired); `undefined` when the endpoint cannot tell (a cluster managed
   * elsewhere, or one that creates topics on first use): clients then skip the topic check.
   */
  declaredTopics(): string[] | undefined;
}

/** How bad a firing alert is; Alertmanager routes on it. */
export enum AlertSeverity {
  CRITICAL = 'critical',
  WARNING = 'warning',
  INFO = 'info',
}

/** A Prometheus alerting rule, in the rule-file shape Prometheus and PrometheusRule share. */
export interface AlertRule {
  /** The alert name. */
  readonly alert: string;
  /** The PromQL condition. */
  readonly expr: string;
  /** How long the condition must hold before the alert fires, e.g. `5m`. */
  readonly for: string;
  /** The `severity` label. */
  readonly severity: AlertSeverity;
  /** The `summary` annotation: one line. */
  readonly summary: string;
  /** The `description` annotation: what was seen, with template values. */
  readonly description: string;
  /**
   * Labels besides `severity`.
   * @default - none
   */
  readonly labels?: Record<string, string>;
  /**
   * Annotations besides `summary` and `description`.
   * @default - none
   */
  readonly annotations?: Record<string, string>;
}

/** The Grafana panel types the dashboards use. */
export enum PanelType {
  TIMESERIES = 'timeseries',
  STAT = 'stat',
  GAUGE = 'gauge',
}

/** One query of a Grafana panel. */
export interface PanelTarget {
  /** The PromQL expression. */
  readonly expr: string;
  /**
   * The legend of its series, e.g. `{{pod}}`.
   * @default - Grafana's default legend
   */
  readonly legendFormat?: string;
}

/** One Grafana panel, in the dashboard JSON model (https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/). */
export interface DashboardPanel {
  /** The panel title. */
  readonly title: string;
  /** The panel type. */
  readonly type: PanelType;
  /** PromQL expressions with their legends. */
  readonly targets: PanelTarget[];
  /**
   * Grafana unit id, e.g. `s`, `reqps`, `percentunit`, `bytes`.
   * @default - no unit
   */
  readonly unit?: string;
}

/** Where a service this chart does not make is reached, for `fromExisting...()`. */
export interface ExistingServiceAttributes {
  /** The Service name (or a host name clients resolve). */
  readonly host: string;
  /** The namespace of the Service. */
  readonly namespace: string;
  /** The port clients connect to. */
  readonly port: number;
  /** Labels of the pods behind the Service, for NetworkPolicy peers. */
  readonly podSelectorLabels: Record<string, string>;
}

/** A MariaDB this chart does not make, for `MariaDbStatefulSet.fromExistingDatabase()`. */
export interface ExistingDatabaseAttributes extends ExistingServiceAttributes {
  /** The database (schema) name. */
  readonly databaseName: string;
  /** The application account's name (data statements only). */
  readonly username: string;
  /** The application account's password. */
  readonly passwordSecret: SecretKeyReference;
  /** The migration account's name (the schema owner). */
  readonly migrationUsername: string;
  /** The migration account's password. */
  readonly migrationPasswordSecret: SecretKeyReference;
  /**
   * `max_connections` of the server.
   * @default - unknown: clients skip the check of their pools against it
   */
  readonly maxConnections?: number;
}

/** A Redis this chart does not make, for `RedisCache.fromExistingCache()`. */
export interface ExistingCacheAttributes extends ExistingServiceAttributes {
  /** The `requirepass` password. */
  readonly passwordSecret: SecretKeyReference;
}

/** A Kafka cluster this chart does not make, for `KafkaCluster.fromExistingCluster()`. */
export interface ExistingEventsAttributes extends ExistingServiceAttributes {
  /** The bootstrap servers list, `host:port[,host:port]`. */
  readonly bootstrapServers: string;
  /**
   * The topics the cluster has.
   * @default - unknown: clients skip the topic check
   */
  readonly declaredTopics?: string[];
}

/** A scrape target a component offers to the monitoring stack. */
export interface ScrapeEndpoint {
  /** Container port name that serves metrics. */
  readonly portName: string;
  /** Container port number that serves metrics. */
  readonly port: number;
  /** @default "/metrics" */
  readonly path?: string;
}

/** What a component contributes to the MonitoringStack: its metrics, dashboard and alerts. */
export interface IMonitoringContribution {
  /** Short component name used in job names, dashboard titles and rule group names, e.g. `mariadb`. */
  readonly component: string;
  /** Labels of the pods that serve metrics. */
  readonly podSelectorLabels: Record<string, string>;
  /** The namespace of those pods. */
  readonly namespace: string;
  /** The name of a Service that exposes the metrics port (for ServiceMonitors in operator mode). */
  readonly serviceName: string;
  /** Where the metrics are served. */
  readonly scrape: ScrapeEndpoint;
  /**
   * The alert rules, every query reading only the series `series` selects: the ones the
   * monitoring stack scrapes from this component (its job and namespace), not another stack's
   * in the same Prometheus.
   */
  alertRules(series: SeriesSelector): AlertRule[];
  /** Title of the component's dashboard. */
  readonly dashboardTitle: string;
  /** The dashboard panels, every query scoped to `series` as the alert rules are. */
  dashboardPanels(series: SeriesSelector): DashboardPanel[];
}

/** Implemented by every construct the MonitoringStack can watch. */
export interface IMonitored {
  /**
   * What the component contributes: scrape endpoint, alert rules and dashboard. When the
   * component is also `IConnectable`, monitoring adds the scrape ingress to its `connections`.
   */
  readonly monitoring: IMonitoringContribution;
}

/**
 * A Secret a construct reads but never creates (no secret value is ever written into dist/).
 * The app that synthesizes the chart decides how it comes to exist: a kustomize
 * secretGenerator for local clusters, an ExternalSecret or a pre-created Secret in the cloud.
 */
export interface RequiredSecret {
  /** The Secret's name. */
  readonly secretName: string;
  /** The Secret's namespace. */
  readonly namespace: string;
  /** The keys the construct reads. */
  readonly keys: string[];
}

/** Implemented by constructs that read credentials from a Secret. */
export interface IHasCredentials {
  /** The Secrets read, with their keys. */
  readonly requiredSecrets: RequiredSecret[];
}
