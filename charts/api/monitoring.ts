/** The alert rules and dashboard panels of the memo API, as functions of its series selector. */
import { AlertRule, AlertSeverity, DashboardPanel, PanelType } from '../endpoints';
import { LabelMatcher, SeriesSelector } from '../series-selector';

/** Responses with a 5xx status, as the service's http_requests_total labels them. */
export const SERVER_ERRORS = LabelMatcher.regex('status', '5..');

export function alertRules(s: SeriesSelector): AlertRule[] {
  return [
    {
      alert: 'MemoApiDown',
      expr: `absent(${s.series('up')} == 1)`,
      for: '2m',
      severity: AlertSeverity.CRITICAL,
      summary: 'No memo-api replica is up',
      description: `Prometheus has not scraped a healthy ${s.job} target in ${s.namespace} for 2 minutes.`,
    },
    {
      alert: 'MemoApiHighErrorRate',
      expr:
        `sum(rate(${s.series('http_requests_total', SERVER_ERRORS)}[5m])) / ` +
        `sum(rate(${s.series('http_requests_total')}[5m])) > 0.05`,
      for: '5m',
      severity: AlertSeverity.CRITICAL,
      summary: 'memo-api answers more than 5 % of requests with 5xx',
      description: 'The 5xx ratio over 5 minutes is {{ $value | humanizePercentage }}.',
    },
    {
      alert: 'MemoApiHighLatencyP95',
      expr: `histogram_quantile(0.95, sum by (le) (rate(${s.series('http_request_duration_seconds_bucket')}[5m]))) > 0.5`,
      for: '10m',
      severity: AlertSeverity.WARNING,
      summary: 'memo-api p95 latency above 500 ms',
      description: 'p95 request latency over 5 minutes is {{ $value | humanizeDuration }}.',
    },
    {
      alert: 'MemoApiDbPoolNearExhaustion',
      // Only the used gauge carries `state`; aggregating both sides by pod lets them match.
      expr: `max by (pod) (${s.series('db_pool_connections', LabelMatcher.equal('state', 'used'))}) / max by (pod) (${s.series('db_pool_max')}) > 0.9`,
      for: '5m',
      severity: AlertSeverity.WARNING,
      summary: 'memo-api database pool almost exhausted',
      description: 'Pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its knex pool.',
    },
    {
      alert: 'MemoApiCacheHitRateLow',
      expr:
        `sum(rate(${s.series('memo_cache_hits_total')}[15m])) / ` +
        `(sum(rate(${s.series('memo_cache_hits_total')}[15m])) + sum(rate(${s.series('memo_cache_misses_total')}[15m]))) < 0.5` +
        ` and sum(rate(${s.series('memo_cache_misses_total')}[15m])) > 0.1`,
      for: '30m',
      severity: AlertSeverity.WARNING,
      summary: 'memo-api cache hit rate below 50 %',
      description: 'The Redis cache answers only {{ $value | humanizePercentage }} of memo reads.',
    },
    {
      alert: 'MemoApiOutboxBacklogGrowing',
      expr: `max(${s.series('memo_outbox_backlog')}) > 100 and delta(max(${s.series('memo_outbox_backlog')})[10m:1m]) > 0`,
      for: '10m',
      severity: AlertSeverity.WARNING,
      summary: 'memo-api events outbox is growing',
      description: '{{ $value }} events wait in the outbox; Kafka may be unreachable.',
    },
  ];
}

export function dashboardPanels(s: SeriesSelector): DashboardPanel[] {
  const quantile = (q: number) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(${s.series('http_request_duration_seconds_bucket')}[5m])))`,
    legendFormat: `p${Math.round(q * 100)}`,
  });
  return [
    {
      title: 'Requests per second by status',
      type: PanelType.TIMESERIES,
      unit: 'reqps',
      targets: [
        {
          expr: `sum by (status) (rate(${s.series('http_requests_total')}[5m]))`,
          legendFormat: '{{status}}',
        },
      ],
    },
    {
      title: 'Error ratio (5xx)',
      type: PanelType.TIMESERIES,
      unit: 'percentunit',
      targets: [
        {
          expr: `sum(rate(${s.series('http_requests_total', SERVER_ERRORS)}[5m])) / sum(rate(${s.series('http_requests_total')}[5m]))`,
          legendFormat: '5xx',
        },
      ],
    },
    {
      title: 'Latency p50 / p95 / p99',
      type: PanelType.TIMESERIES,
      unit: 's',
      targets: [quantile(0.5), quantile(0.95), quantile(0.99)],
    },
    {
      title: 'Cache hit rate',
      type: PanelType.TIMESERIES,
      unit: 'percentunit',
      targets: [
        {
          expr:
            `sum(rate(${s.series('memo_cache_hits_total')}[5m])) / ` +
            `(sum(rate(${s.series('memo_cache_hits_total')}[5m])) + sum(rate(${s.series('memo_cache_misses_total')}[5m])))`,
          legendFormat: 'hit rate',
        },
      ],
    },
    {
      title: 'Database pool',
      type: PanelType.TIMESERIES,
      targets: [
        { expr: `sum by (state) (${s.series('db_pool_connections')})`, legendFormat: '{{state}}' },
        { expr: `sum(${s.series('db_pool_max')})`, legendFormat: 'max' },
      ],
    },
    {
      title: 'Outbox backlog and events published',
      type: PanelType.TIMESERIES,
      targets: [
        { expr: `max(${s.series('memo_outbox_backlog')})`, legendFormat: 'backlog' },
        { expr: `sum(rate(${s.series('memo_events_published_total')}[5m]))`, legendFormat: 'published/s' },
        { expr: `sum(rate(${s.series('memo_events_publish_errors_total')}[5m]))`, legendFormat: 'errors/s' },
      ],
    },
  ];
}
