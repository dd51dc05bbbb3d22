/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { IntOrString, KubeDeployment, Quantity } from '../../imports/k8s';
import { Connections } from '../../charts/connections';
import { KafkaCluster } from '../../charts/kafka/kafka-cluster';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../../charts/pod-security';
import { RedisCache } from '../../charts/redis/redis-cache';

/**
 * Another team's chart: its own app (a plain Deployment, not a MemoApi) wired to a RedisCache
 * and a KafkaCluster using nothing but the fields those constructs expose.
 */
class NotificationsChart extends Chart {
  public readonly redis: RedisCache;
  public readonly kafka: KafkaCluster;
  public readonly connections: Connections;

  public constructor(scope: Construct, id: string) {
    super(scope, id, { disableResourceNameHashes: true });
    const namespace = 'notifications';
    this.redis = new RedisCache(this, 'redis', { namespace, name: 'notify-redis' });
    this.kafka = new KafkaCluster(this, 'kafka', { namespace, name: 'notify-kafka' });

    const labels = { 'app.kubernetes.io/name': 'notifier', 'app.kubernetes.io/instance': 'notifier' };
    new KubeDeployment(this, 'notifier', {
      metadata: { name: 'notifier', namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext({ uid: 1000, gid: 1000 }),
            containers: [
              {
                name: 'notifier',
                image: 'notifier:1.2.3',
                imagePullPolicy: 'IfNotPresent',
                env: [
                  { name: 'REDIS_URL', value: `redis://${this.redis.host}:${this.redis.port}` },
                  {
                    name: 'REDIS_PASSWORD',
                    valueFrom: {
                      secretKeyRef: {
                        name: this.redis.passwordSecret.secretName,
                        key: this.redis.passwordSecret.key,
                      },
                    },
                  },
                  { name: 'KAFKA_BROKERS', value: this.kafka.bootstrapServers },
                ],
                resources: {
                  requests: { cpu: Quantity.fromString('50m'), memory: Quantity.fromString('64Mi') },
                  limits: { memory: Quantity.fromString('128Mi') },
                },
                securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: true }),
                readinessProbe: { httpGet: { path: '/ready', port: IntOrString.fromNumber(8080) } },
                livenessProbe: { httpGet: { path: '/live', port: IntOrString.fromNumber(8080) } },
              },
            ],
          },
        },
      },
    });
    this.connections = new Connections(this, 'notifier-policy', {
      identity: { name: 'notifier', instance: 'notifier', component: 'worker', version: '1.2.3' },
      namespace,
      podSelectorLabels: labels,
    });
    this.connections.allowTo(this.redis);
    this.connections.allowTo(this.kafka);
  }
}

function build(): { chart: NotificationsChart; manifests: any[] } {
  const chart = new NotificationsChart(Testing.app(), 'notifications');
  return { chart, manifests: Testing.synth(chart) };
}

const notifierLabels = { 'app.kubernetes.io/name': 'notifier', 'app.kubernetes.io/instance': 'notifier' };

describe('RedisCache and KafkaCluster reused by another chart', () => {
  test('when a plain Deployment is wired by their exposed fields, then its env points at their Services and Secret', () => {
    const { chart, manifests } = build();
    const env = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'notifier').spec.template
      .spec.containers[0].env;
    expect(env).toEqual([
      { name: 'REDIS_URL', value: `redis://notify-redis:${chart.redis.port}` },
      {
        name: 'REDIS_PASSWORD',
        valueFrom: {
          secretKeyRef: { name: chart.redis.passwordSecret.secretName, key: chart.redis.passwordSecret.key },
        },
      },
      { name: 'KAFKA_BROKERS', value: chart.kafka.bootstrapServers },
    ]);
    const services = manifests.filter((m) => m.kind === 'Service').map((m) => m.metadata.name);
    expect(services).toContain(chart.redis.host);
    expect(services).toContain(chart.kafka.bootstrapServers.split(':')[0].split('.')[0]);
    expect(chart.redis.namespace).toBe('notifications');
    expect(chart.kafka.bootstrapServers).toMatch(/notify-kafka/);
  });

  test('when the client connects through `connections`, then Redis and Kafka admit it and it may reach them', () => {
    const { chart, manifests } = build();
    const policy = (name: string) =>
      manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === name).spec;
    for (const [server, port] of [
      ['notify-redis', chart.redis.port],
      ['notify-kafka', chart.kafka.port],
    ] as const) {
      expect(policy(server).ingress).toContainEqual({
        from: [{ podSelector: { matchLabels: notifierLabels } }],
        ports: [{ port, protocol: 'TCP' }],
      });
    }
    const egressPorts = policy('notifier').egress.flatMap((r: any) => r.ports.map((p: any) => p.port));
    expect(egressPorts).toEqual([53, 53, chart.redis.port, chart.kafka.port]);
  });

  test('when the chart is synthesized twice, then the YAML is identical', () => {
    const a = new App();
    const b = new App();
    new NotificationsChart(a, 'notifications');
    new NotificationsChart(b, 'notifications');
    expect(a.synthYaml()).toBe(b.synthYaml());
  });
});
