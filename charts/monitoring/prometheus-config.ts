/** prometheus.yml of the standalone Prometheus: pod discovery per monitored component, and Prometheus durations. */
import { IMonitoringContribution } from '../endpoints';
import { ALERTMANAGER_PORT, PROMETHEUS_PORT } from './ports';
import { scrapeJobName } from './scrape-job';
import { toYaml } from './yaml';

/** Prometheus' own default scrape timeout; it may not exceed the scrape interval. */
const SCRAPE_TIMEOUT_MS = 10_000;

/** What prometheus.yml is rendered from. */
export interface PrometheusConfigSource {
  /** Scrape and rule evaluation interval. */
  readonly scrapeInterval: string;
  /** The Alertmanager Service, which Prometheus sends alerts to and scrapes. */
  readonly alertmanagerName: string;
  readonly contributions: readonly IMonitoringContribution[];
}

export function renderPrometheusConfig(source: PrometheusConfigSource): string {
  const { scrapeInterval, alertmanagerName } = source;
  const config = {
    global: {
      scrape_interval: scrapeInterval,
      evaluation_interval: scrapeInterval,
      scrape_timeout:
        (durationMs(scrapeInterval) ?? SCRAPE_TIMEOUT_MS) < SCRAPE_TIMEOUT_MS ? scrapeInterval : '10s',
    },
    alerting: {
      alertmanagers: [{ static_configs: [{ targets: [`${alertmanagerName}:${ALERTMANAGER_PORT}`] }] }],
    },
    rule_files: ['/etc/prometheus/rules/*.yaml'],
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
      {
        job_name: alertmanagerName,
        static_configs: [{ targets: [`${alertmanagerName}:${ALERTMANAGER_PORT}`] }],
      },
      // Named as under the Prometheus Operator, so one selector (seriesSelectorOf) fits both modes.
      ...source.contributions.map((c) => ({
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

function relabelForPods(c: IMonitoringContribution) {
  return [
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
}

function labelSelector(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',');
}

/**
 * Milliseconds of a Prometheus duration (`1d12h`, `30s`, `500ms`: units largest first, each at
 * most once), or undefined when Prometheus would reject it.
 */
export function durationMs(value: string): number | undefined {
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
