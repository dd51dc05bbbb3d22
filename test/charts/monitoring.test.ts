/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { Connections } from '../../charts/connections';
import { AlertSeverity, IMonitored, IMonitoringContribution, PanelType } from '../../charts/endpoints';
import { MonitoringMode } from '../../charts/monitoring/monitoring-mode';
import { MonitoringStack, MonitoringStackProps } from '../../charts/monitoring/monitoring-stack';

type Manifest = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: any;
};

/** A component the way the real constructs present themselves to the stack. */
function component(chart: Chart, name: string, port: number): IMonitored & { connections: Connections } {
  const podSelectorLabels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': `memo-${name}` };
  const monitoring: IMonitoringContribution = {
    component: name,
    podSelectorLabels,
    namespace: 'memo',
    serviceName: `memo-${name}`,
    scrape: { portName: 'metrics', port },
    alertRules: (series) => [
      {
        alert: `${name}Down`,
        expr: `${series.series('up')} == 0`,
        for: '5m',
        severity: AlertSeverity.CRITICAL,
        summary: `${name} down`,
        description: `${name} is not scraped.`,
      },
    ],
    dashboardTitle: `Memo ${name}`,
    dashboardPanels: (series) => [
      { title: 'Up', type: PanelType.STAT, targets: [{ expr: series.series('up') }] },
      {
        title: 'Rate',
        type: PanelType.TIMESERIES,
        unit: 'reqps',
        targets: [{ expr: `rate(${series.series('x')}[5m])`, legendFormat: '{{pod}}' }],
      },
      {
        title: 'Third',
        type: PanelType.GAUGE,
        targets: [{ expr: series.series('y') }, { expr: series.series('z') }],
      },
    ],
  };
  return {
    monitoring,
    connections: new Connections(chart, `${name}-policy`, {
      identity: { name, instance: `memo-${name}`, component: name, version: '1' },
      namespace: 'memo',
      podSelectorLabels,
    }),
  };
}

