/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { Chart, Testing } from 'cdk8s';
import { MemoApi } from '../../charts/api/memo-api';
import { Connections, NetworkPeer } from '../../charts/connections';
import { KafkaCluster } from '../../charts/kafka/kafka-cluster';
import { MariaDbStatefulSet } from '../../charts/mariadb/mariadb-stateful-set';
import { RedisCache } from '../../charts/redis/redis-cache';
import { canConnect, podNamed, PodRef } from './network-reach';

/**
 * A MemoApi wired to services this chart does not make (a database team's MariaDB, a shared
 * Redis and Kafka in namespace `platform`), referenced with the `fromExisting...()` statics that
 * every jsii language has, and a peer named with `NetworkPeer.fromLabels`.
 */
/** The platform team's services, as this chart references them; `topics` is what its Kafka declares. */
function platformServices(topics: string[]) {
  const labels = (name: string): Record<string, string> => ({ 'app.kubernetes.io/name': name });
  return {
    database: MariaDbStatefulSet.fromExistingDatabase({
      host: 'orders-db',
      namespace: 'platform',
      port: 3306,
      podSelectorLabels: labels('orders-db'),
      databaseName: 'orders',
      username: 'orders_app',
      passwordSecret: { secretName: 'orders-db', key: 'app-password' },
      migrationUsername: 'orders_owner',
      migrationPasswordSecret: { secretName: 'orders-db', key: 'owner-password' },
    }),
    cache: RedisCache.fromExistingCache({
      host: 'cache',
      namespace: 'platform',
      port: 6379,
      podSelectorLabels: labels('cache'),
      passwordSecret: { secretName: 'cache', key: 'password' },
    }),
    events: KafkaCluster.fromExistingCluster({
      host: 'kafka',
      namespace: 'platform',
      port: 9092,
      podSelectorLabels: labels('kafka'),
      bootstrapServers: 'kafka.platform.svc:9092',
      declaredTopics: topics,
    }),
  };
}

function build(): { api: MemoApi; manifests: any[] } {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop', disableResourceNameHashes: true });
  Connections.defaultDeny(chart, 'deny', 'shop');
  const api = new MemoApi(chart, 'api', { ...platformServices(['memo_events']), allowAnonymousWrites: true });
  api.allowHttpFrom(NetworkPeer.fromLabels('shop', { 'app.kubernetes.io/name': 'storefront' }));
  return { api, manifests: Testing.synth(chart) };
}

const outside = (namespace: string, name: string, port: number): PodRef => ({
  description: `Pod/${name}`,
  namespace,
  labels: { 'app.kubernetes.io/name': name },
  ports: [{ containerPort: port }],
});

describe('MemoApi wired to services made elsewhere', () => {
  const { api, manifests } = build();
  const apiPod = podNamed(manifests, 'Deployment', api.name);

  test('when the services come from fromExisting...(), then the API is configured with their hosts and Secrets', () => {
    expect(api.environment).toMatchObject({
      DB_HOST: 'orders-db.platform.svc',
      DB_NAME: 'orders',
      DB_USER: 'orders_app',
      REDIS_HOST: 'cache.platform.svc',
      KAFKA_BROKERS: 'kafka.platform.svc:9092',
    });
    expect(api.secretEnvironment.DB_PASSWORD).toEqual({ secretName: 'orders-db', key: 'app-password' });
    expect(api.secretEnvironment.REDIS_PASSWORD).toEqual({ secretName: 'cache', key: 'password' });
  });

  test('when the services live in another namespace, then the API may reach exactly their ports there', () => {
    expect(canConnect(manifests, apiPod, outside('platform', 'orders-db', 3306), 3306).egress).toMatch(
      /^allowed/,
    );
    expect(canConnect(manifests, apiPod, outside('platform', 'cache', 6379), 6379).egress).toMatch(
      /^allowed/,
    );
    expect(canConnect(manifests, apiPod, outside('platform', 'kafka', 9092), 9092).egress).toMatch(
      /^allowed/,
    );
    expect(canConnect(manifests, apiPod, outside('platform', 'orders-db', 3307), 3307).egress).toMatch(
      /^denied/,
    );
    expect(canConnect(manifests, apiPod, outside('elsewhere', 'orders-db', 3306), 3306).egress).toMatch(
      /^denied/,
    );
  });

  test('when a peer is named with NetworkPeer.fromLabels, then it reaches the HTTP port and nothing else does', () => {
    const storefront = outside('shop', 'storefront', 8080);
    expect(canConnect(manifests, storefront, apiPod, api.containerPort).ingress).toMatch(/^allowed/);
    expect(canConnect(manifests, storefront, apiPod, api.metricsPort).ingress).toMatch(/^denied/);
    expect(canConnect(manifests, outside('shop', 'other', 8080), apiPod, api.containerPort).ingress).toMatch(
      /^denied/,
    );
  });

  test('when the events cluster declares its topics, then a topic it lacks is refused at synth', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new MemoApi(chart, 'api', { ...platformServices(['orders']), allowAnonymousWrites: true });
    expect(() => Testing.synth(chart)).toThrow(/kafkaTopic must be a topic the events cluster declares/);
  });
});
