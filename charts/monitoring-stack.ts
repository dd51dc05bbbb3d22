import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import {
  Container,
  IntOrString,
  KubeConfigMap,
  KubeDeployment,
  KubePersistentVolumeClaim,
  KubeRole,
  KubeRoleBinding,
  KubeService,
  KubeServiceAccount,
  Quantity,
  Volume,
} from '../imports/k8s';
import { requirePinnedImage } from './common/image';
import {
  requireDnsLabel,
  requireDnsSubdomain,
  requireLabels,
  requireNamespace,
  requirePort,
  requireResources,
} from './common/prop-checks';
import { configHash, containerResources, emptyDir } from './common/pod-parts';
import { Connections, NetworkPeer } from './connections';
import { buildGrafanaDashboard, dashboardUid } from './dashboards/grafana-dashboard';
import { IHasCredentials, IMonitored, MonitoringContribution, RequiredSecret } from './endpoints';
import { ComponentIdentity, recommendedLabels, selectorLabels } from './labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './pod-security';
import { ResourcePreset } from './resources';
import { SeriesSelector } from './series-selector';

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

/** How monitoring is provided: a self-contained stack, or objects for a Prometheus Operator. */
export class MonitoringMode {
  /** Prometheus, Alertmanager and Grafana deployed by this construct; needs no CRDs. */
  public static standalone(): MonitoringMode {
    return new MonitoringMode('standalone', 'kube-prometheus-stack', '', {}, 'memo-prometheus');
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
      'operator',
      release,
      prometheusNamespace,
      prometheusPodSelectorLabels,
      datasourceUid,
    );
  }

  private constructor(
    public readonly kind: 'standalone' | 'operator',
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
/** Prometheus' own default scrape timeout; it may not exceed the scrape interval. */
const SCRAPE_TIMEOUT_MS = 10_000;
const PROMETHEUS_PORT = 9090;
const ALERTMANAGER_PORT = 9093;
const GRAFANA_PORT = 3000;
const NOBODY = { uid: 65534, gid: 65534 };
const GRAFANA_USER = { uid: 472, gid: 472 };
const KUBERNETES_API_PORTS = [{ port: 443 }, { port: 6443 }];
const GRAFANA_ADMIN_PASSWORD_KEY = 'admin-password';

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
  public readonly requiredSecrets: readonly RequiredSecret[];
  /** Allowed flows of the Prometheus pod (standalone mode). */
  public readonly prometheusConnections?: Connections;
  public readonly alertmanagerConnections?: Connections;
  public readonly grafanaConnections?: Connections;

  private readonly contributions: MonitoringContribution[] = [];
  private readonly alertWebhookUrl?: string;
  private readonly prometheusVersion: string;
  private readonly alertmanagerVersion: string;
  private readonly grafanaVersion: string;

  public constructor(scope: Construct, id: string, props: MonitoringStackProps = {}) {
    super(scope, id);
    this.mode = props.mode ?? MonitoringMode.standalone();
    if (!(this.mode instanceof MonitoringMode)) {
      throw new Error(
        `MonitoringStack: mode must be MonitoringMode.standalone() or MonitoringMode.operator({...}), got ${JSON.stringify(this.mode)}`,
      );
    }
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? 'memo';
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
    this.prometheusVersion = requirePinnedImage(
      OWNER,
      'prometheusImage',
      props.prometheusImage ?? DEFAULT_IMAGES.prometheus,
      DEFAULT_IMAGES.prometheus,
    );
    this.alertmanagerVersion = requirePinnedImage(
      OWNER,
      'alertmanagerImage',
      props.alertmanagerImage ?? DEFAULT_IMAGES.alertmanager,
      DEFAULT_IMAGES.alertmanager,
    );
    this.grafanaVersion = requirePinnedImage(
      OWNER,
      'grafanaImage',
      props.grafanaImage ?? DEFAULT_IMAGES.grafana,
      DEFAULT_IMAGES.grafana,
    );
    requireResources(OWNER, 'prometheusResources', props.prometheusResources ?? ResourcePreset.SMALL);
    requireResources(OWNER, 'alertmanagerResources', props.alertmanagerResources ?? ResourcePreset.MICRO);
    requireResources(OWNER, 'grafanaResources', props.grafanaResources ?? ResourcePreset.SMALL);

    if (this.mode.kind === 'operator') {
      this.requiredSecrets = [];
      // Objects are emitted per monitored component, in monitor().
      return;
    }

    this.requiredSecrets = [
      {
        secretName: this.grafanaAdminSecretName,
        namespace: this.namespace,
        keys: [GRAFANA_ADMIN_PASSWORD_KEY],
      },
    ];
    const prometheus = this.addPrometheus(props);
    const alertmanager = this.addAlertmanager(props);
    const grafana = this.addGrafana(props);
    this.prometheusConnections = prometheus;
    this.alertmanagerConnections = alertmanager;
    this.grafanaConnections = grafana;

    prometheus.allowToAnywhere(KUBERNETES_API_PORTS);
    prometheus.allowTo({ ...this.peer('alertmanager'), port: ALERTMANAGER_PORT, connections: alertmanager });
    grafana.allowTo({ ...this.peer('prometheus'), port: PROMETHEUS_PORT, connections: prometheus });
    if (this.alertWebhookUrl !== undefined) {
      const url = new URL(this.alertWebhookUrl);
      const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      // The receiver's address is outside the cluster and unknown here.
      alertmanager.allowToAnywhere([{ port }]);
    }
  }

  /**
   * Scrapes `component`, loads its alert rules and dashboard, and allows the scrape flow
   * (egress from Prometheus, ingress on the component when it has `connections`).
   */
  public monitor(component: IMonitored & { readonly connections?: Connections }): void {
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
    const ports = [{ port: c.scrape.port }];

    if (this.mode.kind === 'standalone') {
      if (c.namespace !== this.namespace) {
        throw new Error(
          `MonitoringStack.monitor: component "${c.component}" is in namespace "${c.namespace}", ` +
            `but standalone Prometheus discovers pods only in "${this.namespace}"`,
        );
      }
      this.prometheusConnections?.allowToPeer(c, ports);
      component.connections?.allowFrom(this.peer('prometheus'), ports);
      return;
    }

    component.connections?.allowFrom(
      { namespace: this.mode.prometheusNamespace, podSelectorLabels: this.mode.prometheusPodSelectorLabels },
      ports,
    );
    this.addOperatorObjects(c);
  }

  /** The components monitored so far, in the order they were added. */
  public get monitored(): readonly MonitoringContribution[] {
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
    const relabelForPods = (c: MonitoringContribution) => [
      // Completed Job pods keep their IPs for a while; scraping them only produces down targets.
      { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Succeeded|Failed', action: 'drop' },
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
        regex: 'true',
        action: 'keep',
      },
      // Pod discovery yields one target per declared port; keep only the metrics port's.
      {
        source_labels: ['__meta_kubernetes_pod_container_port_number'],
        regex: String(c.scrape.port),
        action: 'keep',
      },
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'],
        regex: '(.+)',
        target_label: '__metrics_path__',
        action: 'replace',
      },
      {
        source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
        regex: '([^:]+)(?::\\d+)?;(\\d+)',
        replacement: '$1:$2',
        target_label: '__address__',
        action: 'replace',
      },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace', action: 'replace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod', action: 'replace' },
      {
        source_labels: ['__meta_kubernetes_pod_container_name'],
        target_label: 'container',
        action: 'replace',
      },
    ];
    const config = {
      global: {
        scrape_interval: this.scrapeInterval,
        evaluation_interval: this.scrapeInterval,
        scrape_timeout:
          (durationMs(this.scrapeInterval) ?? SCRAPE_TIMEOUT_MS) < SCRAPE_TIMEOUT_MS
            ? this.scrapeInterval
            : '10s',
      },
      alerting: {
        alertmanagers: [{ static_configs: [{ targets: [`${this.alertmanagerName}:${ALERTMANAGER_PORT}`] }] }],
      },
      rule_files: ['/etc/prometheus/rules/*.yaml'],
      scrape_configs: [
        { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
        {
          job_name: this.alertmanagerName,
          static_configs: [{ targets: [`${this.alertmanagerName}:${ALERTMANAGER_PORT}`] }],
        },
        // Named as under the Prometheus Operator, so one selector (seriesSelectorOf) fits both modes.
        ...this.contributions.map((c) => ({
          job_name: scrapeJobName(c),
          metrics_path: c.scrape.path ?? '/metrics',
          kubernetes_sd_configs: [
            {
              role: 'pod',
              namespaces: { names: [c.namespace] },
              selectors: [{ role: 'pod', label: labelSelector(c.podSelectorLabels) }],
            },
          ],
          relabel_configs: relabelForPods(c),
        })),
      ],
    };
    return toYaml(config);
  }

  /** The alert rules file (one group per component), as Prometheus loads it in standalone mode. */
  public get rulesYaml(): string {
    return toYaml({ groups: this.ruleGroups() });
  }

  /** alertmanager.yml (standalone mode). */
  public get alertmanagerConfigYaml(): string {
    const webhook =
      this.alertWebhookUrl === undefined
        ? {}
        : { webhook_configs: [{ url: this.alertWebhookUrl, send_resolved: true }] };
    return toYaml({
      route: {
        receiver: 'default',
        group_by: ['alertname', 'namespace'],
        group_wait: '30s',
        group_interval: '5m',
        repeat_interval: '4h',
        routes: [
          { receiver: 'critical', matchers: ['severity="critical"'], repeat_interval: '1h' },
          { receiver: 'default', matchers: ['severity="warning"'] },
        ],
      },
      // A component that is down also breaks its latency and error-rate rules; page once.
      inhibit_rules: [
        {
          source_matchers: ['severity="critical"'],
          target_matchers: ['severity="warning"'],
          equal: ['namespace'],
        },
      ],
      receivers: [
        { name: 'default', ...webhook },
        { name: 'critical', ...webhook },
      ],
    });
  }

  /** Dashboard JSON per component, keyed by `<component>.json`. */
  public get dashboardsJson(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of this.contributions) {
      out[`${c.component}.json`] =
        JSON.stringify(
          buildGrafanaDashboard({
            uid: dashboardUid(c.component),
            title: c.dashboardTitle,
            panels: c.dashboardPanels(seriesSelectorOf(c)),
            datasourceUid: this.mode.datasourceUid,
            tags: ['memostack', c.component],
          }),
          undefined,
          2,
        ) + '\n';
    }
    return out;
  }

  private ruleGroups() {
    return this.contributions
      .map((c) => ({ name: c.component, rules: c.alertRules(seriesSelectorOf(c)) }))
      .filter((group) => group.rules.length > 0)
      .map((group) => ({
        name: group.name,
        rules: group.rules.map((r) => ({
          alert: r.alert,
          expr: r.expr,
          for: r.for,
          labels: { ...r.labels },
          annotations: { ...r.annotations },
        })),
      }));
  }

  private identity(name: string, version: string): ComponentIdentity {
    return {
      name,
      instance: `${this.namePrefix}-${name}`,
      component: 'monitoring',
      version,
    };
  }

  private peer(name: 'prometheus' | 'alertmanager' | 'grafana'): NetworkPeer {
    return {
      namespace: this.namespace,
      podSelectorLabels: selectorLabels({
        name,
        instance: `${this.namePrefix}-${name}`,
        component: 'monitoring',
        version: '',
      }),
    };
  }

  private addPrometheus(props: MonitoringStackProps): Connections {
    const image = props.prometheusImage ?? DEFAULT_IMAGES.prometheus;
    const identity = this.identity('prometheus', this.prometheusVersion);
    const labels = recommendedLabels(identity);
    const name = this.prometheusName;
    const metadata = (n: string) => ({ name: n, namespace: this.namespace, labels });
    const configName = `${name}-config`;
    const rulesName = `${name}-rules`;

    new KubeConfigMap(this, 'prometheus-config', {
      metadata: metadata(configName),
      data: { 'prometheus.yml': Lazy.any({ produce: () => this.prometheusConfigYaml }) as unknown as string },
    });
    new KubeConfigMap(this, 'prometheus-rules', {
      metadata: metadata(rulesName),
      data: { 'memostack.yaml': Lazy.any({ produce: () => this.rulesYaml }) as unknown as string },
    });

    // Service discovery reads pods in this namespace only: a Role, not a ClusterRole.
    new KubeServiceAccount(this, 'prometheus-sa', {
      metadata: metadata(name),
      automountServiceAccountToken: false,
    });
    new KubeRole(this, 'prometheus-role', {
      metadata: metadata(name),
      rules: [
        { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
      ],
    });
    new KubeRoleBinding(this, 'prometheus-role-binding', {
      metadata: metadata(name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: this.namespace }],
    });

    let dataVolume: Volume;
    const retentionArgs = [`--storage.tsdb.retention.time=${this.retention}`];
    if (this.prometheusStorageGiB !== undefined) {
      const claimName = `${name}-data`;
      new KubePersistentVolumeClaim(this, 'prometheus-data', {
        metadata: metadata(claimName),
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: props.storageClassName,
          resources: { requests: { storage: Quantity.fromString(`${this.prometheusStorageGiB}Gi`) } },
        },
      });
      dataVolume = { name: 'data', persistentVolumeClaim: { claimName } };
      // Leave headroom for the WAL and compaction so a full volume never stops ingestion.
      retentionArgs.push(
        `--storage.tsdb.retention.size=${Math.floor(this.prometheusStorageGiB * 1024 * 0.8)}MB`,
      );
    } else {
      dataVolume = { name: 'data', emptyDir: {} };
    }

    const container: Container = {
      name: 'prometheus',
      image,
      imagePullPolicy: 'IfNotPresent',
      args: [
        '--config.file=/etc/prometheus/prometheus.yml',
        '--storage.tsdb.path=/prometheus',
        ...retentionArgs,
        `--web.listen-address=:${PROMETHEUS_PORT}`,
      ],
      ports: [{ name: 'http', containerPort: PROMETHEUS_PORT, protocol: 'TCP' }],
      resources: containerResources(props.prometheusResources ?? ResourcePreset.SMALL),
      securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
      volumeMounts: [
        {
          name: 'config',
          mountPath: '/etc/prometheus/prometheus.yml',
          subPath: 'prometheus.yml',
          readOnly: true,
        },
        { name: 'rules', mountPath: '/etc/prometheus/rules', readOnly: true },
        { name: 'data', mountPath: '/prometheus' },
      ],
      // WAL replay after a restart can take minutes on a large TSDB.
      startupProbe: httpProbe('/-/ready', 5, 60),
      readinessProbe: httpProbe('/-/ready', 10, 3),
      livenessProbe: httpProbe('/-/healthy', 15, 4),
    };
    this.workload('prometheus', identity, {
      container,
      volumes: [
        { name: 'config', configMap: { name: configName } },
        { name: 'rules', configMap: { name: rulesName } },
        dataVolume,
      ],
      securityUser: NOBODY,
      serviceAccountName: name,
      // A ReadWriteOnce volume and the TSDB lock allow one Prometheus at a time.
      recreate: true,
      configChecksum: () => configHash(this.prometheusConfigYaml + this.rulesYaml),
    });
    return this.connectionsFor('prometheus', identity);
  }

  private addAlertmanager(props: MonitoringStackProps): Connections {
    const image = props.alertmanagerImage ?? DEFAULT_IMAGES.alertmanager;
    const identity = this.identity('alertmanager', this.alertmanagerVersion);
    const name = this.alertmanagerName;
    const configName = `${name}-config`;
    new KubeConfigMap(this, 'alertmanager-config', {
      metadata: { name: configName, namespace: this.namespace, labels: recommendedLabels(identity) },
      data: { 'alertmanager.yml': this.alertmanagerConfigYaml },
    });
    const container: Container = {
      name: 'alertmanager',
      image,
      imagePullPolicy: 'IfNotPresent',
      args: [
        '--config.file=/etc/alertmanager/alertmanager.yml',
        '--storage.path=/alertmanager',
        `--web.listen-address=:${ALERTMANAGER_PORT}`,
        // A single replica: an empty address turns off the gossip cluster and its port 9094.
        '--cluster.listen-address=',
      ],
      ports: [{ name: 'http', containerPort: ALERTMANAGER_PORT, protocol: 'TCP' }],
      resources: containerResources(props.alertmanagerResources ?? ResourcePreset.MICRO),
      securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
      volumeMounts: [
        { name: 'config', mountPath: '/etc/alertmanager', readOnly: true },
        { name: 'data', mountPath: '/alertmanager' },
      ],
      readinessProbe: httpProbe('/-/ready', 10, 3),
      livenessProbe: httpProbe('/-/healthy', 15, 4),
    };
    this.workload('alertmanager', identity, {
      container,
      volumes: [{ name: 'config', configMap: { name: configName } }, emptyDir('data', 256)],
      securityUser: NOBODY,
      recreate: false,
      configChecksum: () => configHash(this.alertmanagerConfigYaml),
    });
    return this.connectionsFor('alertmanager', identity);
  }

  private addGrafana(props: MonitoringStackProps): Connections {
    const image = props.grafanaImage ?? DEFAULT_IMAGES.grafana;
    const identity = this.identity('grafana', this.grafanaVersion);
    const labels = recommendedLabels(identity);
    const name = this.grafanaName;
    const metadata = (n: string) => ({ name: n, namespace: this.namespace, labels });
    const datasourcesName = `${name}-datasources`;
    const providersName = `${name}-dashboard-providers`;
    const dashboardsName = `${name}-dashboards`;

    const datasources = toYaml({
      apiVersion: 1,
      datasources: [
        {
          name: 'Prometheus',
          uid: this.mode.datasourceUid,
          type: 'prometheus',
          access: 'proxy',
          url: `http://${this.prometheusName}:${PROMETHEUS_PORT}`,
          isDefault: true,
          editable: false,
        },
      ],
    });
    const providers = toYaml({
      apiVersion: 1,
      providers: [
        {
          name: 'memostack',
          folder: 'memostack',
          type: 'file',
          disableDeletion: true,
          allowUiUpdates: false,
          options: { path: '/etc/grafana/dashboards' },
        },
      ],
    });
    new KubeConfigMap(this, 'grafana-datasources', {
      metadata: metadata(datasourcesName),
      data: { 'datasources.yaml': datasources },
    });
    new KubeConfigMap(this, 'grafana-dashboard-providers', {
      metadata: metadata(providersName),
      data: { 'providers.yaml': providers },
    });
    new KubeConfigMap(this, 'grafana-dashboards', {
      metadata: metadata(dashboardsName),
      data: Lazy.any({ produce: () => this.dashboardsJson }) as unknown as Record<string, string>,
    });

    const setting = (envName: string, value: string) => ({ name: envName, value });
    const container: Container = {
      name: 'grafana',
      image,
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: 'http', containerPort: GRAFANA_PORT, protocol: 'TCP' }],
      env: [
        setting('GF_SECURITY_ADMIN_USER', 'admin'),
        {
          name: 'GF_SECURITY_ADMIN_PASSWORD',
          valueFrom: { secretKeyRef: { name: this.grafanaAdminSecretName, key: GRAFANA_ADMIN_PASSWORD_KEY } },
        },
        // Egress is closed: no update checks, usage reports or plugin downloads.
        setting('GF_ANALYTICS_REPORTING_ENABLED', 'false'),
        setting('GF_ANALYTICS_CHECK_FOR_UPDATES', 'false'),
        setting('GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', 'false'),
        setting('GF_PLUGINS_PREINSTALL_DISABLED', 'true'),
        setting('GF_LOG_MODE', 'console'),
        setting('GF_USERS_ALLOW_SIGN_UP', 'false'),
      ],
      resources: containerResources(props.grafanaResources ?? ResourcePreset.SMALL),
      securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
      volumeMounts: [
        { name: 'data', mountPath: '/var/lib/grafana' },
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true },
        { name: 'dashboard-providers', mountPath: '/etc/grafana/provisioning/dashboards', readOnly: true },
        { name: 'dashboards', mountPath: '/etc/grafana/dashboards', readOnly: true },
      ],
      startupProbe: httpProbe('/api/health', 5, 24),
      readinessProbe: httpProbe('/api/health', 10, 3),
      livenessProbe: httpProbe('/api/health', 15, 4),
    };
    this.workload('grafana', identity, {
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
      configChecksum: () => configHash(datasources + providers + JSON.stringify(this.dashboardsJson)),
    });
    return this.connectionsFor('grafana', identity);
  }

  /** A single-replica Deployment with its ClusterIP Service `<prefix>-<name>` on the container's `http` port. */
  private workload(
    name: 'prometheus' | 'alertmanager' | 'grafana',
    identity: ComponentIdentity,
    spec: {
      readonly container: Container;
      readonly volumes: Volume[];
      readonly securityUser: { uid: number; gid: number };
      readonly serviceAccountName?: string;
      readonly recreate: boolean;
      readonly configChecksum: () => string;
    },
  ): void {
    const labels = recommendedLabels(identity);
    const selector = selectorLabels(identity);
    const metadata = { name: identity.instance, namespace: this.namespace, labels };
    const port = spec.container.ports?.[0]?.containerPort ?? 0;
    new KubeDeployment(this, `${name}-deployment`, {
      metadata,
      spec: {
        replicas: 1,
        revisionHistoryLimit: 3,
        selector: { matchLabels: selector },
        strategy: spec.recreate
          ? { type: 'Recreate' }
          : {
              type: 'RollingUpdate',
              rollingUpdate: {
                maxUnavailable: IntOrString.fromNumber(0),
                maxSurge: IntOrString.fromNumber(1),
              },
            },
        template: {
          metadata: {
            labels,
            // Config files are read at start; a changed file must roll the pod.
            annotations: {
              'checksum/config': Lazy.any({ produce: spec.configChecksum }) as unknown as string,
            },
          },
          spec: {
            // Only Prometheus talks to the API server (service discovery).
            automountServiceAccountToken: spec.serviceAccountName !== undefined,
            serviceAccountName: spec.serviceAccountName,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(spec.securityUser),
            containers: [spec.container],
            volumes: spec.volumes,
          },
        },
      },
    });
    new KubeService(this, `${name}-service`, {
      metadata,
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'http', port, targetPort: IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
  }

  private connectionsFor(
    name: 'prometheus' | 'alertmanager' | 'grafana',
    identity: ComponentIdentity,
  ): Connections {
    return new Connections(this, `${name}-network-policy`, {
      identity,
      namespace: this.namespace,
      podSelectorLabels: selectorLabels(identity),
    });
  }

  private addOperatorObjects(c: MonitoringContribution): void {
    const labels = {
      'app.kubernetes.io/part-of': 'memostack',
      'app.kubernetes.io/managed-by': 'cdk8s',
      'app.kubernetes.io/component': 'monitoring',
      release: this.mode.release,
    };
    const id = c.component.replace(/[^A-Za-z0-9-]/g, '-');
    new ApiObject(this, `service-monitor-${id}`, {
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
            interval: this.scrapeInterval,
            // Several Services may carry the pods' labels (headless and client); scrape through one.
            relabelings: [
              { sourceLabels: ['__meta_kubernetes_service_name'], regex: c.serviceName, action: 'keep' },
            ],
          },
        ],
      },
    });
    new ApiObject(this, `dashboard-${id}`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `${this.namePrefix}-dashboard-${id}`,
        namespace: this.namespace,
        labels: { ...labels, grafana_dashboard: '1' },
      },
      data: Lazy.any({
        produce: () => ({ [`${c.component}.json`]: this.dashboardsJson[`${c.component}.json`] }),
      }),
    });
    if (this.contributions.length === 1) {
      new ApiObject(this, 'prometheus-rule', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: `${this.namePrefix}-rules`, namespace: this.namespace, labels },
        spec: Lazy.any({ produce: () => ({ groups: this.ruleGroups() }) }),
      });
    }
  }
}

