/** The alert rules and dashboard panels of a Kafka cluster, as functions of its series selector. */
import { AlertRule, AlertSeverity, DashboardPanel, PanelType } from '../endpoints';
import { LabelMatcher, SeriesSelector } from '../series-selector';

export function kafkaAlertRules(s: SeriesSelector, replicas: number, topics: string[]): AlertRule[] {
  // Every node's exporter sidecar reports the whole cluster: dedupe per partition with max.
  const lagTopics = topics.length > 0 ? [LabelMatcher.anyOf('topic', topics)] : [];
  return [
    {
      alert: 'KafkaBrokersDown',
      expr: `(max(${s.series('kafka_brokers')}) or vector(0)) < ${replicas}`,
      for: '3m',
      severity: AlertSeverity.CRITICAL,
      summary: 'Kafka brokers missing',
      description: `The cluster reports {{ $value }} of ${replicas} brokers.`,
    },
    {
      alert: 'KafkaUnderReplicatedPartitions',
      expr: `sum(max by (topic, partition) (${s.series('kafka_topic_partition_under_replicated_partition')})) > 0`,
      for: '5m',
      severity: AlertSeverity.WARNING,
      summary: 'Kafka partitions are under-replicated',
      description: '{{ $value }} partitions have fewer in-sync replicas than replicas.',
    },
    {
      alert: 'KafkaOfflinePartitions',
      expr: `count(max by (topic, partition) (${s.series('kafka_topic_partition_leader')}) == -1) > 0`,
      for: '1m',
      severity: AlertSeverity.CRITICAL,
      summary: 'Kafka partitions have no leader',
      description: '{{ $value }} partitions are offline: producers and consumers of them fail.',
    },
    {
      alert: 'KafkaConsumerGroupLag',
      expr: `max by (consumergroup, topic) (${s.series('kafka_consumergroup_lag_sum', ...lagTopics)}) > 1000`,
      for: '10m',
      severity: AlertSeverity.WARNING,
      summary: 'Kafka consumer group lags',
      description:
        'Group {{ $labels.consumergroup }} is {{ $value }} messages behind on {{ $labels.topic }}.',
    },
  ];
}

export function kafkaPanels(s: SeriesSelector): DashboardPanel[] {
  return [
    {
      title: 'Brokers',
      type: PanelType.STAT,
      targets: [{ expr: `max(${s.series('kafka_brokers')})`, legendFormat: 'brokers' }],
    },
    {
      title: 'Messages in per second by topic',
      type: PanelType.TIMESERIES,
      unit: 'ops',
      targets: [
        {
          expr: `sum by (topic) (max by (topic, partition) (rate(${s.series('kafka_topic_partition_current_offset')}[5m])))`,
          legendFormat: '{{topic}}',
        },
      ],
    },
    {
      title: 'Consumer group lag',
      type: PanelType.TIMESERIES,
      targets: [
        {
          expr: `max by (consumergroup, topic) (${s.series('kafka_consumergroup_lag_sum')})`,
          legendFormat: '{{consumergroup}} / {{topic}}',
        },
      ],
    },
    {
      title: 'Under-replicated partitions',
      type: PanelType.STAT,
      targets: [
        {
          expr: `sum(max by (topic, partition) (${s.series('kafka_topic_partition_under_replicated_partition')}))`,
          legendFormat: 'partitions',
        },
      ],
    },
  ];
}
