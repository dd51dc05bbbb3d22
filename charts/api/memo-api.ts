import * as plus from 'cdk8s-plus-27';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { defaultOf, SecretName, Settings } from '../../app/src/config/contract';
import {
  IntOrString,
  KubeConfigMap,
  KubeDeployment,
  KubeHorizontalPodAutoscalerV2,
  KubeIngress,
  KubePodDisruptionBudget,
  KubeService,
} from '../../imports/k8s';
import { requirePinnedImage } from '../common/image';
import {
  requireDnsSubdomain,
  requireHostname,
  requireNamespace,
  requireResources,
  requireSecretKeyRef,
  requireServiceEndpoint,
} from '../common/prop-checks';
import {
  configHash,
  emptyDir,
  podDisruptionBudget,
  scrapeAnnotations,
  zoneAndHostSpread,
} from '../common/pod-parts';
import { AllowClientOptions, PlusPeer } from '../plus-peer';
import { Connections, INetworkPeer, NetworkPeer } from '../connections';
import { ApiEnvironment } from './environment';
import { apiIngress } from './ingress';
import { LogLevel } from './log-level';
import { alertRules, dashboardPanels } from './monitoring';
import {
  apiContainers,
  CONTAINER_PORT,
  IMAGE_USER,
  METRICS_PATH,
  METRICS_PORT,
  SERVICE_PORT,
} from './pod-spec';
import { PUBLIC_INTERNET, validateAuth } from './sign-in';
import {
  ICacheEndpoint,
  IDatabaseEndpoint,
  IEventsEndpoint,
  IMonitored,
  IMonitoringContribution,
  IServiceEndpoint,
  SecretKeyReference,
} from '../endpoints';
import { ComponentIdentity, recommendedLabels, selectorLabels } from '../labels';
import { restrictedPodSecurityContext } from '../pod-security';
import { ResourcePreset } from '../resources';

/** HorizontalPodAutoscaler bounds and targets for the API. */
export interface MemoApiAutoscaling {
  /** Lower bound of the replica count. */
  readonly minReplicas: number;
  /** Upper bound of the replica count. */
  readonly maxReplicas: number;
  /**
   * Average CPU utilization (percent of the request) the HPA aims for.
   * @default 70
   */
  readonly cpuUtilizationPercent?: number;
  /**
   * Average memory utilization (percent of the request) the HPA aims for.
   * @default 80
   */
  readonly memoryUtilizationPercent?: number;
}

