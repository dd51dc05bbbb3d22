/**
 * A chart of your own: the backing constructs of memostack, wired with typed endpoints, in your
 * namespace and with your names.
 */
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  Connections,
  KafkaCluster,
  MariaDbStatefulSet,
  MemoApi,
  MonitoringStack,
  RedisCache,
  ResourcePreset,
} from 'memostack';

export function buildShop(scope: Construct): Chart {
  const chart = new Chart(scope, 'shop', { namespace: 'shop', disableResourceNameHashes: true });
  Connections.defaultDeny(chart, 'deny', 'shop');

  const db = new MariaDbStatefulSet(chart, 'db', { name: 'shop-db', databaseName: 'shop', storageGiB: 20 });
  const cache = new RedisCache(chart, 'cache', { name: 'shop-cache', resources: ResourcePreset.SMALL });
  const events = new KafkaCluster(chart, 'events', { name: 'shop-kafka', replicas: 3 });
  events.addTopic('shop_memos', { partitions: 12 });

  // Typed wiring: env, secretKeyRefs and NetworkPolicies for exactly these flows.
  const api = new MemoApi(chart, 'api', {
    database: db,
    cache,
    events,
    kafkaTopic: 'shop_memos',
    image: 'memo-api:0.1.0',
    // Writes need a token from this issuer; or allowAnonymousWrites: true.
    oidcIssuerUrl: 'https://login.shop.example/realms/shop',
    oidcAudience: 'memo-api',
    oidcAdminRole: 'memo-admin',
  });

  const monitoring = new MonitoringStack(chart, 'monitoring');
  for (const component of [db, cache, events, api]) monitoring.monitor(component);
  return chart;
}
