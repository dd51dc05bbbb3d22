import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { KubeNamespace } from '../imports/k8s';
import { Connections } from './connections';
import { IHasCredentials, RequiredSecret } from './endpoints';
import { KafkaCluster } from './kafka/kafka-cluster';
import { MANAGED_BY, MEMOSTACK_VERSION, PART_OF, recommendedLabels } from './labels';
import { MariaDbStatefulSet } from './mariadb/mariadb-stateful-set';
import { MemoApi } from './api/memo-api';
import { addGitOpsHints } from './gitops';
import { MonitoringMode } from './monitoring/monitoring-mode';
import { MonitoringStack } from './monitoring/monitoring-stack';
import { NamespaceGuardRails, NamespaceGuardRailsOptions } from './namespace-guard-rails';
import { requirePinnedImage } from './common/image';
import { MAX_TOPIC_PARTITIONS, requireInteger } from './common/prop-checks';
import { Profile, validateProfile } from './profiles';
import { RedisCache } from './redis/redis-cache';

export interface MemoStackProps {
  /** Everything that differs between clusters: sizes, replicas, storage and ingress classes, secrets. */
  readonly profile: Profile;
  /**
   * The memo service image, pinned.
   * @default - the profile's `apiImage`
   */
  readonly apiImage?: string;
  /**
   * Standalone monitoring stack or objects for a Prometheus Operator.
   * @default MonitoringMode.standalone()
   */
  readonly monitoringMode?: MonitoringMode;
  /**
   * Partitions of the `memo_events` topic: the upper bound of parallel consumers.
   * @default 6
   */
  readonly eventPartitions?: number;
  /**
   * The namespace's ResourceQuota and LimitRange, sized from the stack's own workloads.
   * @default - both, with 25 % headroom (NamespaceGuardRails' defaults)
   */
  readonly guardRails?: NamespaceGuardRailsOptions;
}

/**
 * The whole memo service for one profile: its namespace (Pod Security restricted, a quota and
 * limits sized from the stack's own peak), a default-deny NetworkPolicy, MariaDB, Redis, Kafka, the API wired to all three, and monitoring
 * of all four. Only wiring lives here; every value comes from the profile.
 */
export class MemoStack extends Chart {
  public readonly profile: Profile;
  public readonly database: MariaDbStatefulSet;
  public readonly cache: RedisCache;
  public readonly events: KafkaCluster;
  public readonly api: MemoApi;
  public readonly monitoring: MonitoringStack;
  /** The namespace's ResourceQuota and LimitRange, with the computed peak they are sized for. */
  public readonly guardRails: NamespaceGuardRails;
  /** Every Secret the stack reads, one entry per Secret with the union of its keys, sorted by name. */
  public readonly requiredSecrets: RequiredSecret[];

