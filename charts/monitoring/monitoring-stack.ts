import { Construct } from 'constructs';
import { requirePinnedImage } from '../common/image';
import { resolveNamespace } from '../common/namespace';
import {
  requireDnsLabel,
  requireDnsSubdomain,
  requireLabels,
  requireNamespace,
  requirePort,
  requireResources,
} from '../common/prop-checks';
import { Connections } from '../connections';
import { IHasCredentials, IMonitored, IMonitoringContribution, RequiredSecret } from '../endpoints';
import { ResourcePreset } from '../resources';
import { SeriesSelector } from '../series-selector';
import { renderAlertmanagerConfig } from './alertmanager-config';
import { renderRules } from './alert-rules';
import { MonitoringBackend } from './backend';
import { renderDashboards } from './grafana-config';
import { MonitoringMode, MonitoringModeKind } from './monitoring-mode';
import { OperatorMonitoring } from './operator';
import { durationMs, renderPrometheusConfig } from './prometheus-config';
import { seriesSelectorOf } from './scrape-job';
import { StandaloneMonitoring } from './standalone';

export interface MonitoringStackProps {
  /**
   * Standalone stack or Prometheus Operator objects.
   * @default MonitoringMode.standalone()
   */
  readonly mode?: MonitoringMode;
  /**
   * Namespace of every object; standalone Prometheus discovers targets only in this namespace.
   * @default - the chart's namespace, else "memo"
   */
  readonly namespace?: string;
  /**
   * Prefix of every name: `<prefix>-prometheus`, `<prefix>-alertmanager`, `<prefix>-grafana`.
   * @default "memo"
   */
  readonly namePrefix?: string;
  /**
   * Prometheus image, pinned.
   * @default "prom/prometheus:v2.55.1"
   */
  readonly prometheusImage?: string;
  /**
   * Alertmanager image, pinned.
   * @default "prom/alertmanager:v0.27.0"
   */
  readonly alertmanagerImage?: string;
  /**
   * Grafana image, pinned.
   * @default "grafana/grafana:11.3.1"
   */
  readonly grafanaImage?: string;
  /** @default ResourcePreset.SMALL */
  readonly prometheusResources?: ResourcePreset;
  /** @default ResourcePreset.MICRO */
  readonly alertmanagerResources?: ResourcePreset;
  /** @default ResourcePreset.SMALL */
  readonly grafanaResources?: ResourcePreset;
  /**
   * Size of a PersistentVolumeClaim for the Prometheus TSDB.
   * @default - an emptyDir: metrics are lost when the pod is replaced
   */
  readonly prometheusStorageGiB?: number;
  /**
   * StorageClass of the Prometheus PVC.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * How long Prometheus keeps samples (`--storage.tsdb.retention.time`).
   * @default "15d"
   */
  readonly retention?: string;
  /**
   * Scrape and rule evaluation interval.
   * @default "30s"
   */
  readonly scrapeInterval?: string;
  /**
   * Webhook every alert notification is posted to (critical and warning receivers alike).
   * It lands in a ConfigMap, so it must not carry a token.
   * @default - no external notification: alerts are visible in the Alertmanager UI only
   */
  readonly alertWebhookUrl?: string;
  /**
   * Secret holding Grafana's admin password under the key `admin-password`.
   * @default "<prefix>-grafana-credentials"
   */
  readonly grafanaAdminSecretName?: string;
}

const OWNER = 'MonitoringStack';
const DEFAULT_IMAGES = {
  prometheus: 'prom/prometheus:v2.55.1',
  alertmanager: 'prom/alertmanager:v0.27.0',
  grafana: 'grafana/grafana:11.3.1',
} as const;

/**
 * Metrics, alerts and dashboards for the components handed to `monitor()`. Each component
 * brings its own scrape endpoint, alert rules and dashboard panels (`IMonitored`); the stack
 * turns them into Prometheus configuration (standalone) or Prometheus Operator objects, and
 * opens the scrape flows in the NetworkPolicies.
 */
export class MonitoringStack extends Construct implements IHasCredentials {
  public readonly mode: MonitoringMode;
  public readonly namespace: string;
  public readonly namePrefix: string;
  public readonly prometheusName: string;
  public readonly alertmanagerName: string;
  public readonly grafanaName: string;
  public readonly retention: string;
  public readonly scrapeInterval: string;
  public readonly prometheusStorageGiB?: number;
  public readonly grafanaAdminSecretName: string;
  /** Secrets the stack reads (Grafana's admin password in standalone mode). */
  public readonly requiredSecrets: RequiredSecret[];
  /** Allowed flows of the Prometheus pod (standalone mode). */
  public readonly prometheusConnections?: Connections;
  /** Allowed flows of the Alertmanager pod (standalone mode). */
  public readonly alertmanagerConnections?: Connections;
  /** Allowed flows of the Grafana pod (standalone mode). */
  public readonly grafanaConnections?: Connections;