export interface MemoApiProps {
  /**
   * The MariaDB the API stores memos (and the events outbox) in: a `MariaDbStatefulSet`, or
   * `MariaDbStatefulSet.fromExistingDatabase()`; its `connections` get an ingress rule when present.
   */
  readonly database: IDatabaseEndpoint;
  /** The Redis the API caches memos and rate-limit counters in: a `RedisCache`, or `RedisCache.fromExistingCache()`. */
  readonly cache: ICacheEndpoint;
  /** The Kafka cluster the outbox relay publishes memo events to: a `KafkaCluster`, or `KafkaCluster.fromExistingCluster()`. */
  readonly events: IEventsEndpoint;
  /**
   * Namespace of every object.
   * @default - the chart's namespace, else "memo"
   */
  readonly namespace?: string;
  /**
   * Name of the Deployment, Service, Ingress and related objects; also the instance label.
   * @default "memo-api"
   */
  readonly name?: string;
  /**
   * Container image, with a pinned tag (not `latest`).
   * @default "memo-api:0.1.0"
   */
  readonly image?: string;
  /**
   * Fixed replica count; ignored for the Deployment when `autoscaling` is set (the HPA owns it then).
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Resource requests and memory limit of the API container (the migration init container uses the same).
   * @default ResourcePreset.SMALL
   */
  readonly resources?: ResourcePreset;
  /**
   * Scale with a HorizontalPodAutoscaler (autoscaling/v2) on CPU and memory.
   * @default - a fixed replica count, no HPA
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
   */
  readonly autoscaling?: MemoApiAutoscaling;
  /**
   * Spread replicas across zones (best effort) and hosts (enforced, max skew 1).
   * @default false
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
   */
  readonly spreadAcrossZones?: boolean;
  /**
   * IngressClass of the Ingress.
   * @default - the cluster's default IngressClass
   */
  readonly ingressClassName?: string;
  /**
   * Host name the Ingress answers for.
   * @default - any host
   */
  readonly host?: string;
  /**
   * Namespace of the ingress controller, the only namespace whose pods may open the API's HTTP
   * port (besides the pods let in with `allowHttpFrom()`). It differs per cluster:
   * `ingress-nginx` for ingress-nginx, `kube-system` for k3s' Traefik.
   * @default "ingress-nginx"
   * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
   */
  readonly ingressControllerNamespace?: string;
  /**
   * cert-manager ClusterIssuer that issues the Ingress TLS certificate; requires `host`.
   * @default - plain HTTP, no TLS section
   */
  readonly clusterIssuer?: string;
  /**
   * Secret cert-manager stores the TLS certificate in (only with `clusterIssuer`).
   * @default "<name>-tls"
   */
  readonly tlsSecretName?: string;
  /**
   * The lowest level the service logs (LOG_LEVEL): the levels of its logger, nothing else.
   * @default LogLevel.INFO
   */
  readonly logLevel?: LogLevel;
  /**
   * Connections per replica in the knex pool (DB_POOL_MAX); replicas x this must stay below MariaDB's max_connections.
   * @default 10
   */
  readonly dbPoolMax?: number;
  /**
   * TTL of cached memos in Redis (CACHE_TTL_SECONDS); 0 turns the memo cache off.
   * @default 300
   */
  readonly cacheTtlSeconds?: number;
  /**
   * Kafka topic memo events go to (KAFKA_TOPIC).
   * @default "memo_events"
   */
  readonly kafkaTopic?: string;
  /**
   * Kafka client id (KAFKA_CLIENT_ID).
   * @default "memo-api"
   */
  readonly kafkaClientId?: string;
  /**
   * Requests per minute per client before 429 (RATE_LIMIT_PER_MINUTE); 0 disables the limit.
   * @default 100
   */
  readonly rateLimitPerMinute?: number;
  /**
   * Searches (`GET /api/memos?q=`) per minute per client before 429 (RATE_LIMIT_SEARCH_PER_MINUTE),
   * counted besides rateLimitPerMinute; 0 gives searches no budget of their own.
   * @default 30
   */
  readonly rateLimitSearchPerMinute?: number;
  /**
   * CIDR ranges of the proxies (the ingress controller's pods) whose X-Forwarded-For the API
   * believes (TRUSTED_PROXY_CIDRS); the right-most address outside them is the client. Empty: the
   * socket peer is the client, so everything through the Ingress shares one rate-limit bucket.
   * @default - none
   */
  readonly trustedProxyCidrs?: string[];
  /**
   * The longest one database statement of the API may run, in milliseconds
   * (DB_STATEMENT_TIMEOUT_MS, MariaDB max_statement_time); the request then gets a 503.
   * @default 2000
   */
  readonly dbStatementTimeoutMs?: number;
  /**
   * Prefix of every Redis key the API writes (CACHE_KEY_PREFIX), so stacks sharing one Redis
   * never serve each other's memos.
   * @default - "memo:" and the database's Service, port and name (the data the cache mirrors)
   */
  readonly cacheKeyPrefix?: string;
  /**
   * Allowed CORS origins (CORS_ORIGINS), e.g. `["https://memo.example.com"]`.
   * @default - none: cross-origin requests get no CORS headers
   */
  readonly corsOrigins?: string[];
  /**
   * How long the app keeps serving with readiness failing after SIGTERM (SHUTDOWN_DELAY_MS), so
   * load balancers stop sending new requests before it stops accepting.
   * @default 5000
   */
  readonly shutdownDelayMs?: number;
  /**
   * preStop sleep before SIGTERM reaches the app, covering the time endpoint controllers and
   * ingress controllers need to drop the pod.
   * @default 5
   */
  readonly preStopDelaySeconds?: number;
  /**
   * Time in-flight requests get to finish after the shutdown delay, before SIGKILL.
   * @default 20
   */
  readonly drainSeconds?: number;
  /**
   * The OpenID Connect issuer whose access tokens the API accepts (OIDC_ISSUER_URL), exactly as
   * its tokens carry it in `iss`: an https URL (http only for localhost, in tests). With it, every
   * write needs a valid bearer token and memos belong to their creator; the API pods may then
   * reach the issuer (see `oidcEgressCidrs`). Required unless `allowAnonymousWrites` is true.
   * @default - none; then `allowAnonymousWrites: true` must say that anonymous writes are meant
   */
  readonly oidcIssuerUrl?: string;
  /**
   * The audience tokens must be issued for (OIDC_AUDIENCE): the API's client id or identifier at
   * the issuer. Required with `oidcIssuerUrl`.
   * @default - none
   */
  readonly oidcAudience?: string;
  /**
   * Token claim with the caller's roles or groups (OIDC_ROLES_CLAIM); dots reach into nested claims
   * (Keycloak: `realm_access.roles`, Entra ID: `roles`).
   * @default "groups"
   */
  readonly oidcRolesClaim?: string;
  /**
   * The role (a value of the roles claim) that may change and delete every memo (OIDC_ADMIN_ROLE).
   * @default - nobody is an admin
   */
  readonly oidcAdminRole?: string;
  /**
   * Token claim tried first for the display name written to `author` (OIDC_NAME_CLAIM); then
   * preferred_username, email and sub.
   * @default "name"
   */
  readonly oidcNameClaim?: string;
  /**
   * Reads need a valid token too (AUTH_REQUIRED_FOR_READS); only with `oidcIssuerUrl`.
   * @default false
   */
  readonly authRequiredForReads?: boolean;
  /**
   * Where the API pods may open connections to the issuer (discovery and keys), on the issuer
   * URL's port. Set it for an issuer inside the cluster or a private network.
   * @default - any public address: 0.0.0.0/0 and ::/0 minus the private, shared, link-local and loopback ranges
   */
  readonly oidcEgressCidrs?: string[];
  /**
   * Deploy without sign-in: anyone who reaches the Ingress may create, change and delete every
   * memo. Meant for local clusters; it must be said explicitly, so that a stack never goes out
   * without an issuer by accident. Not allowed together with `oidcIssuerUrl`.
   * @default false
   */
  readonly allowAnonymousWrites?: boolean;
}

