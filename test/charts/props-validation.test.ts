import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import {
  ICacheEndpoint,
  IDatabaseEndpoint,
  IEventsEndpoint,
  IMonitoringContribution,
} from '../../charts/endpoints';
import { KafkaCluster, KafkaClusterProps } from '../../charts/kafka/kafka-cluster';
import { KafkaTopicOptions } from '../../charts/kafka/topic';
import { MariaDbStatefulSet, MariaDbStatefulSetProps } from '../../charts/mariadb/mariadb-stateful-set';
import { MemoApi, MemoApiAutoscaling, MemoApiProps } from '../../charts/api/memo-api';
import { MemoStack, MemoStackProps } from '../../charts/memo-stack';
import { MonitoringMode, OperatorModeOptions } from '../../charts/monitoring/monitoring-mode';
import { MonitoringStack, MonitoringStackProps } from '../../charts/monitoring/monitoring-stack';
import {
  NamespaceGuardRails,
  NamespaceGuardRailsOptions,
  NamespaceGuardRailsProps,
} from '../../charts/namespace-guard-rails';
import { CLOUD, KIND, Profile } from '../../charts/profiles';
import { RedisCache, RedisCacheProps } from '../../charts/redis/redis-cache';
import { ResourcePreset } from '../../charts/resources';

/**
 * Every public prop of every construct, of the profile data and of ResourcePreset.custom: each
 * one is either validated (and has rows below: a bad value whose error names the owner, the prop
 * and the value, and a boundary value that passes) or says why it needs no check.
 *
 * The key lists are typed `Record<keyof XxxProps, Verdict>`, so a new prop does not compile
 * (tsc -p tsconfig.test.json) until it is listed, and the jest run compares each list with the
 * interface in the source file too (ts-jest here transpiles without type checks).
 */
type Verdict = 'validated' | `no check: ${string}` | `checked at synth: ${string}`;

const BOOLEAN = 'no check: a boolean; both values are valid';

const MEMO_API_PROPS = {
  database: 'validated',
  cache: 'validated',
  events: 'validated',
  namespace: 'validated',
  name: 'validated',
  image: 'validated',
  replicas: 'validated',
  resources: 'validated',
  autoscaling: 'validated',
  spreadAcrossZones: BOOLEAN,
  ingressClassName: 'validated',
  ingressControllerNamespace: 'validated',
  host: 'validated',
  clusterIssuer: 'validated',
  tlsSecretName: 'validated',
  logLevel: 'validated',
  dbPoolMax: 'validated',
  cacheTtlSeconds: 'validated',
  kafkaTopic: 'validated',
  kafkaClientId: 'validated',
  rateLimitPerMinute: 'validated',
  rateLimitSearchPerMinute: 'validated',
  trustedProxyCidrs: 'validated',
  dbStatementTimeoutMs: 'validated',
  cacheKeyPrefix: 'validated',
  corsOrigins: 'validated',
  shutdownDelayMs: 'validated',
  preStopDelaySeconds: 'validated',
  drainSeconds: 'validated',
  oidcIssuerUrl: 'validated',
  oidcAudience: 'validated',
  oidcRolesClaim: 'validated',
  oidcAdminRole: 'validated',
  oidcNameClaim: 'validated',
  authRequiredForReads: 'validated',
  oidcEgressCidrs: 'validated',
  allowAnonymousWrites: 'validated',
} as const satisfies Record<keyof MemoApiProps, Verdict>;

const MEMO_API_AUTOSCALING = {
  minReplicas: 'validated',
  maxReplicas: 'validated',
  cpuUtilizationPercent: 'validated',
  memoryUtilizationPercent: 'validated',
} as const satisfies Record<keyof MemoApiAutoscaling, Verdict>;

const SELECTOR = 'no check: NetworkPolicy peer labels of a server construct, which built them';
const MEMO_API_DATABASE = {
  host: 'validated',
  namespace: 'validated',
  port: 'validated',
  podSelectorLabels: SELECTOR,
  databaseName: 'validated',
  username: 'validated',
  passwordSecret: 'validated',
  migrationUsername: 'validated',
  migrationPasswordSecret: 'validated',
} as const satisfies Record<keyof IDatabaseEndpoint, Verdict>;
const MEMO_API_CACHE = {
  host: 'validated',
  namespace: 'validated',
  port: 'validated',
  podSelectorLabels: SELECTOR,
  passwordSecret: 'validated',
} as const satisfies Record<keyof ICacheEndpoint, Verdict>;
const MEMO_API_EVENTS = {
  host: 'validated',
  namespace: 'validated',
  port: 'validated',
  podSelectorLabels: SELECTOR,
  bootstrapServers: 'validated',
  declaredTopics: 'checked at synth: kafkaTopic must be one of them (the MemoApi kafkaTopic tests below)',
} as const satisfies Record<keyof IEventsEndpoint, Verdict>;

const MARIADB_PROPS = {
  name: 'validated',
  namespace: 'validated',
  image: 'validated',
  replicas: 'validated',
  resources: 'validated',
  storageGiB: 'validated',
  storageClassName: 'validated',
  databaseName: 'validated',
  username: 'validated',
  migrationUsername: 'validated',
  existingSecretName: 'validated',
  maxConnections: 'validated',
  spreadAcrossZones: BOOLEAN,
  backupEnabled: BOOLEAN,
  backupSchedule: 'validated',
  backupRetention: 'validated',
  backupStorageGiB: 'validated',
  clusterDomain: 'validated',
} as const satisfies Record<keyof MariaDbStatefulSetProps, Verdict>;

const REDIS_PROPS = {
  name: 'validated',
  namespace: 'validated',
  image: 'validated',
  resources: 'validated',
  maxMemoryMiB: 'validated',
  maxMemoryPolicy: 'validated',
  appendOnly: BOOLEAN,
  storageGiB: 'validated',
  storageClassName: 'validated',
  existingSecretName: 'validated',
  disabledCommands: 'validated',
  maxClients: 'validated',
} as const satisfies Record<keyof RedisCacheProps, Verdict>;

const KAFKA_PROPS = {
  name: 'validated',
  namespace: 'validated',
  image: 'validated',
  replicas: 'validated',
  resources: 'validated',
  storageGiB: 'validated',
  storageClassName: 'validated',
  spreadAcrossZones: BOOLEAN,
  clusterId: 'validated',
  clusterDomain: 'validated',
  logRetentionHours: 'validated',
} as const satisfies Record<keyof KafkaClusterProps, Verdict>;