  private readonly contributions: IMonitoringContribution[] = [];
  private readonly alertWebhookUrl?: string;
  private readonly backend: MonitoringBackend;

  public constructor(scope: Construct, id: string, props: MonitoringStackProps = {}) {
    super(scope, id);
    this.mode = props.mode ?? MonitoringMode.standalone();
    if (!(this.mode instanceof MonitoringMode)) {
      throw new Error(
        `MonitoringStack: mode must be MonitoringMode.standalone() or MonitoringMode.operator({...}), got ${JSON.stringify(this.mode)}`,
      );
    }
    this.namespace = resolveNamespace(this, props.namespace);
    this.namePrefix = props.namePrefix ?? 'memo';
    this.prometheusName = `${this.namePrefix}-prometheus`;
    this.alertmanagerName = `${this.namePrefix}-alertmanager`;
    this.grafanaName = `${this.namePrefix}-grafana`;
    this.retention = props.retention ?? '15d';
    this.scrapeInterval = props.scrapeInterval ?? '30s';
    this.prometheusStorageGiB = props.prometheusStorageGiB;
    this.grafanaAdminSecretName = props.grafanaAdminSecretName ?? `${this.grafanaName}-credentials`;
    this.alertWebhookUrl = props.alertWebhookUrl;

    if (typeof this.namePrefix !== 'string' || !/^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/.test(this.namePrefix)) {
      throw new Error(
        `MonitoringStack: namePrefix must be a DNS label of at most 32 characters, got "${this.namePrefix}"`,
      );
    }
    requireNamespace(OWNER, 'namespace', this.namespace);
    for (const [prop, value] of [
      ['retention', this.retention],
      ['scrapeInterval', this.scrapeInterval],
    ] as const) {
      if (durationMs(value) === undefined) {
        throw new Error(
          `MonitoringStack: ${prop} must be a Prometheus duration like "15d" or "30s", got "${value}"`,
        );
      }
    }
    if (durationMs(this.scrapeInterval) === 0) {
      throw new Error(
        `MonitoringStack: scrapeInterval must be longer than zero, got "${this.scrapeInterval}"`,
      );
    }
    if (this.prometheusStorageGiB !== undefined) {
      if (!Number.isInteger(this.prometheusStorageGiB) || this.prometheusStorageGiB < 1) {
        throw new Error(
          `MonitoringStack: prometheusStorageGiB must be a positive integer, got ${this.prometheusStorageGiB}`,
        );
      }
    }
    if (props.storageClassName !== undefined) {
      requireDnsSubdomain(OWNER, 'storageClassName', props.storageClassName);
    }
    if (
      this.alertWebhookUrl !== undefined &&
      (typeof this.alertWebhookUrl !== 'string' ||
        !/^https?:\/\/[^\s]+$/.test(this.alertWebhookUrl) ||
        !URL.canParse(this.alertWebhookUrl))
    ) {
      throw new Error(
        `MonitoringStack: alertWebhookUrl must be an http(s) URL, got "${this.alertWebhookUrl}"`,
      );
    }
    // The URL is written into a ConfigMap, which is no place for a password.
    const webhook = this.alertWebhookUrl === undefined ? undefined : new URL(this.alertWebhookUrl);
    if (webhook !== undefined && (webhook.username !== '' || webhook.password !== '')) {
      throw new Error(
        `MonitoringStack: alertWebhookUrl must not carry credentials (it is stored in a ConfigMap), got "${webhook.protocol}//***@${webhook.host}${webhook.pathname}"`,
      );
    }
    requireDnsSubdomain(OWNER, 'grafanaAdminSecretName', this.grafanaAdminSecretName);
    const images = {
      prometheus: props.prometheusImage ?? DEFAULT_IMAGES.prometheus,
      alertmanager: props.alertmanagerImage ?? DEFAULT_IMAGES.alertmanager,
      grafana: props.grafanaImage ?? DEFAULT_IMAGES.grafana,
    };
    const versions = {
      prometheus: requirePinnedImage(OWNER, 'prometheusImage', images.prometheus, DEFAULT_IMAGES.prometheus),
      alertmanager: requirePinnedImage(
        OWNER,
        'alertmanagerImage',
        images.alertmanager,
        DEFAULT_IMAGES.alertmanager,
      ),
      grafana: requirePinnedImage(OWNER, 'grafanaImage', images.grafana, DEFAULT_IMAGES.grafana),
    };
    const resources = {
      prometheus: props.prometheusResources ?? ResourcePreset.SMALL,
      alertmanager: props.alertmanagerResources ?? ResourcePreset.MICRO,
      grafana: props.grafanaResources ?? ResourcePreset.SMALL,
    };
    requireResources(OWNER, 'prometheusResources', resources.prometheus);
    requireResources(OWNER, 'alertmanagerResources', resources.alertmanager);
    requireResources(OWNER, 'grafanaResources', resources.grafana);

    // The mode picks the backend; the rendered files stay the stack's (its getters), read at synth.
    this.backend =
      this.mode.kind === MonitoringModeKind.OPERATOR
        ? new OperatorMonitoring(this, {
            mode: this.mode,
            namespace: this.namespace,
            namePrefix: this.namePrefix,
            scrapeInterval: this.scrapeInterval,
            contributions: this.contributions,
          })
        : new StandaloneMonitoring(this, {
            placement: { namespace: this.namespace, namePrefix: this.namePrefix },
            prometheus: {
              name: this.prometheusName,
              image: images.prometheus,
              version: versions.prometheus,
              resources: resources.prometheus,
              retention: this.retention,
              storageGiB: this.prometheusStorageGiB,
              storageClassName: props.storageClassName,
              config: () => this.prometheusConfigYaml,
              rules: () => this.rulesYaml,
            },
            alertmanager: {
              name: this.alertmanagerName,
              image: images.alertmanager,
              version: versions.alertmanager,
              resources: resources.alertmanager,
              config: this.alertmanagerConfigYaml,
            },
            grafana: {
              name: this.grafanaName,
              image: images.grafana,
              version: versions.grafana,
              resources: resources.grafana,
              adminSecretName: this.grafanaAdminSecretName,
              datasourceUid: this.mode.datasourceUid,
              prometheusName: this.prometheusName,
              dashboards: () => this.dashboardsJson,
            },
            alertWebhookUrl: this.alertWebhookUrl,
          });
    this.requiredSecrets = this.backend.requiredSecrets;
    this.prometheusConnections = this.backend.prometheusConnections;
    this.alertmanagerConnections = this.backend.alertmanagerConnections;
    this.grafanaConnections = this.backend.grafanaConnections;
  }

