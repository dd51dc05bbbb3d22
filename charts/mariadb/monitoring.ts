/** The alert rules and dashboard panels of a MariaDB server, as functions of its series selector. */
import { AlertRule, AlertSeverity, DashboardPanel, PanelType } from '../endpoints';
import { SeriesSelector } from '../series-selector';

export function mariadbAlertRules(s: SeriesSelector, replicas: number): AlertRule[] {
  const rules: AlertRule[] = [
    {
      alert: 'MariaDbDown',
      expr: `(count(${s.series('mysql_up')} == 1) or vector(0)) < ${replicas}`,
      for: '2m',
      severity: AlertSeverity.CRITICAL,
      summary: 'A MariaDB server is down',
      description: `Fewer than ${replicas} MariaDB server(s) answer their exporter for 2 minutes.`,
    },
    {
      alert: 'MariaDbConnectionsNearMax',
      expr: `max by (pod) (${s.series('mysql_global_status_threads_connected')} / ${s.series('mysql_global_variables_max_connections')}) > 0.8`,
      for: '5m',
      severity: AlertSeverity.WARNING,
      summary: 'MariaDB connections above 80 % of max_connections',
      description: 'MariaDB {{ $labels.pod }} uses {{ $value | humanizePercentage }} of max_connections.',
    },
    {
      alert: 'MariaDbSlowQueries',
      expr: `sum by (pod) (rate(${s.series('mysql_global_status_slow_queries')}[5m])) > 1`,
      for: '10m',
      severity: AlertSeverity.WARNING,
      summary: 'MariaDB runs more than one slow query per second',
      description: 'MariaDB {{ $labels.pod }} logs {{ $value }} slow queries/s (long_query_time 1 s).',
    },
  ];
  if (replicas > 1) {
    rules.push(
      {
        alert: 'MariaDbReplicationStopped',
        expr: `${s.series('mysql_slave_status_slave_io_running')} == 0 or ${s.series('mysql_slave_status_slave_sql_running')} == 0`,
        for: '2m',
        severity: AlertSeverity.CRITICAL,
        summary: 'MariaDB replication stopped',
        description: 'A replication thread of {{ $labels.pod }} is not running.',
      },
      {
        alert: 'MariaDbReplicationLag',
        expr: `${s.series('mysql_slave_status_seconds_behind_master')} > 30`,
        for: '5m',
        severity: AlertSeverity.WARNING,
        summary: 'MariaDB replica lags behind the primary',
        description: 'Replica {{ $labels.pod }} is {{ $value }} s behind the primary.',
      },
    );
  }
  return rules;
}

export function mariadbPanels(s: SeriesSelector): DashboardPanel[] {
  return [
    {
      title: 'Queries per second',
      type: PanelType.TIMESERIES,
      unit: 'qps',
      targets: [
        {
          expr: `sum by (pod) (rate(${s.series('mysql_global_status_queries')}[5m]))`,
          legendFormat: '{{pod}}',
        },
      ],
    },
    {
      title: 'Connections',
      type: PanelType.TIMESERIES,
      targets: [
        {
          expr: `sum by (pod) (${s.series('mysql_global_status_threads_connected')})`,
          legendFormat: '{{pod}} connected',
        },
        {
          expr: `max(${s.series('mysql_global_variables_max_connections')})`,
          legendFormat: 'max_connections',
        },
      ],
    },
    {
      title: 'Slow queries per second',
      type: PanelType.TIMESERIES,
      unit: 'qps',
      targets: [
        {
          expr: `sum by (pod) (rate(${s.series('mysql_global_status_slow_queries')}[5m]))`,
          legendFormat: '{{pod}}',
        },
      ],
    },
    {
      title: 'InnoDB buffer pool hit ratio',
      type: PanelType.TIMESERIES,
      unit: 'percentunit',
      targets: [
        {
          expr: `1 - sum by (pod) (rate(${s.series('mysql_global_status_innodb_buffer_pool_reads')}[5m])) / sum by (pod) (rate(${s.series('mysql_global_status_innodb_buffer_pool_read_requests')}[5m]))`,
          legendFormat: '{{pod}}',
        },
      ],
    },
    {
      title: 'Replication lag',
      type: PanelType.TIMESERIES,
      unit: 's',
      targets: [
        {
          expr: `max by (pod) (${s.series('mysql_slave_status_seconds_behind_master')})`,
          legendFormat: '{{pod}}',
        },
      ],
    },
  ];
}