  public constructor(scope: Construct, id: string, props: MemoStackProps) {
    // No chart-wide namespace: it would also be stamped on the cluster-scoped Namespace object.
    super(scope, id, { disableResourceNameHashes: true });
    const profile = props.profile;
    validateProfile(profile);
    const eventPartitions = props.eventPartitions ?? 6;
    requireInteger('MemoStack', 'eventPartitions', eventPartitions, 1, MAX_TOPIC_PARTITIONS);
    if (props.apiImage !== undefined) {
      requirePinnedImage('MemoStack', 'apiImage', props.apiImage, 'memo-api:0.1.0');
    }
    this.profile = profile;
    const namespace = profile.namespace;

    new KubeNamespace(this, 'namespace', {
      metadata: {
        name: namespace,
        labels: {
          ...recommendedLabels({
            name: 'memostack',
            instance: namespace,
            component: 'namespace',
            version: MEMOSTACK_VERSION,
          }),
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'latest',
        },
      },
    });
    Connections.defaultDeny(this, 'default-deny', namespace);
    // Sized when the chart synthesizes, from the workloads added below.
    this.guardRails = new NamespaceGuardRails(this, 'guard-rails', { ...props.guardRails, namespace });

    this.database = new MariaDbStatefulSet(this, 'mariadb', {
      namespace,
      replicas: profile.mariadb.replicas,
      resources: profile.mariadb.resources,
      storageGiB: profile.mariadb.storageGiB,
      storageClassName: profile.storageClassName,
      spreadAcrossZones: profile.spreadAcrossZones,
    });
    this.cache = new RedisCache(this, 'redis', {
      namespace,
      // A cache without persistence: no volume, so no StorageClass either.
      resources: profile.redis.resources,
    });
    this.events = new KafkaCluster(this, 'kafka', {
      namespace,
      replicas: profile.kafka.replicas,
      resources: profile.kafka.resources,
      storageGiB: profile.kafka.storageGiB,
      storageClassName: profile.storageClassName,
      spreadAcrossZones: profile.spreadAcrossZones,
    });
    this.events.addTopic('memo_events', { partitions: eventPartitions });

    this.api = new MemoApi(this, 'api', {
      namespace,
      image: props.apiImage ?? profile.apiImage,
      database: this.database,
      cache: this.cache,
      events: this.events,
      replicas: profile.api.replicas,
      resources: profile.api.resources,
      autoscaling: profile.api.autoscaling,
      oidcIssuerUrl: profile.api.oidc?.issuerUrl,
      oidcAudience: profile.api.oidc?.audience,
      oidcAdminRole: profile.api.oidc?.adminRole,
      oidcRolesClaim: profile.api.oidc?.rolesClaim,
      oidcNameClaim: profile.api.oidc?.nameClaim,
      allowAnonymousWrites: profile.api.allowAnonymousWrites,
      spreadAcrossZones: profile.spreadAcrossZones,
      ingressClassName: profile.ingressClassName,
      ingressControllerNamespace: profile.ingressControllerNamespace,
      host: profile.ingressHost,
      clusterIssuer: profile.tlsClusterIssuer,
      trustedProxyCidrs: profile.api.trustedProxyCidrs,
    });

    this.monitoring = new MonitoringStack(this, 'monitoring', {
      namespace,
      mode: props.monitoringMode,
      prometheusResources: profile.monitoring.prometheusResources,
      prometheusStorageGiB: profile.monitoring.prometheusStorageGiB,
      storageClassName: profile.storageClassName,
      grafanaResources: profile.monitoring.grafanaResources,
      alertmanagerResources: profile.monitoring.alertmanagerResources,
    });
    for (const component of [this.api, this.database, this.cache, this.events]) {
      this.monitoring.monitor(component);
    }

    this.requiredSecrets = mergeSecrets(
      [this.database, this.cache, this.events, this.monitoring].flatMap((c) => requiredSecretsOf(c)),
    );
    if (profile.externalSecretStore !== undefined) {
      for (const secret of this.requiredSecrets) {
        externalSecret(this, secret, profile.externalSecretStore);
      }
    }
    addGitOpsHints(this, [this.database, this.cache, this.events]);
  }
}

function requiredSecretsOf(construct: object): readonly RequiredSecret[] {
  return (construct as Partial<IHasCredentials>).requiredSecrets ?? [];
}

/** Two constructs may read the same Secret (the API and MariaDB share the user's password). */
function mergeSecrets(secrets: readonly RequiredSecret[]): RequiredSecret[] {
  const byName = new Map<string, RequiredSecret>();
  for (const secret of secrets) {
    const id = `${secret.namespace}/${secret.secretName}`;
    const known = byName.get(id);
    const keys = new Set([...(known?.keys ?? []), ...secret.keys]);
    byName.set(id, { ...secret, keys: [...keys].sort() });
  }
  return [...byName.values()].sort((a, b) => a.secretName.localeCompare(b.secretName));
}

/**
 * An external-secrets.io ExternalSecret that materializes `secret` from a ClusterSecretStore,
 * reading each key as a property of the remote entry `<namespace>/<secret name>`.
 * @see https://external-secrets.io/latest/api/externalsecret/
 */
function externalSecret(scope: Construct, secret: RequiredSecret, store: string): ApiObject {
  return new ApiObject(scope, `external-secret-${secret.secretName}`, {
    // v1 since external-secrets 0.17, which no longer serves v1beta1.
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: {
      name: secret.secretName,
      namespace: secret.namespace,
      labels: { 'app.kubernetes.io/part-of': PART_OF, 'app.kubernetes.io/managed-by': MANAGED_BY },
    },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { kind: 'ClusterSecretStore', name: store },
      target: { name: secret.secretName, creationPolicy: 'Owner' },
      data: secret.keys.map((key) => ({
        secretKey: key,
        remoteRef: { key: `${secret.namespace}/${secret.secretName}`, property: key },
      })),
    },
  });
}