function build(props: MonitoringStackProps = {}) {
  const chart = Testing.chart();
  const stack = new MonitoringStack(chart, 'monitoring', props);
  stack.monitor(component(chart, 'redis', 9121));
  stack.monitor(component(chart, 'kafka', 9308));
  return { stack, manifests: Testing.synth(chart) as Manifest[] };
}

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`,
    );
  return found;
}

describe('MonitoringStack', () => {
  describe('standalone (default)', () => {
    test('when built with defaults, then the manifests match the snapshot', () => {
      expect(build().manifests).toMatchSnapshot();
    });

    test('when built, then Prometheus, Alertmanager and Grafana run with Services of the same names', () => {
      const { manifests } = build();
      for (const [name, port] of [
        ['memo-prometheus', 9090],
        ['memo-alertmanager', 9093],
        ['memo-grafana', 3000],
      ] as const) {
        expect(find(manifests, 'Deployment', name).spec.replicas).toBe(1);
        expect(find(manifests, 'Service', name).spec.ports[0].port).toBe(port);
      }
    });

    test('when components are monitored, then prometheus.yml has one pod-discovery job per component in the namespace', () => {
      const { stack, manifests } = build();
      const config = parse(find(manifests, 'ConfigMap', 'memo-prometheus-config').data['prometheus.yml']);
      expect(find(manifests, 'ConfigMap', 'memo-prometheus-config').data['prometheus.yml']).toBe(
        stack.prometheusConfigYaml,
      );
      expect(config.scrape_configs.map((j: { job_name: string }) => j.job_name)).toEqual([
        'prometheus',
        'memo-alertmanager',
        'memo-redis',
        'memo-kafka',
      ]);
      const redis = config.scrape_configs[2];
      expect(redis.kubernetes_sd_configs).toEqual([
        {
          role: 'pod',
          namespaces: { names: ['memo'] },
          selectors: [
            { role: 'pod', label: 'app.kubernetes.io/instance=memo-redis,app.kubernetes.io/name=redis' },
          ],
        },
      ]);
      const sources = redis.relabel_configs.map((r: { source_labels: string[] }) =>
        r.source_labels.join(','),
      );
      expect(sources).toEqual(
        expect.arrayContaining([
          '__meta_kubernetes_pod_annotation_prometheus_io_scrape',
          '__meta_kubernetes_pod_annotation_prometheus_io_path',
          '__address__,__meta_kubernetes_pod_annotation_prometheus_io_port',
        ]),
      );
      expect(redis.relabel_configs).toContainEqual({
        source_labels: ['__meta_kubernetes_pod_container_port_number'],
        regex: '9121',
        action: 'keep',
      });
      expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['memo-alertmanager:9093']);
      expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yaml']);
    });

    test('when components are monitored, then the rules file has one group per component', () => {
      const { stack, manifests } = build();
      const rules = parse(find(manifests, 'ConfigMap', 'memo-prometheus-rules').data['memostack.yaml']);
      expect(rules.groups.map((g: { name: string }) => g.name)).toEqual(['redis', 'kafka']);
      expect(rules.groups[0].rules[0]).toMatchObject({
        alert: 'redisDown',
        for: '5m',
        labels: { severity: 'critical' },
      });
      expect(parse(stack.rulesYaml)).toEqual(rules);
    });

    test('when components are monitored, then their rules and panels select the scrape job and namespace Prometheus gives their series', () => {
      const { stack, manifests } = build();
      const redis = stack.monitored[0];
      const series = stack.seriesOf({ monitoring: redis });
      expect([series.job, series.namespace]).toEqual(['memo-redis', 'memo']);
      const config = parse(stack.prometheusConfigYaml);
      const job = config.scrape_configs.find((j: { job_name: string }) => j.job_name === series.job);
      expect(job.kubernetes_sd_configs[0].namespaces.names).toEqual([series.namespace]);
      expect(job.relabel_configs).toContainEqual({
        source_labels: ['__meta_kubernetes_namespace'],
        target_label: 'namespace',
        action: 'replace',
      });
      const rules = parse(find(manifests, 'ConfigMap', 'memo-prometheus-rules').data['memostack.yaml']);
      expect(rules.groups[0].rules[0].expr).toBe('up{job="memo-redis",namespace="memo"} == 0');
      const dashboard = JSON.parse(stack.dashboardsJson['redis.json']);
      expect(dashboard.panels[1].targets[0].expr).toBe('rate(x{job="memo-redis",namespace="memo"}[5m])');
    });

    test('when built, then Prometheus may only read pods, services and endpoints of its own namespace', () => {
      const { manifests } = build();
      const role = find(manifests, 'Role', 'memo-prometheus');
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
      ]);
      expect(manifests.some((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding')).toBe(false);
      const binding = find(manifests, 'RoleBinding', 'memo-prometheus');
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'memo-prometheus', namespace: 'memo' },
      ]);
      const pods = ['memo-prometheus', 'memo-alertmanager', 'memo-grafana'].map(
        (name) => find(manifests, 'Deployment', name).spec.template.spec,
      );
      expect(pods.map((p) => p.automountServiceAccountToken)).toEqual([true, false, false]);
      expect(pods[0].serviceAccountName).toBe('memo-prometheus');
    });

    test('when components are monitored, then scrapes are allowed from Prometheus to each metrics port', () => {
      const { manifests } = build();
      const prometheusLabels = {
        'app.kubernetes.io/name': 'prometheus',
        'app.kubernetes.io/instance': 'memo-prometheus',
        'app.kubernetes.io/component': 'monitoring',
      };
      const prometheus = find(manifests, 'NetworkPolicy', 'memo-prometheus').spec;
      expect(prometheus.podSelector.matchLabels).toEqual(prometheusLabels);
      const egress = prometheus.egress.map((r: any) => r.ports.map((p: any) => p.port).join('+'));
      expect(egress).toEqual(['53+53', '443+6443', '9093', '9121', '9308']);
      expect(prometheus.egress[1].to).toBeUndefined();
      expect(prometheus.ingress).toEqual([
        {
          from: [
            {
              podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/name': 'grafana' }) },
            },
          ],
          ports: [{ port: 9090, protocol: 'TCP' }],
        },
      ]);
      expect(find(manifests, 'NetworkPolicy', 'memo-redis').spec.ingress).toEqual([
        {
          from: [{ podSelector: { matchLabels: prometheusLabels } }],
          ports: [{ port: 9121, protocol: 'TCP' }],
        },
      ]);
      expect(find(manifests, 'NetworkPolicy', 'memo-alertmanager').spec.egress).toHaveLength(1);
    });

    test('when built, then alertmanager routes critical and warning to receivers without external integrations', () => {
      const { stack } = build();
      const config = parse(stack.alertmanagerConfigYaml);
      expect(config.route.receiver).toBe('default');
      expect(config.route.group_by).toEqual(['alertname', 'namespace']);
      expect(config.route.routes).toEqual([
        { receiver: 'critical', matchers: ['severity="critical"'], repeat_interval: '1h' },
        { receiver: 'default', matchers: ['severity="warning"'] },
      ]);
      expect(config.receivers).toEqual([{ name: 'default' }, { name: 'critical' }]);
    });

    test('when a webhook URL is set, then both receivers post to it and Alertmanager may reach its port', () => {
      const { stack, manifests } = build({ alertWebhookUrl: 'https://hooks.example.com:8443/alerts' });
      const receivers = parse(stack.alertmanagerConfigYaml).receivers;
      for (const r of receivers) {
        expect(r.webhook_configs).toEqual([
          { url: 'https://hooks.example.com:8443/alerts', send_resolved: true },
        ]);
      }
      const egress = find(manifests, 'NetworkPolicy', 'memo-alertmanager').spec.egress;
      expect(egress[1]).toEqual({ ports: [{ port: 8443, protocol: 'TCP' }] });
    });

    test('when built, then Grafana reads its admin password from the credentials Secret and provisions the pinned datasource', () => {
      const { stack, manifests } = build();
      const grafana = find(manifests, 'Deployment', 'memo-grafana').spec.template.spec;
      expect(grafana.securityContext).toMatchObject({ runAsUser: 472, runAsNonRoot: true });
      const env = grafana.containers[0].env;
      expect(env).toContainEqual({
        name: 'GF_SECURITY_ADMIN_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'memo-grafana-credentials', key: 'admin-password' } },
      });
      expect(stack.requiredSecrets).toEqual([
        { secretName: 'memo-grafana-credentials', namespace: 'memo', keys: ['admin-password'] },
      ]);
      const datasources = parse(
        find(manifests, 'ConfigMap', 'memo-grafana-datasources').data['datasources.yaml'],
      );
      expect(datasources.datasources[0]).toMatchObject({
        uid: 'memo-prometheus',
        url: 'http://memo-prometheus:9090',
      });
      const mounts = grafana.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath);
      expect(mounts).toEqual(expect.arrayContaining(['/var/lib/grafana', '/tmp']));
      expect(grafana.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    });

    test('when components are monitored, then each gets a dashboard with deterministic ids and grid positions', () => {
      const { stack, manifests } = build();
      const data = find(manifests, 'ConfigMap', 'memo-grafana-dashboards').data;
      expect(Object.keys(data).sort()).toEqual(['kafka.json', 'redis.json']);
      expect(data).toEqual(stack.dashboardsJson);
      const dashboard = JSON.parse(data['redis.json']);
      expect(dashboard.uid).toBe('memostack-redis');
      expect(dashboard.panels.map((p: any) => [p.id, p.gridPos])).toEqual([
        [1, { h: 8, w: 12, x: 0, y: 0 }],
        [2, { h: 8, w: 12, x: 12, y: 0 }],
        [3, { h: 8, w: 12, x: 0, y: 8 }],
      ]);
      expect(dashboard.panels[2].targets.map((t: { refId: string }) => t.refId)).toEqual(['A', 'B']);
      expect(dashboard.panels[0].datasource).toEqual({ type: 'prometheus', uid: 'memo-prometheus' });
      expect(build().stack.dashboardsJson).toEqual(stack.dashboardsJson);
    });

    test('when storage is set, then the TSDB lives on a PVC and retention is bounded by size too', () => {
      const { manifests } = build({
        prometheusStorageGiB: 10,
        storageClassName: 'standard',
        retention: '7d',
      });
      const pvc = find(manifests, 'PersistentVolumeClaim', 'memo-prometheus-data');
      expect(pvc.spec).toMatchObject({
        storageClassName: 'standard',
        resources: { requests: { storage: '10Gi' } },
      });
      const deployment = find(manifests, 'Deployment', 'memo-prometheus');
      expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
      expect(deployment.spec.template.spec.containers[0].args).toEqual(
        expect.arrayContaining(['--storage.tsdb.retention.time=7d', '--storage.tsdb.retention.size=8192MB']),
      );
      expect(deployment.spec.template.spec.volumes).toContainEqual({
        name: 'data',
        persistentVolumeClaim: { claimName: 'memo-prometheus-data' },
      });
    });

    test('when no storage is set, then the TSDB uses an emptyDir', () => {
      const volumes = find(build().manifests, 'Deployment', 'memo-prometheus').spec.template.spec.volumes;
      expect(volumes).toContainEqual({ name: 'data', emptyDir: {} });
    });
  });

  describe('operator mode', () => {
    const operator = () => build({ mode: MonitoringMode.operator({ release: 'kps' }) });

    test('when built, then the manifests match the snapshot', () => {
      expect(operator().manifests).toMatchSnapshot();
    });

    test('when built, then no Prometheus, Alertmanager or Grafana workload is created', () => {
      const { manifests, stack } = operator();
      expect(manifests.filter((m) => m.kind === 'Deployment')).toEqual([]);
      expect(stack.requiredSecrets).toEqual([]);
      expect(manifests.map((m) => m.kind).sort()).toEqual([
        'ConfigMap',
        'ConfigMap',
        'NetworkPolicy',
        'NetworkPolicy',
        'PrometheusRule',
        'ServiceMonitor',
        'ServiceMonitor',
      ]);
    });

    test('when built, then each component gets a ServiceMonitor labelled with the release', () => {
      const monitor = find(operator().manifests, 'ServiceMonitor', 'memo-redis');
      expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(monitor.metadata.labels?.release).toBe('kps');
      expect(monitor.spec.selector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'redis',
        'app.kubernetes.io/instance': 'memo-redis',
      });
      expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
    });

    test('when built, then each ServiceMonitor gives the series the job and namespace the rules select', () => {
      // The operator names the job after the Service a target is found through, and copies the
      // target's namespace into `namespace`: the relabeling keeps only the one Service.
      const { manifests, stack } = operator();
      for (const c of stack.monitored) {
        const series = stack.seriesOf({ monitoring: c });
        const monitor = find(manifests, 'ServiceMonitor', c.serviceName);
        expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [series.namespace] });
        expect(monitor.spec.endpoints[0].relabelings).toEqual([
          { sourceLabels: ['__meta_kubernetes_service_name'], regex: series.job, action: 'keep' },
        ]);
      }
      const rule = find(manifests, 'PrometheusRule', 'memo-rules');
      expect(rule.spec.groups[1].rules[0].expr).toBe('up{job="memo-kafka",namespace="memo"} == 0');
    });

    test('when built, then one PrometheusRule holds a group per component', () => {
      const rule = find(operator().manifests, 'PrometheusRule', 'memo-rules');
      expect(rule.metadata.labels?.release).toBe('kps');
      expect(rule.spec.groups.map((g: { name: string }) => g.name)).toEqual(['redis', 'kafka']);
    });

    test('when built, then dashboards are ConfigMaps labelled for the Grafana sidecar', () => {
      const { manifests } = operator();
      const dashboard = find(manifests, 'ConfigMap', 'memo-dashboard-kafka');
      expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1', release: 'kps' });
      expect(JSON.parse(dashboard.data['kafka.json']).panels[0].datasource.uid).toBe('prometheus');
    });

    test('when built, then components admit the operator Prometheus from its namespace', () => {
      const ingress = find(operator().manifests, 'NetworkPolicy', 'memo-kafka').spec.ingress;
      expect(ingress).toEqual([
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
            },
          ],
          ports: [{ port: 9308, protocol: 'TCP' }],
        },
      ]);
    });

    test('when the release is not a label value, then it throws naming it', () => {
      expect(() => MonitoringMode.operator({ release: 'Bad Release' })).toThrow(
        /release must be a valid label value, got "Bad Release"/,
      );
    });
  });

  test.each([
    [{ retention: '15 days' }, /retention must be a Prometheus duration.*"15 days"/],
    [{ scrapeInterval: '30' }, /scrapeInterval must be a Prometheus duration.*"30"/],
    [{ prometheusStorageGiB: 0 }, /prometheusStorageGiB must be a positive integer, got 0/],
    [{ alertWebhookUrl: 'slack' }, /alertWebhookUrl must be an http\(s\) URL, got "slack"/],
    [
      { grafanaImage: 'grafana/grafana' },
      /grafanaImage must be pinned to a tag or digest.*'grafana\/grafana'/,
    ],
    [{ namePrefix: 'Memo' }, /namePrefix must be a DNS label.*"Memo"/],
  ] as Array<[MonitoringStackProps, RegExp]>)(
    'when given %j, then it throws naming the prop and value',
    (props, message) => {
      expect(() => new MonitoringStack(Testing.chart(), 'monitoring', props)).toThrow(message);
    },
  );

  test('when a component is monitored twice, then it throws naming the component', () => {
    const chart = Testing.chart();
    const stack = new MonitoringStack(chart, 'monitoring');
    const redis = component(chart, 'redis', 9121);
    stack.monitor(redis);
    expect(() => stack.monitor(redis)).toThrow(/component "redis" is already monitored/);
  });

  test('when a standalone component lives in another namespace, then it throws naming both namespaces', () => {
    const chart = Testing.chart();
    const stack = new MonitoringStack(chart, 'monitoring');
    const redis = component(chart, 'redis', 9121);
    expect(() => stack.monitor({ monitoring: { ...redis.monitoring, namespace: 'other' } })).toThrow(
      /namespace "other", but standalone Prometheus discovers pods only in "memo"/,
    );
  });
});
