// The public API of the construct library; internal helpers (common/) stay unexported.
// The generated Kubernetes types, as cdk8s-plus exports its own: the L1 objects constructs
// expose (`statefulSet`, `service`...) are typed with them.
export * as k8s from '../imports/k8s';
export * from './api/log-level';
export * from './connections';
export * from './endpoints';
export * from './gitops';
export * from './kafka/kafka-cluster';
export { KafkaTopic } from './kafka/topic';
export type { KafkaTopicOptions } from './kafka/topic';
export * from './labels';
export { MARIADB_ACCOUNT_GRANTS, MARIADB_SECRET_KEYS } from './mariadb/accounts';
export * from './mariadb/mariadb-stateful-set';
export * from './api/memo-api';
export * from './memo-stack';
export * from './monitoring/grafana-dashboard';
export * from './monitoring/monitoring-mode';
export * from './monitoring/monitoring-stack';
export * from './namespace-guard-rails';
export type { NamespaceFootprint, PodFootprint, WorkloadPeak } from './common/workload-footprint';
export * from './plus-peer';
export * from './pod-security';
export * from './profiles';
export { REDIS_PASSWORD_KEY } from './redis/pod-spec';
export { DEFAULT_DISABLED_COMMANDS } from './redis/redis-conf';
export * from './redis/eviction-policy';
export * from './redis/redis-cache';
export * from './resources';
export * from './series-selector';