/** addTopic(name, options): `name` is the first argument, the rest are KafkaTopicOptions. */
const KAFKA_TOPIC_OPTIONS = {
  name: 'validated',
  partitions: 'validated',
  replicationFactor: 'validated',
  config: 'validated',
} as const satisfies Record<keyof KafkaTopicOptions | 'name', Verdict>;

const MONITORING_PROPS = {
  mode: 'validated',
  namespace: 'validated',
  namePrefix: 'validated',
  prometheusImage: 'validated',
  alertmanagerImage: 'validated',
  grafanaImage: 'validated',
  prometheusResources: 'validated',
  alertmanagerResources: 'validated',
  grafanaResources: 'validated',
  prometheusStorageGiB: 'validated',
  storageClassName: 'validated',
  retention: 'validated',
  scrapeInterval: 'validated',
  alertWebhookUrl: 'validated',
  grafanaAdminSecretName: 'validated',
} as const satisfies Record<keyof MonitoringStackProps, Verdict>;

const OPERATOR_MODE_OPTIONS = {
  release: 'validated',
  prometheusNamespace: 'validated',
  prometheusPodSelectorLabels: 'validated',
  datasourceUid: 'validated',
} as const satisfies Record<keyof OperatorModeOptions, Verdict>;

const RULES_AND_PANELS = 'no check: PromQL and dashboard JSON, proven by promtool and the dashboard tests';
const MONITORED_CONTRIBUTION = {
  component: 'validated',
  podSelectorLabels: 'validated',
  namespace: 'validated',
  serviceName: 'validated',
  scrape: 'validated',
  alertRules: RULES_AND_PANELS,
  dashboardTitle: 'no check: free text (a Grafana title)',
  dashboardPanels: RULES_AND_PANELS,
} as const satisfies Record<keyof IMonitoringContribution, Verdict>;

const GUARD_RAILS_OPTIONS = {
  resourceQuota: BOOLEAN,
  limitRange: BOOLEAN,
  headroomPercent: 'validated',
  containerDefaults: 'validated',
  maxContainerMemoryMiB: 'validated',
} as const satisfies Record<keyof NamespaceGuardRailsOptions, Verdict>;

const GUARD_RAILS_PROPS = {
  ...GUARD_RAILS_OPTIONS,
  namespace: 'validated',
  namePrefix: 'validated',
} as const satisfies Record<keyof NamespaceGuardRailsProps, Verdict>;

const MEMO_STACK_PROPS = {
  profile: 'validated',
  apiImage: 'validated',
  monitoringMode: 'validated',
  eventPartitions: 'validated',
  guardRails: 'validated',
} as const satisfies Record<keyof MemoStackProps, Verdict>;

/** Profile fields; the nested sizes are checked by the construct MemoStack hands them to. */
const PROFILE = {
  name: 'validated',
  namespace: 'validated',
  storageClassName: 'validated',
  ingressClassName: 'validated',
  ingressControllerNamespace: 'validated',
  ingressHost: 'validated',
  tlsClusterIssuer: 'validated',
  spreadAcrossZones: 'validated',
  secrets: 'validated',
  externalSecretStore: 'validated',
  apiImage: 'validated',
  api: 'validated',
  mariadb: 'validated',
  redis: 'validated',
  kafka: 'validated',
  monitoring: 'validated',
} as const satisfies Record<keyof Profile, Verdict>;
const PROFILE_API = {
  replicas: 'validated',
  resources: 'validated',
  autoscaling: 'validated',
  oidc: 'validated',
  allowAnonymousWrites: 'validated',
  trustedProxyCidrs: 'validated',
} as const satisfies Record<keyof Profile['api'], Verdict>;
const PROFILE_API_OIDC = {
  issuerUrl: 'validated',
  audience: 'validated',
  adminRole: 'validated',
  rolesClaim: 'validated',
  nameClaim: 'validated',
} as const satisfies Record<keyof NonNullable<Profile['api']['oidc']>, Verdict>;
const PROFILE_MARIADB = {
  replicas: 'validated',
  resources: 'validated',
  storageGiB: 'validated',
} as const satisfies Record<keyof Profile['mariadb'], Verdict>;
const PROFILE_REDIS = {
  resources: 'validated',
} as const satisfies Record<keyof Profile['redis'], Verdict>;
const PROFILE_KAFKA = {
  replicas: 'validated',
  resources: 'validated',
  storageGiB: 'validated',
} as const satisfies Record<keyof Profile['kafka'], Verdict>;
const PROFILE_MONITORING = {
  prometheusResources: 'validated',
  prometheusStorageGiB: 'validated',
  grafanaResources: 'validated',
  alertmanagerResources: 'validated',
} as const satisfies Record<keyof Profile['monitoring'], Verdict>;

const RESOURCE_PRESET_CUSTOM = {
  cpuMillis: 'validated',
  memoryMiB: 'validated',
  memoryLimitMiB: 'validated',
} as const satisfies Record<keyof Parameters<typeof ResourcePreset.custom>[0], Verdict>;

/* eslint-disable @typescript-eslint/no-explicit-any -- rows put deliberately wrong values into typed props */
type Props = Record<string, any>;

interface Row {
  /** Dotted path of the prop within the props object. */
  readonly prop: string;
  readonly bad: unknown;
  /** A valid value at the edge of the accepted range (or a typical one for formats). */
  readonly good: unknown;
  /** Text of the bad value as the message shows it, when not `String(bad)`. */
  readonly shows?: string;
  /** The owner the message starts with, when another construct checks the value. */
  readonly owner?: string;
  /** The prop name the message uses, when not the last segment of `prop`. */
  readonly names?: string;
  /** Other props set for this row (and its good value). */
  readonly with?: Props;
}

interface Subject {
  /** What the message starts with, e.g. `MemoApi`. */
  readonly owner: string;
  /** Key lists by prop prefix ('' for the top level). */
  readonly keys: Readonly<Record<string, Readonly<Record<string, Verdict>>>>;
  /** Where the top-level interface is declared, for the source comparison. */
  readonly source?: { readonly file: string; readonly iface: string };
  readonly base: Props;
  readonly build: (props: Props) => unknown;
  readonly rows: readonly Row[];
}

const chart = (): Construct => Testing.chart();
/** MemoApi props that turn sign-in on (the base has allowAnonymousWrites: true instead). */
const signIn = {
  allowAnonymousWrites: undefined,
  oidcIssuerUrl: 'https://login.example.com',
  oidcAudience: 'memo-api',
};
const upper = 'Bad_Name';
const preset = (memoryLimitMiB: number) =>
  ResourcePreset.custom({ cpuMillis: 10, memoryMiB: memoryLimitMiB, memoryLimitMiB });