/**
 * The scrape job of a component: its Service name. A ServiceMonitor names its job after the
 * Service it scrapes through (kept to `serviceName` by its relabeling), so both modes give the
 * series the same `job` label.
 */
function scrapeJobName(c: MonitoringContribution): string {
  return c.serviceName;
}

/** The series of a component as this stack scrapes them: both modes copy the pods' namespace into `namespace`. */
function seriesSelectorOf(c: MonitoringContribution): SeriesSelector {
  return new SeriesSelector({ job: scrapeJobName(c), namespace: c.namespace });
}

function labelSelector(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',');
}

function httpProbe(
  path: string,
  periodSeconds: number,
  failureThreshold: number,
): Container['livenessProbe'] {
  return {
    httpGet: { path, port: IntOrString.fromString('http') },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 3,
  };
}

/**
 * Milliseconds of a Prometheus duration (`1d12h`, `30s`, `500ms`: units largest first, each at
 * most once), or undefined when Prometheus would reject it.
 */
function durationMs(value: string): number | undefined {
  const match =
    typeof value === 'string'
      ? /^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/.exec(
          value,
        )
      : null;
  if (match === null || value === '') return undefined;
  const unitsMs = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
  return unitsMs.reduce((total, unit, i) => total + Number(match[i + 1] ?? 0) * unit, 0);
}

/** Throws unless `value` is a Grafana uid (at most 40 letters, digits, '-' or '_'). */
function requireGrafanaUid(owner: string, prop: string, value: string): void {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(value)) {
    throw new Error(
      `${owner}: ${prop} must be a Grafana uid (1-40 of A-Z, a-z, 0-9, '-', '_'), got "${value}"`,
    );
  }
}

function toYaml(value: unknown): string {
  // lineWidth 0: long PromQL expressions stay on one line instead of being folded.
  return stringify(value, { lineWidth: 0 });
}