  /**
   * Scrapes `component`, loads its alert rules and dashboard, and allows the scrape flow
   * (egress from Prometheus, ingress on the component when it has `connections`).
   */
  public monitor(component: IMonitored): void {
    const c = component.monitoring;
    // The component names a Prometheus job, a dashboard uid and file, and (operator mode) objects.
    if (typeof c?.component !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(c.component)) {
      throw new Error(
        `MonitoringStack.monitor: monitoring.component must be a lowercase DNS label of at most 40 characters, got "${c?.component}"`,
      );
    }
    const owner = 'MonitoringStack.monitor';
    requirePort(owner, `monitoring.scrape.port of "${c.component}"`, c.scrape?.port);
    requireDnsLabel(owner, `monitoring.serviceName of "${c.component}"`, c.serviceName);
    requireLabels(owner, `monitoring.podSelectorLabels of "${c.component}"`, c.podSelectorLabels);
    if (this.contributions.some((existing) => existing.component === c.component)) {
      throw new Error(`MonitoringStack.monitor: component "${c.component}" is already monitored`);
    }
    this.contributions.push(c);
    this.backend.monitor(component, c);
  }

  /** The components monitored so far, in the order they were added. */
  public get monitored(): IMonitoringContribution[] {
    return [...this.contributions];
  }

  /**
   * The labels this stack's Prometheus gives `component`'s series, which every alert rule and
   * dashboard query of it selects on; rules or panels of your own for the component use it too.
   */
  public seriesOf(component: IMonitored): SeriesSelector {
    return seriesSelectorOf(component.monitoring);
  }

  /** prometheus.yml as written into the `<prefix>-prometheus-config` ConfigMap (standalone mode). */
  public get prometheusConfigYaml(): string {
    return renderPrometheusConfig({
      scrapeInterval: this.scrapeInterval,
      alertmanagerName: this.alertmanagerName,
      contributions: this.contributions,
    });
  }

  /** The alert rules file (one group per component), as Prometheus loads it in standalone mode. */
  public get rulesYaml(): string {
    return renderRules(this.contributions);
  }

  /** alertmanager.yml (standalone mode). */
  public get alertmanagerConfigYaml(): string {
    return renderAlertmanagerConfig(this.alertWebhookUrl);
  }

  /** Dashboard JSON per component, keyed by `<component>.json`. */
  public get dashboardsJson(): Record<string, string> {
    return renderDashboards(this.contributions, this.mode.datasourceUid);
  }
}