const lookAlike = { name: 'small', cpuMillis: 100, memoryMiB: 128, memoryLimitMiB: 256 };

const database: IDatabaseEndpoint = {
  host: 'memo-mariadb',
  namespace: 'memo',
  port: 3306,
  podSelectorLabels: { app: 'db' },
  databaseName: 'memos',
  username: 'memo',
  passwordSecret: { secretName: 'memo-mariadb-credentials', key: 'password' },
  migrationUsername: 'memo_migrator',
  migrationPasswordSecret: { secretName: 'memo-mariadb-credentials', key: 'migration-password' },
};
const cache: ICacheEndpoint = {
  host: 'memo-redis',
  namespace: 'memo',
  port: 6379,
  podSelectorLabels: { app: 'cache' },
  passwordSecret: { secretName: 'memo-redis-credentials', key: 'password' },
};
const events: IEventsEndpoint = {
  host: 'memo-kafka-bootstrap',
  namespace: 'memo',
  port: 9092,
  podSelectorLabels: { app: 'kafka' },
  bootstrapServers: 'memo-kafka-bootstrap.memo.svc:9092',
  declaredTopics: () => undefined,
};

const contribution: IMonitoringContribution = {
  component: 'redis',
  podSelectorLabels: { 'app.kubernetes.io/name': 'redis' },
  namespace: 'memo',
  serviceName: 'memo-redis-headless',
  scrape: { portName: 'metrics', port: 9121 },
  alertRules: () => [],
  dashboardTitle: 'Redis',
  dashboardPanels: () => [],
};

/** Rows shared by every construct with these props. */
const common = {
  namespace: { prop: 'namespace', bad: 'Memo_NS', good: '0memo' },
  storageClassName: { prop: 'storageClassName', bad: 'fast ssd', good: 'ebs.csi.aws.com' },
  image: (good: string): Row[] => [
    { prop: 'image', bad: good.replace(/:.*/, ':latest'), good: `${good}@sha256:${'a'.repeat(64)}` },
    { prop: 'image', bad: good.replace(/:.*/, ''), good: `registry.local:5000/${good}` },
    { prop: 'image', bad: `${good.toUpperCase()}`, good },
    { prop: 'image', bad: `${good} `, good: `${good.replace(/:.*/, '')}@sha256:${'0'.repeat(64)}` },
  ],
};

