/**
 * Every configuration file dist/ embeds, run through the real program of its kind: mariadbd,
 * redis-server, the Kafka broker, promtool, amtool, and Grafana's dashboard/datasource rules.
 * scripts/tools/install.sh installs the programs; test/programs runs the checks per profile.
 */
export * from './alertmanager';
export * from './grafana';
export * from './kafka';
export * from './manifests';
export * from './mariadb';
export * from './process';
export * from './prometheus';
export * from './redis';
export type { CheckReport } from './report';
