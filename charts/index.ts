// The public API of the construct library; internal helpers (common/) stay unexported.
export * from './connections';
export * from './dashboards/grafana-dashboard';
export * from './endpoints';
export * from './gitops';
export * from './kafka-cluster';
export * from './labels';
export { MARIADB_ACCOUNT_GRANTS, MARIADB_SECRET_KEYS } from './mariadb/accounts';
export * from './mariadb/mariadb-stateful-set';
export * from './memo-api';
export * from './memo-stack';
export * from './monitoring-stack';
export * from './pod-security';
export * from './profiles';
export { REDIS_PASSWORD_KEY } from './redis/pod-spec';
export { DEFAULT_DISABLED_COMMANDS } from './redis/redis-conf';
export * from './redis/redis-cache';
export * from './resources';
export * from './series-selector';