const SUBJECTS: readonly Subject[] = [
  {
    owner: 'MemoApi',
    keys: {
      '': MEMO_API_PROPS,
      'autoscaling.': MEMO_API_AUTOSCALING,
      'database.': MEMO_API_DATABASE,
      'cache.': MEMO_API_CACHE,
      'events.': MEMO_API_EVENTS,
    },
    source: { file: 'charts/api/memo-api.ts', iface: 'MemoApiProps' },
    base: { database, cache, events, allowAnonymousWrites: true },
    build: (props) => new MemoApi(chart(), 'api', props as MemoApiProps),
    rows: [
      { prop: 'database', bad: undefined, good: database, shows: 'undefined' },
      { prop: 'database.host', bad: 'Memo DB', good: 'm'.repeat(63) },
      { prop: 'database.namespace', bad: 'a.b', good: 'other' },
      { prop: 'database.port', bad: 0, good: 65535 },
      { prop: 'database.passwordSecret.secretName', bad: 'db creds', good: 'db.creds' },
      { prop: 'database.passwordSecret.key', bad: 'pass word', good: 'pass_word.1' },
      { prop: 'database.migrationPasswordSecret.key', bad: 'ddl password', good: 'ddl.password' },
      { prop: 'database.migrationPasswordSecret.secretName', bad: 'Owner', good: 'owner' },
      { prop: 'database.migrationUsername', bad: 'memo', good: 'memo_owner' },
      { prop: 'database.migrationUsername', bad: '', good: 'm', shows: 'must be set, got ""' },
      { prop: 'database.databaseName', bad: 'memo-db', good: 'memo_db' },
      { prop: 'database.databaseName', bad: 'm'.repeat(65), good: 'm'.repeat(64) },
      { prop: 'database.username', bad: ' memo', good: 'memo app' },
      { prop: 'cache.host', bad: '-redis', good: 'r' },
      { prop: 'cache.namespace', bad: '', good: 'cache' },
      { prop: 'cache.port', bad: 65536, good: 1 },
      { prop: 'cache.passwordSecret.key', bad: 'a/b', good: 'a-b' },
      { prop: 'cache.passwordSecret.secretName', bad: 'Redis', good: 'redis' },
      { prop: 'events.host', bad: 'kafka.memo', good: 'kafka' },
      { prop: 'events.namespace', bad: 'x'.repeat(64), good: 'x'.repeat(63) },
      { prop: 'events.port', bad: 9092.5, good: 9092 },
      { prop: 'events.bootstrapServers', bad: 'kafka', good: 'k-0.k:9092,k-1.k:9092' },
      { prop: 'events.bootstrapServers', bad: 'kafka:0', good: 'kafka:65535' },
      common.namespace,
      { prop: 'name', bad: 'a'.repeat(51), good: 'a'.repeat(50) },
      { prop: 'name', bad: upper, good: 'api-1' },
      ...common.image('memo-api:0.1.0'),
      { prop: 'replicas', bad: 0, good: 1 },
      { prop: 'resources', bad: lookAlike, good: preset(1), shows: '"memoryLimitMiB":256' },
      {
        prop: 'autoscaling.minReplicas',
        bad: 0,
        good: 1,
        with: { autoscaling: { minReplicas: 1, maxReplicas: 3 } },
      },
      {
        prop: 'autoscaling.maxReplicas',
        bad: 1,
        good: 2,
        with: { autoscaling: { minReplicas: 2, maxReplicas: 3 } },
      },
      {
        prop: 'autoscaling.cpuUtilizationPercent',
        bad: 101,
        good: 100,
        with: { autoscaling: { minReplicas: 1, maxReplicas: 3 } },
      },
      {
        prop: 'autoscaling.memoryUtilizationPercent',
        bad: 0,
        good: 1,
        with: { autoscaling: { minReplicas: 1, maxReplicas: 3 } },
      },
      { prop: 'ingressClassName', bad: 'Nginx', good: 'nginx.ingress' },
      { prop: 'ingressControllerNamespace', bad: 'Ingress_Nginx', good: 'kube-system' },
      { prop: 'host', bad: 'https://memo.example.com', good: '*.example.com' },
      { prop: 'host', bad: '10.0.0.1', good: 'memo.example.com' },
      { prop: 'host', bad: 'memo.example.com:443', good: 'memo' },
      {
        prop: 'clusterIssuer',
        bad: 'Lets Encrypt',
        good: 'letsencrypt-prod',
        with: { host: 'm.example.com' },
      },
      {
        prop: 'clusterIssuer',
        bad: 'letsencrypt-prod',
        good: undefined,
        shows: 'letsencrypt-prod" needs a host',
      },
      {
        prop: 'tlsSecretName',
        bad: 'memo tls',
        good: 'memo.tls',
        with: { host: 'm.example.com', clusterIssuer: 'ca' },
      },
      {
        prop: 'tlsSecretName',
        bad: 'memo-tls',
        good: undefined,
        shows: "'memo-tls' is used only with a clusterIssuer",
      },
      { prop: 'logLevel', bad: 'verbose', good: 'error' },
      { prop: 'logLevel', bad: 'trace', good: 'debug' },
      { prop: 'dbPoolMax', bad: 0, good: 1 },
      { prop: 'dbPoolMax', bad: 1001, good: 1000 },
      {
        prop: 'dbPoolMax',
        bad: 8,
        good: 7,
        shows: '(dbPoolMax (8) + 1 readiness connection) x replicas (5)',
        with: { replicas: 5, database: { ...database, maxConnections: 50 } },
      },
      { prop: 'cacheTtlSeconds', bad: -1, good: 0 },
      { prop: 'cacheTtlSeconds', bad: 86_401, good: 86_400 },
      { prop: 'kafkaTopic', bad: 'memo events', good: 'memo.events_v2-x' },
      { prop: 'kafkaTopic', bad: '..', good: 'x'.repeat(249) },
      { prop: 'kafkaClientId', bad: 'memo api', good: 'memo-api.1' },
      { prop: 'rateLimitPerMinute', bad: -1, good: 0 },
      { prop: 'rateLimitPerMinute', bad: 1_000_001, good: 1_000_000 },
      { prop: 'rateLimitSearchPerMinute', bad: 1.5, good: 0 },
      {
        prop: 'trustedProxyCidrs',
        bad: ['10.0.0.0/33'],
        good: ['fd00::/8', '10.0.0.1'],
        shows: '10.0.0.0/33',
      },
      { prop: 'trustedProxyCidrs', bad: ['ingress-nginx'], good: [], shows: 'ingress-nginx' },
      { prop: 'dbStatementTimeoutMs', bad: 99, good: 100 },
      { prop: 'dbStatementTimeoutMs', bad: 600_001, good: 600_000 },
      { prop: 'cacheKeyPrefix', bad: 'two words', good: 'memo/ns-a/memo-api:v1' },
      {
        prop: 'corsOrigins',
        bad: ['memo.example.com'],
        good: ['*', 'http://localhost:5173'],
        shows: 'memo.example.com',
      },
      { prop: 'shutdownDelayMs', bad: 0.5, good: 0 },
      { prop: 'shutdownDelayMs', bad: 120_001, good: 120_000 },
      { prop: 'preStopDelaySeconds', bad: -5, good: 0 },
      { prop: 'drainSeconds', bad: 0, good: 1 },
      {
        prop: 'oidcIssuerUrl',
        bad: 'http://login.example.com',
        good: 'https://login.example.com/realms/memo',
        with: signIn,
      },
      {
        prop: 'oidcIssuerUrl',
        bad: 'https://login.example.com/?x=1',
        good: 'http://127.0.0.1:5556/dex',
        with: signIn,
      },
      {
        prop: 'oidcIssuerUrl',
        bad: undefined,
        good: 'https://login.example.com',
        shows: 'oidcAudience is used only with an oidcIssuerUrl',
        with: signIn,
      },
      {
        prop: 'oidcIssuerUrl',
        bad: `https://login.example.com/${'r'.repeat(230)}`,
        good: `https://login.example.com/${'r'.repeat(229)}`,
        shows: 'at most 255 characters, got 256',
        with: signIn,
      },
      {
        prop: 'oidcAudience',
        bad: ' memo-api',
        good: 'api://0f3c memo',
        shows: 'got " memo-api", which the service reads as "memo-api"',
        with: signIn,
      },
      { prop: 'oidcAudience', bad: undefined, good: 'x'.repeat(255), shows: 'undefined', with: signIn },
      { prop: 'oidcAudience', bad: 'memo-api', good: undefined, shows: '"memo-api"' },
      { prop: 'oidcRolesClaim', bad: 'realm roles', good: 'realm_access.roles' },
      { prop: 'oidcNameClaim', bad: 'name"', good: 'https://example.com/name' },
      { prop: 'oidcAdminRole', bad: ' memo-admin', good: 'memo admin', with: signIn },
      { prop: 'oidcAdminRole', bad: 'memo-admin', good: undefined, shows: '"memo-admin"' },
      { prop: 'authRequiredForReads', bad: true, good: false },
      {
        prop: 'oidcEgressCidrs',
        bad: ['10.0.0.0/33'],
        good: ['10.20.0.0/16', '2001:db8::/32'],
        shows: '10.0.0.0/33',
        with: signIn,
      },
      { prop: 'oidcEgressCidrs', bad: [], good: ['0.0.0.0/0'], shows: '[]', with: signIn },
      { prop: 'oidcEgressCidrs', bad: ['10.0.0.0/8'], good: undefined, shows: '["10.0.0.0/8"]' },
      {
        prop: 'allowAnonymousWrites',
        bad: true,
        good: undefined,
        shows: 'true',
        with: { oidcIssuerUrl: 'https://login.example.com', oidcAudience: 'memo-api' },
      },
      { prop: 'allowAnonymousWrites', bad: false, good: true, shows: 'allowAnonymousWrites false' },
    ],
  },
  {
    owner: 'MariaDbStatefulSet',
    keys: { '': MARIADB_PROPS },
    source: { file: 'charts/mariadb/mariadb-stateful-set.ts', iface: 'MariaDbStatefulSetProps' },
    base: {},
    build: (props) => new MariaDbStatefulSet(chart(), 'db', props),
    rows: [
      { prop: 'name', bad: 'a'.repeat(53), good: 'a'.repeat(52) },
      { prop: 'name', bad: '1db', good: 'db1' },
      common.namespace,
      ...common.image('mariadb:10.11.19'),
      { prop: 'replicas', bad: 10, good: 9 },
      { prop: 'replicas', bad: 0, good: 1 },
      { prop: 'resources', bad: preset(63), good: preset(64), shows: 'got 63 MiB' },
      { prop: 'resources', bad: lookAlike, good: ResourcePreset.NANO, shows: '"memoryLimitMiB":256' },
      { prop: 'storageGiB', bad: 0, good: 1 },
      { prop: 'storageGiB', bad: 2.5, good: 3 },
      common.storageClassName,
      { prop: 'databaseName', bad: 'memo-db', good: 'a'.repeat(32) },
      { prop: 'databaseName', bad: 'a'.repeat(33), good: 'memo_db' },
      { prop: 'username', bad: '1user', good: 'u' },
      { prop: 'username', bad: 'root', good: 'app' },
      { prop: 'migrationUsername', bad: 'memo', good: 'memo_owner' },
      { prop: 'migrationUsername', bad: 'healthcheck', good: 'm' },
      { prop: 'migrationUsername', bad: 'memo-owner', good: 'a'.repeat(32) },
      { prop: 'existingSecretName', bad: 'DB-creds', good: 'db.creds' },
      { prop: 'maxConnections', bad: 9, good: 10 },
      { prop: 'maxConnections', bad: 100_001, good: 100_000 },
      { prop: 'backupSchedule', bad: 'nightly', good: '@daily' },
      { prop: 'backupSchedule', bad: '0 24 * * *', good: '59 23 31 12 7' },
      { prop: 'backupSchedule', bad: '*/0 * * * *', good: '*/15 1-5 * JAN-MAR MON,FRI' },
      { prop: 'backupSchedule', bad: 'CRON_TZ=UTC 0 3 * * *', good: '0 3 * * *' },
      { prop: 'backupSchedule', bad: '0 3 * * *; rm', good: '0 3 * * ?', with: { backupEnabled: false } },
      { prop: 'backupRetention', bad: 1001, good: 1000 },
      { prop: 'backupStorageGiB', bad: 0, good: 1 },
      { prop: 'clusterDomain', bad: 'cluster.local; reboot', good: 'k8s.example.internal' },
    ],
  },
  {
    owner: 'RedisCache',
    keys: { '': REDIS_PROPS },
    source: { file: 'charts/redis/redis-cache.ts', iface: 'RedisCacheProps' },
    base: {},
    build: (props) => new RedisCache(chart(), 'redis', props),
    rows: [
      { prop: 'name', bad: 'a'.repeat(53), good: 'a'.repeat(52) },
      common.namespace,
      ...common.image('redis:7.4.6'),
      { prop: 'resources', bad: preset(15), good: preset(16), shows: 'got 15 MiB' },
      { prop: 'resources', bad: lookAlike, good: ResourcePreset.NANO, shows: '"memoryLimitMiB":256' },
      { prop: 'maxMemoryMiB', bad: 128, good: 127 },
      { prop: 'maxMemoryMiB', bad: 0, good: 1 },
      { prop: 'maxMemoryPolicy', bad: 'lru', good: 'noeviction' },
      { prop: 'storageGiB', bad: 0, good: 1, with: { appendOnly: true } },
      { prop: 'storageGiB', bad: 1, good: undefined, shows: 'only with appendOnly: true' },
      { ...common.storageClassName, with: { appendOnly: true } },
      { prop: 'storageClassName', bad: 'standard', good: undefined, shows: 'only with appendOnly: true' },
      { prop: 'existingSecretName', bad: 'redis creds', good: 'redis.creds' },
      { prop: 'disabledCommands', bad: ['FLUSH ALL'], good: [], shows: 'FLUSH ALL' },
      { prop: 'disabledCommands', bad: ['ping'], good: ['flushall'], shows: 'PING' },
      { prop: 'disabledCommands', bad: ['KEYS', 'keys'], good: ['KEYS', 'SCAN'], shows: 'KEYS' },
      { prop: 'disabledCommands', bad: ['CONFIG|GET'], good: ['CONFIG'], shows: 'CONFIG|GET' },
      { prop: 'maxClients', bad: 0, good: 1 },
      { prop: 'maxClients', bad: 100_001, good: 100_000 },
    ],
  },
  {
    owner: 'KafkaCluster',
    keys: { '': KAFKA_PROPS },
    source: { file: 'charts/kafka/kafka-cluster.ts', iface: 'KafkaClusterProps' },
    base: {},
    build: (props) => new KafkaCluster(chart(), 'kafka', props),
    rows: [
      { prop: 'name', bad: 'a'.repeat(53), good: 'a'.repeat(52) },
      common.namespace,
      ...common.image('apache/kafka:3.9.1'),
      { prop: 'replicas', bad: 2, good: 3 },
      { prop: 'replicas', bad: 11, good: 9 },
      { prop: 'replicas', bad: 0, good: 1 },
      { prop: 'resources', bad: ResourcePreset.MICRO, good: preset(256), shows: 'got 128 MiB' },
      { prop: 'resources', bad: lookAlike, good: ResourcePreset.MEDIUM, shows: '"memoryLimitMiB":256' },
      { prop: 'storageGiB', bad: -5, good: 1 },
      common.storageClassName,
      { prop: 'clusterId', bad: 'abc', good: 'A'.repeat(22) },
      { prop: 'clusterDomain', bad: 'cluster.local"', good: 'cluster.local' },
      { prop: 'logRetentionHours', bad: 0, good: 2_147_483_647 },
    ],
  },
  {
    owner: 'KafkaCluster.addTopic',
    keys: { '': KAFKA_TOPIC_OPTIONS },
    base: { name: 'memo_events', partitions: 1 },
    build: ({ name, ...options }) =>
      new KafkaCluster(chart(), 'kafka', { replicas: 3 }).addTopic(name, options as KafkaTopicOptions),
    rows: [
      { prop: 'name', bad: 'memo events', good: 'a'.repeat(249) },
      { prop: 'name', bad: '..', good: '...' },
      { prop: 'partitions', bad: 0, good: 1 },
      { prop: 'partitions', bad: 10_001, good: 10_000 },
      { prop: 'replicationFactor', bad: 4, good: 3 },
      {
        prop: 'replicationFactor',
        bad: 1,
        good: 2,
        shows:
          "topic 'memo_events' (the cluster default) must be an integer between 1 and its replicationFactor (1), got 2",
      },
      {
        prop: 'config',
        bad: { 'retention ms': '1' },
        good: { 'retention.ms': '1' },
        shows: 'retention ms=1',
      },
      {
        prop: 'config',
        bad: { 'cleanup.policy': "x' ; rm" },
        good: { 'cleanup.policy': 'compact' },
        shows: "x' ; rm",
      },
      {
        prop: 'config',
        bad: { 'min.insync.replicas': '4' },
        good: { 'min.insync.replicas': '3' },
        shows:
          "config['min.insync.replicas']) must be an integer between 1 and its replicationFactor (3), got 4",
      },
    ],
  },
  {
    owner: 'MonitoringStack',
    keys: { '': MONITORING_PROPS },
    source: { file: 'charts/monitoring/monitoring-stack.ts', iface: 'MonitoringStackProps' },
    base: {},
    build: (props) => new MonitoringStack(chart(), 'monitoring', props),
    rows: [
      {
        prop: 'mode',
        bad: { kind: 'operator' },
        good: MonitoringMode.operator(),
        shows: '{"kind":"operator"}',
      },
      common.namespace,
      { prop: 'namePrefix', bad: 'a'.repeat(33), good: 'a'.repeat(32) },
      ...common.image('prom/prometheus:v2.55.1').map((r) => ({ ...r, prop: 'prometheusImage' })),
      { prop: 'alertmanagerImage', bad: 'prom/alertmanager', good: 'prom/alertmanager:v0.28.0' },
      { prop: 'grafanaImage', bad: 'grafana/grafana:latest', good: 'grafana/grafana:11.3.1' },
      {
        prop: 'prometheusResources',
        bad: lookAlike,
        good: ResourcePreset.NANO,
        shows: '"memoryLimitMiB":256',
      },
      {
        prop: 'alertmanagerResources',
        bad: lookAlike,
        good: ResourcePreset.NANO,
        shows: '"memoryLimitMiB":256',
      },
      { prop: 'grafanaResources', bad: lookAlike, good: ResourcePreset.NANO, shows: '"memoryLimitMiB":256' },
      { prop: 'prometheusStorageGiB', bad: 0, good: 1 },
      common.storageClassName,
      { prop: 'retention', bad: '15 days', good: '1y2w3d4h5m6s7ms' },
      { prop: 'retention', bad: '1s1d', good: '90d' },
      { prop: 'scrapeInterval', bad: '30', good: '1s' },
      { prop: 'scrapeInterval', bad: '0s', good: '500ms' },
      { prop: 'alertWebhookUrl', bad: 'slack', good: 'https://hooks.example.com:8443/x' },
      { prop: 'alertWebhookUrl', bad: 'http://[oops', good: 'http://alerts.memo.svc:8080/' },
      {
        prop: 'alertWebhookUrl',
        bad: 'https://bot:s3cret@hooks.example.com/x',
        good: 'https://hooks.example.com/x',
        shows: 'https://***@hooks.example.com/x',
      },
      { prop: 'grafanaAdminSecretName', bad: 'Grafana', good: 'grafana.admin' },
    ],
  },
  {
    owner: 'MonitoringMode.operator',
    keys: { '': OPERATOR_MODE_OPTIONS },
    base: {},
    build: (options) => MonitoringMode.operator(options),
    rows: [
      { prop: 'release', bad: 'Bad Release', good: 'kps.v1' },
      { prop: 'prometheusNamespace', bad: 'Monitoring', good: 'monitoring' },
      {
        prop: 'prometheusPodSelectorLabels',
        bad: { app: 'prom etheus' },
        good: { 'example.com/app': 'prometheus' },
        shows: 'prom etheus',
      },
      { prop: 'prometheusPodSelectorLabels', bad: {}, good: { a: '' }, shows: 'got {}' },
      { prop: 'datasourceUid', bad: 'a'.repeat(41), good: 'a'.repeat(40) },
    ],
  },
  {
    owner: 'MonitoringStack.monitor',
    keys: { '': MONITORED_CONTRIBUTION },
    base: contribution,
    build: (monitoring) =>
      new MonitoringStack(chart(), 'monitoring').monitor({
        monitoring: monitoring as IMonitoringContribution,
      }),
    rows: [
      { prop: 'component', bad: 'Redis', good: 'r'.repeat(40) },
      { prop: 'podSelectorLabels', bad: { 'bad key!': 'x' }, good: { k: 'v' }, shows: 'bad key!' },
      { prop: 'namespace', bad: 'other', good: 'memo', shows: 'namespace "other"' },
      { prop: 'serviceName', bad: 'Redis', good: 'redis' },
      { prop: 'scrape.port', bad: 0, good: 65535 },
    ],
  },
  {
    owner: 'MemoStack',
    keys: { '': MEMO_STACK_PROPS },
    source: { file: 'charts/memo-stack.ts', iface: 'MemoStackProps' },
    base: { profile: KIND },
    build: (props) => new MemoStack(Testing.app(), 'memo', props as MemoStackProps),
    rows: [
      {
        prop: 'profile',
        bad: { ...KIND, name: '../kind' },
        good: KIND,
        owner: "Profile '../kind'",
        names: 'name',
        shows: '../kind',
      },
      { prop: 'apiImage', bad: 'memo-api', good: 'memo-api:0.2.0' },
      {
        prop: 'monitoringMode',
        bad: 'operator',
        good: MonitoringMode.operator(),
        owner: 'MonitoringStack',
        names: 'mode',
      },
      { prop: 'eventPartitions', bad: 0, good: 10_000 },
      { prop: 'guardRails.headroomPercent', bad: 2.5, good: 0, owner: 'NamespaceGuardRails' },
    ],
  },
  {
    owner: 'NamespaceGuardRails',
    keys: { '': GUARD_RAILS_PROPS },
    source: { file: 'charts/namespace-guard-rails.ts', iface: 'NamespaceGuardRailsProps' },
    base: {},
    build: (props) => new NamespaceGuardRails(chart(), 'guard-rails', props),
    rows: [
      common.namespace,
      { prop: 'namePrefix', bad: 'a'.repeat(57), good: 'a'.repeat(56) },
      { prop: 'namePrefix', bad: 'Memo', good: 'memo-2' },
      { prop: 'headroomPercent', bad: -1, good: 0 },
      { prop: 'headroomPercent', bad: 1001, good: 1000 },
      {
        prop: 'containerDefaults',
        bad: lookAlike,
        good: ResourcePreset.NANO,
        shows: '"memoryLimitMiB":256',
      },
      { prop: 'maxContainerMemoryMiB', bad: 127, good: 128 },
      { prop: 'maxContainerMemoryMiB', bad: 64.5, good: 16 * 1024 * 1024 },
    ],
  },
  {
    owner: "Profile 'kind'",
    keys: {
      '': PROFILE,
      'api.': PROFILE_API,
      'api.oidc.': PROFILE_API_OIDC,
      'mariadb.': PROFILE_MARIADB,
      'redis.': PROFILE_REDIS,
      'kafka.': PROFILE_KAFKA,
      'monitoring.': PROFILE_MONITORING,
    },
    source: { file: 'charts/profiles.ts', iface: 'Profile' },
    base: KIND,
    build: (profile) => new MemoStack(Testing.app(), 'memo', { profile: profile as Profile }),
    rows: [
      { prop: 'name', bad: 'Kind', good: 'kind', owner: "Profile 'Kind'" },
      { prop: 'namespace', bad: 'memo_ns', good: 'memo-2' },
      { prop: 'storageClassName', bad: 'local_path', good: 'local-path' },
      { prop: 'ingressClassName', bad: 'nginx class', good: 'nginx' },
      { prop: 'ingressControllerNamespace', bad: 'ingress_nginx', good: 'kube-system' },
      { prop: 'ingressHost', bad: 'memo.example.com/', good: 'memo.example.com' },
      {
        prop: 'tlsClusterIssuer',
        bad: 'letsencrypt',
        good: undefined,
        shows: "'letsencrypt' needs an ingressHost",
        with: { ingressHost: undefined },
      },
      { prop: 'tlsClusterIssuer', bad: 'Lets', good: 'lets', with: { ingressHost: 'memo.example.com' } },
      { prop: 'spreadAcrossZones', bad: 'yes', good: true },
      { prop: 'secrets', bad: 'vault', good: 'existing' },
      { prop: 'externalSecretStore', bad: 'vault', good: undefined, shows: "secrets 'local-generated'" },
      { prop: 'externalSecretStore', bad: 'Vault', good: 'vault', with: { secrets: 'existing' } },
      { prop: 'apiImage', bad: 'memo-api:latest', good: 'registry.example.com/memo-api:1.0.0' },
      { prop: 'api.replicas', bad: 0, good: 1, owner: 'MemoApi' },
      {
        prop: 'api.trustedProxyCidrs',
        bad: ['10.244.0.0/16', 'pods'],
        good: ['10.244.0.0/16'],
        owner: 'MemoApi',
        shows: 'pods',
      },
      {
        prop: 'api.resources',
        bad: lookAlike,
        good: ResourcePreset.NANO,
        owner: 'MemoApi',
        shows: '"memoryLimitMiB":256',
      },
      {
        prop: 'api.autoscaling.maxReplicas',
        bad: 11,
        good: 10,
        owner: 'MemoApi',
        shows: '(dbPoolMax (10) + 1 readiness connection) x autoscaling.maxReplicas (11)',
        with: { api: { ...KIND.api, autoscaling: { ...CLOUD.api.autoscaling } } },
      },
      {
        prop: 'api.allowAnonymousWrites',
        bad: false,
        good: true,
        owner: 'MemoApi',
        shows: 'allowAnonymousWrites false',
      },
      {
        prop: 'api.oidc',
        bad: { issuerUrl: 'https://login.example.com', audience: 'memo-api' },
        good: undefined,
        owner: 'MemoApi',
        names: 'allowAnonymousWrites',
        shows: "oidcIssuerUrl 'https://login.example.com'",
      },
      {
        prop: 'api.oidc.issuerUrl',
        bad: 'login.example.com',
        good: 'https://login.example.com',
        owner: 'MemoApi',
        names: 'oidcIssuerUrl',
        with: { api: { ...KIND.api, allowAnonymousWrites: undefined, oidc: CLOUD.api.oidc } },
      },
      {
        prop: 'api.oidc.audience',
        bad: '',
        good: 'memo',
        owner: 'MemoApi',
        names: 'oidcAudience',
        shows: 'got ""',
        with: { api: { ...KIND.api, allowAnonymousWrites: undefined, oidc: CLOUD.api.oidc } },
      },
      {
        prop: 'api.oidc.adminRole',
        bad: 'memo\tadmin',
        good: 'memo-admin',
        owner: 'MemoApi',
        names: 'oidcAdminRole',
        shows: '"memo\\tadmin"',
        with: { api: { ...KIND.api, allowAnonymousWrites: undefined, oidc: CLOUD.api.oidc } },
      },
      {
        prop: 'api.oidc.rolesClaim',
        bad: 'realm roles',
        good: 'roles',
        owner: 'MemoApi',
        names: 'oidcRolesClaim',
        with: { api: { ...KIND.api, allowAnonymousWrites: undefined, oidc: CLOUD.api.oidc } },
      },
      {
        prop: 'api.oidc.nameClaim',
        bad: 'full name',
        good: 'nickname',
        owner: 'MemoApi',
        names: 'oidcNameClaim',
        with: { api: { ...KIND.api, allowAnonymousWrites: undefined, oidc: CLOUD.api.oidc } },
      },
      { prop: 'mariadb.replicas', bad: 10, good: 9, owner: 'MariaDbStatefulSet' },
      {
        prop: 'mariadb.resources',
        bad: preset(32),
        good: preset(64),
        owner: 'MariaDbStatefulSet',
        shows: 'got 32 MiB',
      },
      { prop: 'mariadb.storageGiB', bad: 0, good: 1, owner: 'MariaDbStatefulSet' },
      { prop: 'redis.resources', bad: preset(8), good: preset(16), owner: 'RedisCache', shows: 'got 8 MiB' },
      { prop: 'kafka.replicas', bad: 2, good: 3, owner: 'KafkaCluster' },
      {
        prop: 'kafka.resources',
        bad: ResourcePreset.MICRO,
        good: preset(256),
        owner: 'KafkaCluster',
        shows: 'got 128 MiB',
      },
      { prop: 'kafka.storageGiB', bad: 0.5, good: 1, owner: 'KafkaCluster' },
      {
        prop: 'monitoring.prometheusResources',
        bad: lookAlike,
        good: ResourcePreset.NANO,
        owner: 'MonitoringStack',
        shows: '"memoryLimitMiB":256',
      },
      { prop: 'monitoring.prometheusStorageGiB', bad: 0, good: 1, owner: 'MonitoringStack' },
      {
        prop: 'monitoring.grafanaResources',
        bad: lookAlike,
        good: ResourcePreset.NANO,
        owner: 'MonitoringStack',
        shows: '"memoryLimitMiB":256',
      },
      {
        prop: 'monitoring.alertmanagerResources',
        bad: lookAlike,
        good: ResourcePreset.NANO,
        owner: 'MonitoringStack',
        shows: '"memoryLimitMiB":256',
      },
    ],
  },
  {
    owner: 'ResourcePreset.custom',
    keys: { '': RESOURCE_PRESET_CUSTOM },
    base: { cpuMillis: 100, memoryMiB: 128, memoryLimitMiB: 256 },
    build: (props) => ResourcePreset.custom(props as Parameters<typeof ResourcePreset.custom>[0]),
    rows: [
      { prop: 'cpuMillis', bad: 0, good: 1 },
      { prop: 'memoryMiB', bad: 1.5, good: 1 },
      { prop: 'memoryLimitMiB', bad: 127, good: 128 },
    ],
  },
];