const OWNER = 'MemoApi';
const DEFAULT_IMAGE = 'memo-api:0.1.0';
/** Connections of the database the API leaves to others (exporter, probes, backup, admin). */
const DB_RESERVED_CONNECTIONS = 10;

/**
 * The memo service: a Deployment that runs its knex migrations in an init container, a Service,
 * an Ingress that routes only the public paths, optional HPA and PDB, and a NetworkPolicy that
 * allows exactly the flows to the database, cache and Kafka it was wired to.
 */
export class MemoApi extends PlusPeer implements IMonitored {
  public readonly name: string;
  public readonly namespace: string;
  public readonly image: string;
  public readonly replicas: number;
  public readonly resources: ResourcePreset;
  /** The HPA's bounds and targets, defaults filled in; undefined for a fixed replica count. */
  public readonly autoscaling?: MemoApiAutoscaling;
  public readonly spreadAcrossZones: boolean;
  /** Seconds Kubernetes waits after starting termination before SIGKILL. */
  public readonly terminationGracePeriodSeconds: number;
  /** The environment the API container gets from the ConfigMap: name to value (for tests and docs). */
  public readonly environment: Record<string, string>;
  /** The environment the API container gets from Secrets: name to the Secret key it references. */
  public readonly secretEnvironment: Record<string, SecretKeyReference>;
  /** The ConfigMap environment of the migration init container: the database and the migration account only. */
  public readonly migrationEnvironment: Record<string, string>;
  /** The Secret environment of the migration init container: the migration account's password. */
  public readonly migrationSecretEnvironment: Record<string, SecretKeyReference>;
  /** Labels of the API pods. */
  public readonly podSelectorLabels: Record<string, string>;
  /** The Service name: clients inside the namespace call `http://<host>:<servicePort>`. */
  public readonly host: string;
  /** The Service port (the pods listen on `containerPort`). */
  public readonly servicePort = SERVICE_PORT;
  /** The port the pods listen on, which NetworkPolicies must allow. */
  public readonly containerPort = CONTAINER_PORT;
  /** The port that serves /metrics (and nothing else); open to the monitoring stack only. */
  public readonly metricsPort = METRICS_PORT;
  /** The namespace whose pods (the ingress controller's) may call the HTTP port. */
  public readonly ingressControllerNamespace: string;
  /** The allowed network flows of the API pods (rendered as the NetworkPolicy `<name>`). */
  public readonly connections: Connections;
  public readonly monitoring: IMonitoringContribution;

