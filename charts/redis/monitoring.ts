/** The alert rules and dashboard panels of a Redis cache, as functions of its series selector. */
import { AlertRule, AlertSeverity, DashboardPanel, PanelType } from '../endpoints';
import { SeriesSelector } from '../series-selector';

export function redisAlertRules(s: SeriesSelector): AlertRule[] {
  return [
    {
      alert: 'RedisDown',
      expr: `(count(${s.series('redis_up')} == 1) or vector(0)) < 1`,
      for: '2m',
      severity: AlertSeverity.CRITICAL,
      summary: 'Redis is down',
      description:
        'The Redis cache has not answered its exporter for 2 minutes; the API serves from the database.',
    },
    {
      alert: 'RedisMemoryNearMax',
      expr: `max by (pod) (${s.series('redis_memory_used_bytes')} / (${s.series('redis_memory_max_bytes')} > 0)) > 0.95`,
      for: '10m',
      severity: AlertSeverity.WARNING,
      summary: 'Redis memory at maxmemory',
      description: 'Redis {{ $labels.pod }} uses {{ $value | humanizePercentage }} of maxmemory.',
    },
    {
      alert: 'RedisHighEvictionRate',
      expr: `sum by (pod) (rate(${s.series('redis_evicted_keys_total')}[5m])) > 50`,
      for: '15m',
      severity: AlertSeverity.WARNING,
      summary: 'Redis evicts keys constantly',
      description:
        'Redis {{ $labels.pod }} evicts {{ $value }} keys/s: the cache is too small for its working set.',
    },
    {
      alert: 'RedisRejectedConnections',
      expr: `sum by (pod) (increase(${s.series('redis_rejected_connections_total')}[5m])) > 0`,
      // Rejections come in bursts; one more evaluation confirms it is not a single scrape's blip.
      for: '1m',
      severity: AlertSeverity.WARNING,
      summary: 'Redis rejects connections',
      description:
        'Redis {{ $labels.pod }} rejected {{ $value }} connections in 5 minutes (maxclients reached).',
    },
  ];
}

export function redisPanels(s: SeriesSelector): DashboardPanel[] {
  return [
    {
      title: 'Cache hit ratio',
      type: PanelType.TIMESERIES,
      unit: 'percentunit',
      targets: [
        {
          expr: `sum(rate(${s.series('redis_keyspace_hits_total')}[5m])) / (sum(rate(${s.series('redis_keyspace_hits_total')}[5m])) + sum(rate(${s.series('redis_keyspace_misses_total')}[5m])))`,
          legendFormat: 'hit ratio',
        },
      ],
    },
    {
      title: 'Memory used vs maxmemory',
      type: PanelType.TIMESERIES,
      unit: 'bytes',
      targets: [
        { expr: `sum(${s.series('redis_memory_used_bytes')})`, legendFormat: 'used' },
        { expr: `sum(${s.series('redis_memory_max_bytes')})`, legendFormat: 'maxmemory' },
      ],
    },
    {
      title: 'Commands per second',
      type: PanelType.TIMESERIES,
      unit: 'ops',
      targets: [
        { expr: `sum(rate(${s.series('redis_commands_processed_total')}[5m]))`, legendFormat: 'commands' },
      ],
    },
    {
      title: 'Evicted and expired keys per second',
      type: PanelType.TIMESERIES,
      unit: 'ops',
      targets: [
        { expr: `sum(rate(${s.series('redis_evicted_keys_total')}[5m]))`, legendFormat: 'evicted' },
        { expr: `sum(rate(${s.series('redis_expired_keys_total')}[5m]))`, legendFormat: 'expired' },
      ],
    },
    {
      title: 'Connected clients',
      type: PanelType.TIMESERIES,
      targets: [{ expr: `sum(${s.series('redis_connected_clients')})`, legendFormat: 'clients' }],
    },
  ];
}