/** `props` with the value at `dotted` replaced, copying (not mutating) every object on the way. */
function withValue(props: Props, dotted: string, value: unknown): Props {
  const [head, ...rest] = dotted.split('.');
  const copy: Props = { ...props };
  copy[head] = rest.length === 0 ? value : withValue((props[head] ?? {}) as Props, rest.join('.'), value);
  return copy;
}

function propsFor(subject: Subject, row: Row, value: unknown): Props {
  const base = Object.entries(row.with ?? {}).reduce((p, [k, v]) => withValue(p, k, v), subject.base);
  return withValue(base, row.prop, value);
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function thrownBy(action: () => unknown): Error | undefined {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

describe.each(SUBJECTS.map((s) => [s.owner, s] as const))('%s props', (_owner, subject) => {
  const label = (row: Row): string =>
    `${row.prop} = ${typeof row.bad === 'string' ? `'${row.bad}'` : (JSON.stringify(row.bad) ?? 'undefined')}`;

  test.each(subject.rows.map((row) => [label(row), row] as const))(
    'when given %s, then the error names the owner, the prop and the value',
    (_label, row) => {
      const error = thrownBy(() => subject.build(propsFor(subject, row, row.bad)));
      expect(error).toBeInstanceOf(Error);
      const message = error?.message ?? '';
      const owner = row.owner ?? subject.owner;
      const leaf = row.names ?? (row.prop.split('.').pop() as string);
      expect(message).toMatch(new RegExp(`^${escape(owner)}: `));
      expect(message).toMatch(new RegExp(`\\b${escape(leaf)}\\b`));
      const shown = row.shows ?? (typeof row.bad === 'object' ? JSON.stringify(row.bad) : String(row.bad));
      expect(message).toContain(shown);
    },
  );

  test.each(subject.rows.map((row) => [label(row), row] as const))(
    'when %s is replaced by its boundary value, then construction succeeds',
    (_label, row) => {
      expect(thrownBy(() => subject.build(propsFor(subject, row, row.good)))).toBeUndefined();
    },
  );

  test('when the key lists are read, then every validated prop has a row and every row names a listed prop', () => {
    const listed = Object.entries(subject.keys).flatMap(([prefix, keys]) =>
      Object.entries(keys).map(([key, verdict]) => ({ path: `${prefix}${key}`, verdict })),
    );
    const rowProps = subject.rows.map((r) => r.prop);
    const covered = (p: string) => rowProps.some((r) => r === p || r.startsWith(`${p}.`));
    const missing = listed.filter((l) => l.verdict === 'validated' && !covered(l.path)).map((l) => l.path);
    expect(missing).toEqual([]);
    const unknown = rowProps.filter((r) => !listed.some((l) => r === l.path || r.startsWith(`${l.path}.`)));
    expect(unknown).toEqual([]);
  });

  if (subject.source !== undefined) {
    const { file, iface } = subject.source;
    test(`when ${iface} in ${file} is read, then the key list holds exactly its props`, () => {
      expect(Object.keys(subject.keys['']).sort()).toEqual(interfaceProps(file, iface).sort());
    });
  }
});

/** The top-level `readonly x` members of an exported interface, and of the one it extends in the same file, read from the source. */
function interfaceProps(file: string, iface: string): string[] {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', file), 'utf8');
  const header = new RegExp(`export interface ${iface}(?: extends (\\w+))? \\{`).exec(text);
  expect(header).not.toBeNull();
  const start = header?.index ?? -1;
  const names: string[] = header?.[1] === undefined ? [] : interfaceProps(file, header[1]);
  let depth = 0;
  for (const line of text.slice(start).split('\n')) {
    const opened = (line.match(/\{/g) ?? []).length;
    const closed = (line.match(/\}/g) ?? []).length;
    const member = depth === 1 ? /^\s*readonly (\w+)\??:/.exec(line) : null;
    if (member !== null) names.push(member[1]);
    depth += opened - closed;
    if (depth === 0 && opened + closed > 0) break;
  }
  return names;
}

describe('MemoApi kafkaTopic against the topics its KafkaCluster declares', () => {
  /** A stack wired by hand, so the topic and the order of addTopic can vary. */
  function wired(kafkaTopic: string | undefined, topicsBefore: string[], topicsAfter: string[] = []) {
    const app = Testing.app();
    const scope = new Chart(app, 'wired');
    const db = new MariaDbStatefulSet(scope, 'db', {});
    const redis = new RedisCache(scope, 'redis', {});
    const kafka = new KafkaCluster(scope, 'kafka', {});
    for (const topic of topicsBefore) kafka.addTopic(topic, { partitions: 1 });
    new MemoApi(scope, 'api', {
      database: db,
      cache: redis,
      events: kafka,
      kafkaTopic,
      allowAnonymousWrites: true,
    });
    for (const topic of topicsAfter) kafka.addTopic(topic, { partitions: 1 });
    return app;
  }

  test('when the topic is not declared, then synth fails naming MemoApi, kafkaTopic, the value and the declared topics', () => {
    const error = thrownBy(() => wired('memo_audit', ['memo_events']).synthYaml());
    expect(error?.message).toMatch(
      /\[wired\/api\] MemoApi: kafkaTopic must be a topic the events cluster declares .*declared: memo_events\), got 'memo_audit'/,
    );
  });

  test('when the cluster declares no topic at all, then synth fails and says so', () => {
    expect(thrownBy(() => wired(undefined, []).synthYaml())?.message).toMatch(
      /declared: none\), got 'memo_events'/,
    );
  });

  test('when the topic is added after the MemoApi is built, then synth succeeds', () => {
    expect(thrownBy(() => wired('memo_audit', [], ['memo_audit']).synthYaml())).toBeUndefined();
  });

  test('when the events endpoint cannot tell its topics (a cluster managed elsewhere), then no check is made', () => {
    const app = Testing.app();
    const scope = new Chart(app, 'external');
    new MemoApi(scope, 'api', {
      database,
      cache,
      events,
      kafkaTopic: 'anything',
      allowAnonymousWrites: true,
    });
    expect(thrownBy(() => app.synthYaml())).toBeUndefined();
  });
});