  public readonly deployment: KubeDeployment;
  public readonly configMap: KubeConfigMap;
  public readonly service: KubeService;
  public readonly ingress: KubeIngress;
  public readonly hpa?: KubeHorizontalPodAutoscalerV2;
  public readonly pdb?: KubePodDisruptionBudget;

  public constructor(scope: Construct, id: string, props: MemoApiProps) {
    super(scope, id);
    this.name = props.name ?? 'memo-api';
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? 'memo';
    this.image = props.image ?? DEFAULT_IMAGE;
    this.replicas = props.replicas ?? 1;
    this.resources = props.resources ?? ResourcePreset.SMALL;
    this.spreadAcrossZones = props.spreadAcrossZones ?? false;
    const shutdownDelayMs = props.shutdownDelayMs ?? defaultOf('SHUTDOWN_DELAY_MS');
    const preStopDelaySeconds = props.preStopDelaySeconds ?? 5;
    const drainSeconds = props.drainSeconds ?? 20;
    const dbPoolMax = props.dbPoolMax ?? defaultOf('DB_POOL_MAX');

    validateName('name', this.name);
    requireNamespace(OWNER, 'namespace', this.namespace);
    const tag = pinnedTag('image', this.image);
    positiveInteger('replicas', this.replicas);
    requireResources(OWNER, 'resources', this.resources);
    nonNegativeInteger('preStopDelaySeconds', preStopDelaySeconds);
    positiveInteger('drainSeconds', drainSeconds);
    if (props.ingressClassName !== undefined) {
      requireDnsSubdomain(OWNER, 'ingressClassName', props.ingressClassName);
    }
    if (props.host !== undefined) {
      requireHostname(OWNER, 'host', props.host);
    }
    this.ingressControllerNamespace = props.ingressControllerNamespace ?? 'ingress-nginx';
    requireNamespace(OWNER, 'ingressControllerNamespace', this.ingressControllerNamespace);
    if (props.clusterIssuer !== undefined) {
      requireDnsSubdomain(OWNER, 'clusterIssuer', props.clusterIssuer);
    }
    if (props.clusterIssuer !== undefined && props.host === undefined) {
      throw new Error(
        `MemoApi: clusterIssuer "${props.clusterIssuer}" needs a host (a certificate names a host), got host undefined`,
      );
    }
    if (props.tlsSecretName !== undefined) {
      requireDnsSubdomain(OWNER, 'tlsSecretName', props.tlsSecretName);
      if (props.clusterIssuer === undefined) {
        throw new Error(
          `MemoApi: tlsSecretName '${props.tlsSecretName}' is used only with a clusterIssuer (which fills that Secret), got clusterIssuer undefined`,
        );
      }
    }
    requireServiceEndpoint(OWNER, 'database', props.database);
    requireSecretKeyRef(OWNER, 'database.passwordSecret', props.database.passwordSecret);
    requireSecretKeyRef(OWNER, 'database.migrationPasswordSecret', props.database.migrationPasswordSecret);
    if (props.database.migrationUsername === props.database.username) {
      throw new Error(
        `MemoApi: database.migrationUsername must differ from database.username (the API's account must not be able to change the schema), got '${props.database.migrationUsername}' for both`,
      );
    }
    requireServiceEndpoint(OWNER, 'cache', props.cache);
    requireSecretKeyRef(OWNER, 'cache.passwordSecret', props.cache.passwordSecret);
    requireServiceEndpoint(OWNER, 'events', props.events);

    const { database, cache, events } = props;
    // What the service reads, in ConfigMap order. Each value is checked by the service's own
    // rules (app/src/config/contract.ts) and written only if the service reads it back unchanged.
    const kafkaTopic = props.kafkaTopic ?? defaultOf('KAFKA_TOPIC');
    const settings: Settings = {
      PORT: CONTAINER_PORT,
      METRICS_PORT: METRICS_PORT,
      LOG_LEVEL: props.logLevel ?? defaultOf('LOG_LEVEL'),
      DB_HOST: hostOf(database, this.namespace),
      DB_PORT: database.port,
      DB_NAME: database.databaseName,
      DB_USER: database.username,
      DB_POOL_MAX: dbPoolMax,
      REDIS_HOST: hostOf(cache, this.namespace),
      REDIS_PORT: cache.port,
      CACHE_TTL_SECONDS: props.cacheTtlSeconds ?? defaultOf('CACHE_TTL_SECONDS'),
      KAFKA_BROKERS: events.bootstrapServers,
      KAFKA_TOPIC: kafkaTopic,
      KAFKA_CLIENT_ID: props.kafkaClientId ?? defaultOf('KAFKA_CLIENT_ID'),
      RATE_LIMIT_PER_MINUTE: props.rateLimitPerMinute ?? defaultOf('RATE_LIMIT_PER_MINUTE'),
      RATE_LIMIT_SEARCH_PER_MINUTE:
        props.rateLimitSearchPerMinute ?? defaultOf('RATE_LIMIT_SEARCH_PER_MINUTE'),
      TRUSTED_PROXY_CIDRS: props.trustedProxyCidrs ?? defaultOf('TRUSTED_PROXY_CIDRS'),
      DB_STATEMENT_TIMEOUT_MS: props.dbStatementTimeoutMs ?? defaultOf('DB_STATEMENT_TIMEOUT_MS'),
      // The database's Service names the data the cache mirrors: unique per cluster, and shared
      // by every API of that database, whose writes must then invalidate each other's entries.
      CACHE_KEY_PREFIX:
        props.cacheKeyPrefix ??
        `memo:${database.host}.${database.namespace}.svc:${database.port}/${database.databaseName}`,
      CORS_ORIGINS: props.corsOrigins ?? defaultOf('CORS_ORIGINS'),
      SHUTDOWN_DELAY_MS: shutdownDelayMs,
      // Unset (empty) without an issuer: writes are anonymous then (validateAuth below).
      OIDC_ISSUER_URL: props.oidcIssuerUrl,
      OIDC_AUDIENCE: props.oidcAudience,
      OIDC_ROLES_CLAIM: props.oidcRolesClaim ?? defaultOf('OIDC_ROLES_CLAIM'),
      OIDC_ADMIN_ROLE: props.oidcAdminRole,
      OIDC_NAME_CLAIM: props.oidcNameClaim ?? defaultOf('OIDC_NAME_CLAIM'),
      AUTH_REQUIRED_FOR_READS: props.authRequiredForReads ?? defaultOf('AUTH_REQUIRED_FOR_READS'),
      // In the ConfigMap but only in the migration container's environment: the API never sees
      // the migration account, and migrations never see Redis or Kafka.
      DB_MIGRATION_USER: database.migrationUsername,
    };
    const secrets: Readonly<Record<SecretName, SecretKeyReference>> = {
      DB_PASSWORD: database.passwordSecret,
      REDIS_PASSWORD: cache.passwordSecret,
      DB_MIGRATION_PASSWORD: database.migrationPasswordSecret,
    };
    const environment = new ApiEnvironment(settings, secrets);
    // Checked at synth, not here: the topic may be added to the cluster after this construct.
    this.node.addValidation({
      validate: () => {
        const declared = events.declaredTopics();
        if (declared === undefined || declared.includes(kafkaTopic)) return [];
        return [
          `MemoApi: kafkaTopic must be a topic the events cluster declares (its brokers do not create topics on first use; declared: ${declared.length === 0 ? 'none' : declared.join(', ')}), got '${kafkaTopic}'`,
        ];
      },
    });
    // Kept with its defaults filled for the HPA below; the public field has the same values.
    let autoscaling: Required<MemoApiAutoscaling> | undefined;
    if (props.autoscaling) {
      const a = props.autoscaling;
      positiveInteger('autoscaling.minReplicas', a.minReplicas);
      positiveInteger('autoscaling.maxReplicas', a.maxReplicas);
      if (a.maxReplicas < a.minReplicas) {
        throw new Error(
          `MemoApi: autoscaling.maxReplicas (${a.maxReplicas}) must be >= autoscaling.minReplicas (${a.minReplicas})`,
        );
      }
      autoscaling = {
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        cpuUtilizationPercent: percent('autoscaling.cpuUtilizationPercent', a.cpuUtilizationPercent ?? 70),
        memoryUtilizationPercent: percent(
          'autoscaling.memoryUtilizationPercent',
          a.memoryUtilizationPercent ?? 80,
        ),
      };
    }
    this.autoscaling = autoscaling;
    const auth = validateAuth(props);
    // Every replica may open dbPoolMax connections; past max_connections the newest pods fail
    // to connect. Ten are left for the exporter, probes, backups and an administrator.
    // Known for a MariaDbStatefulSet and for fromExistingDatabase() given one.
    const maxConnections = (props.database as { readonly maxConnections?: number }).maxConnections;
    const peakReplicas = this.autoscaling?.maxReplicas ?? this.replicas;
    // Each replica also holds one connection of its own for readiness (app/src/server.ts).
    const perReplica = dbPoolMax + 1;
    if (
      maxConnections !== undefined &&
      peakReplicas * perReplica > maxConnections - DB_RESERVED_CONNECTIONS
    ) {
      throw new Error(
        `MemoApi: (dbPoolMax (${dbPoolMax}) + 1 readiness connection) x ${this.autoscaling ? 'autoscaling.maxReplicas' : 'replicas'} (${peakReplicas}) must be at most the database's maxConnections (${maxConnections}) minus ${DB_RESERVED_CONNECTIONS}, got ${peakReplicas * perReplica}`,
      );
    }
    // Kubernetes sends SIGKILL at the end of the grace period, which starts before preStop runs.
    this.terminationGracePeriodSeconds =
      preStopDelaySeconds + Math.ceil(shutdownDelayMs / 1000) + drainSeconds;

    const identity: ComponentIdentity = {
      name: 'memo-api',
      instance: this.name,
      component: 'api',
      version: tag,
    };
    const labels = recommendedLabels(identity);
    this.podSelectorLabels = selectorLabels(identity);
    const metadata = (name: string) => ({ name, namespace: this.namespace, labels });

    this.environment = environment.values('service');
    this.secretEnvironment = environment.secretRefs('service');
    this.migrationEnvironment = environment.values('migrations');
    this.migrationSecretEnvironment = environment.secretRefs('migrations');

    const configMapName = `${this.name}-config`;
    this.configMap = new KubeConfigMap(this, 'config', {
      metadata: metadata(configMapName),
      data: environment.configData,
    });
    const appEnv = environment.containerEnv('service', configMapName);
    const migrateEnv = environment.containerEnv('migrations', configMapName);

    const { migrate, api } = apiContainers({
      image: this.image,
      resources: this.resources,
      env: appEnv,
      migrationEnv: migrateEnv,
      preStopDelaySeconds,
    });

    this.deployment = new KubeDeployment(this, 'deployment', {
      metadata: metadata(this.name),
      spec: {
        // With an HPA the replica count belongs to it; a value here would be reset on every apply.
        replicas: this.autoscaling ? undefined : this.replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: this.podSelectorLabels },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxUnavailable: IntOrString.fromNumber(0), maxSurge: IntOrString.fromNumber(1) },
        },
        template: {
          metadata: {
            labels,
            annotations: {
              ...scrapeAnnotations(METRICS_PORT, METRICS_PATH),
              // env is read at start only, so a settings change must roll the pods.
              'checksum/config': configHash(JSON.stringify(environment.configData)),
            },
          },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(IMAGE_USER),
            terminationGracePeriodSeconds: this.terminationGracePeriodSeconds,
            initContainers: [migrate],
            containers: [api],
            volumes: [emptyDir('tmp', 64)],
            // Zones are best effort: single-zone clusters must still schedule.
            topologySpreadConstraints: this.spreadAcrossZones
              ? zoneAndHostSpread(this.podSelectorLabels)
              : undefined,
          },
        },
      },
    });

    this.service = new KubeService(this, 'service', {
      metadata: metadata(this.name),
      spec: {
        type: 'ClusterIP',
        selector: this.podSelectorLabels,
        ports: [
          { name: 'http', port: SERVICE_PORT, targetPort: IntOrString.fromString('http'), protocol: 'TCP' },
          // For ServiceMonitors (operator mode), which scrape through a Service port by name.
          {
            name: 'metrics',
            port: METRICS_PORT,
            targetPort: IntOrString.fromString('metrics'),
            protocol: 'TCP',
          },
        ],
      },
    });
    this.host = this.name;

    this.ingress = apiIngress(this, 'ingress', {
      name: this.name,
      namespace: this.namespace,
      labels,
      ingressClassName: props.ingressClassName,
      host: props.host,
      clusterIssuer: props.clusterIssuer,
      tlsSecretName: props.tlsSecretName ?? `${this.name}-tls`,
    });

    if (autoscaling) {
      const a = autoscaling;
      this.hpa = new KubeHorizontalPodAutoscalerV2(this, 'hpa', {
        metadata: metadata(this.name),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
          minReplicas: a.minReplicas,
          maxReplicas: a.maxReplicas,
          metrics: [
            utilization('cpu', a.cpuUtilizationPercent),
            utilization('memory', a.memoryUtilizationPercent),
          ],
        },
      });
    }

    const minimumReplicas = this.autoscaling?.minReplicas ?? this.replicas;
    if (minimumReplicas > 1) {
      this.pdb = podDisruptionBudget(this, 'pdb', {
        name: this.name,
        namespace: this.namespace,
        identity,
        selector: this.podSelectorLabels,
      });
    }

    this.connections = new Connections(this, 'network-policy', {
      identity,
      namespace: this.namespace,
      podSelectorLabels: this.podSelectorLabels,
    });
    // The ingress controller runs in its own namespace, different per cluster flavour; every
    // other namespace is kept out, so no pod can bypass the Ingress (and its TLS and limits).
    // The metrics port is opened by MonitoringStack.monitor(), to Prometheus alone.
    this.allowHttpFrom(NetworkPeer.allPodsIn(this.ingressControllerNamespace));
    this.connections.allowTo(database);
    this.connections.allowTo(cache);
    this.connections.allowTo(events);
    if (auth !== undefined) {
      // Discovery and the JWKS: the issuer is outside the cluster unless oidcEgressCidrs says otherwise.
      const blocks = auth.egressCidrs?.map((cidr) => ({ cidr })) ?? PUBLIC_INTERNET;
      this.connections.allowToCidrs(blocks, [{ port: auth.port }]);
    }

    this.monitoring = {
      component: 'memo-api',
      podSelectorLabels: this.podSelectorLabels,
      namespace: this.namespace,
      serviceName: this.name,
      scrape: { portName: 'metrics', port: METRICS_PORT, path: METRICS_PATH },
      alertRules,
      dashboardTitle: 'Memo API',
      dashboardPanels,
    };
  }

  /**
   * Lets the pods of `peer` open the API's HTTP port, besides the ingress controller's
   * namespace: a web front end's server side, say (`api.allowHttpFrom(web)`, where `web` is any
   * `INetworkPeer`: a construct with `connections`, or `NetworkPeer.fromLabels()`). Empty `podSelectorLabels` admit every
   * pod of `peer.namespace`. The metrics port stays closed to them.
   */
  public allowHttpFrom(peer: INetworkPeer): void {
    this.connections.allowFrom(peer, [{ port: CONTAINER_PORT }]);
  }

  /**
   * Lets a cdk8s-plus workload (Deployment, StatefulSet, DaemonSet or Job) of any chart connect to
   * the API on port 3000, the HTTP port, and on no other port; `options.isolation` picks which side
   * gets a policy. These pods are cdk8s-plus network peers too, so
   * `client.connections.allowTo(this, { ports })` works as for any cdk8s-plus pod.
   */
  public allowClient(client: plus.Workload, options: AllowClientOptions = {}): void {
    this.connectClient('MemoApi', client, this.containerPort, options);
  }
}

function utilization(name: 'cpu' | 'memory', averageUtilization: number) {
  return { type: 'Resource', resource: { name, target: { type: 'Utilization', averageUtilization } } };
}

/** Same namespace: the short Service name; otherwise the namespace-qualified one. */
function hostOf(endpoint: IServiceEndpoint, namespace: string): string {
  return endpoint.namespace === namespace ? endpoint.host : `${endpoint.host}.${endpoint.namespace}.svc`;
}

function pinnedTag(prop: string, image: string): string {
  return requirePinnedImage(OWNER, prop, image, DEFAULT_IMAGE);
}

function validateName(prop: string, value: string): void {
  if (!/^[a-z]([-a-z0-9]{0,48}[a-z0-9])?$/.test(value)) {
    throw new Error(`MemoApi: ${prop} must be a DNS label of at most 50 characters, got "${value}"`);
  }
}

function positiveInteger(prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`MemoApi: ${prop} must be a positive integer, got ${value}`);
  }
}

function nonNegativeInteger(prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`MemoApi: ${prop} must be an integer >= 0, got ${value}`);
  }
}

function percent(prop: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new Error(`MemoApi: ${prop} must be an integer percentage between 1 and 100, got ${value}`);
  }
  return value;
}
