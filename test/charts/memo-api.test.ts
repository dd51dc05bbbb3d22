/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { Chart, Testing } from 'cdk8s';
import { Entry, VARIABLES, VariableName } from '../../app/src/config/contract';
import { Connections, IConnectable } from '../../charts/connections';
import { ICacheEndpoint, IDatabaseEndpoint, IEventsEndpoint } from '../../charts/endpoints';
import { LogLevel } from '../../charts/api/log-level';
import { MemoApi, MemoApiProps } from '../../charts/api/memo-api';
import { ResourcePreset } from '../../charts/resources';
import { SeriesSelector } from '../../charts/series-selector';

/** What each entry of the service reads, by the contract table: no more, no less. */
const readBy = (entry: Entry): string[] =>
  (Object.keys(VARIABLES) as VariableName[]).filter((name) => VARIABLES[name].readBy.includes(entry)).sort();
const CONTRACT_ENV = readBy('service');
/** The migration entry (app/src/migrate.ts): the database and the migration account. */
const MIGRATION_ENV = readBy('migrations');

type Manifest = { kind: string; metadata: { name: string; [key: string]: any }; [key: string]: any };

/** Backing services as a client sees them, each with its own NetworkPolicy like the real constructs. */
function backingServices(chart: Chart) {
  const peer = (name: string, port: number) => {
    const podSelectorLabels = {
      'app.kubernetes.io/name': name,
      'app.kubernetes.io/instance': `memo-${name}`,
    };
    return {
      host: `memo-${name}`,
      namespace: 'memo',
      port,
      podSelectorLabels,
      connections: new Connections(chart, `${name}-policy`, {
        identity: { name, instance: `memo-${name}`, component: name, version: '1' },
        namespace: 'memo',
        podSelectorLabels,
      }),
    };
  };
  const database: IDatabaseEndpoint & IConnectable = {
    ...peer('mariadb', 3306),
    databaseName: 'memos',
    username: 'memo',
    passwordSecret: { secretName: 'memo-mariadb-credentials', key: 'password' },
    migrationUsername: 'memo_migrator',
    migrationPasswordSecret: { secretName: 'memo-mariadb-credentials', key: 'migration-password' },
  };
  const cache: ICacheEndpoint & IConnectable = {
    ...peer('redis', 6379),
    passwordSecret: { secretName: 'memo-redis-credentials', key: 'password' },
  };
  const events: IEventsEndpoint & IConnectable = {
    ...peer('kafka', 9092),
    bootstrapServers: 'memo-kafka-bootstrap:9092',
    declaredTopics: () => undefined,
  };
  return { database, cache, events };
}

function synth(props: Partial<MemoApiProps> = {}): { manifests: Manifest[]; api: MemoApi } {
  const chart = Testing.chart();
  const api = new MemoApi(chart, 'api', { ...backingServices(chart), allowAnonymousWrites: true, ...props });
  return { manifests: Testing.synth(chart) as Manifest[], api };
}

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`,
    );
  return found;
}

function apiContainer(manifests: Manifest[]) {
  return find(manifests, 'Deployment', 'memo-api').spec.template.spec.containers[0];
}

describe('MemoApi', () => {
  test('when built with defaults, then the manifests match the snapshot', () => {
    expect(synth().manifests).toMatchSnapshot();
  });

  test('when wired to a database, cache and Kafka, then the container env is exactly the contract set', () => {
    const env = apiContainer(synth().manifests).env as Array<{ name: string }>;
    expect(env.map((e) => e.name).sort()).toEqual(CONTRACT_ENV);
  });

  test('when wired, then settings come from the ConfigMap with the endpoints values and defaults', () => {
    const { manifests } = synth();
    const data = find(manifests, 'ConfigMap', 'memo-api-config').data;
    expect(data).toEqual({
      PORT: '3000',
      METRICS_PORT: '9464',
      LOG_LEVEL: 'info',
      DB_HOST: 'memo-mariadb',
      DB_PORT: '3306',
      DB_NAME: 'memos',
      DB_USER: 'memo',
      DB_MIGRATION_USER: 'memo_migrator',
      DB_POOL_MAX: '10',
      REDIS_HOST: 'memo-redis',
      REDIS_PORT: '6379',
      CACHE_TTL_SECONDS: '300',
      KAFKA_BROKERS: 'memo-kafka-bootstrap:9092',
      KAFKA_TOPIC: 'memo_events',
      KAFKA_CLIENT_ID: 'memo-api',
      RATE_LIMIT_PER_MINUTE: '100',
      RATE_LIMIT_SEARCH_PER_MINUTE: '30',
      TRUSTED_PROXY_CIDRS: '',
      DB_STATEMENT_TIMEOUT_MS: '2000',
      CACHE_KEY_PREFIX: 'memo:memo-mariadb.memo.svc:3306/memos',
      CORS_ORIGINS: '',
      SHUTDOWN_DELAY_MS: '5000',
      OIDC_ISSUER_URL: '',
      OIDC_AUDIENCE: '',
      OIDC_ROLES_CLAIM: 'groups',
      OIDC_ADMIN_ROLE: '',
      OIDC_NAME_CLAIM: 'name',
      AUTH_REQUIRED_FOR_READS: 'false',
    });
    const env = apiContainer(manifests).env as Array<{ name: string; valueFrom: any }>;
    const plain = env.filter((e) => e.valueFrom.configMapKeyRef);
    expect(plain.every((e) => e.valueFrom.configMapKeyRef.name === 'memo-api-config')).toBe(true);
    // Everything but the migration account, which only the init container gets.
    expect(plain.map((e) => e.name).sort()).toEqual(
      Object.keys(data)
        .filter((k) => k !== 'DB_MIGRATION_USER')
        .sort(),
    );
  });

  test('when the abuse limits are set, then each reaches the ConfigMap as the variable the service reads', () => {
    const data = find(
      synth({
        rateLimitSearchPerMinute: 5,
        trustedProxyCidrs: ['10.244.0.0/16', 'fd00::/8'],
        dbStatementTimeoutMs: 750,
        cacheKeyPrefix: 'memo/blue',
      }).manifests,
      'ConfigMap',
      'memo-api-config',
    ).data;
    expect(data).toMatchObject({
      RATE_LIMIT_SEARCH_PER_MINUTE: '5',
      TRUSTED_PROXY_CIDRS: '10.244.0.0/16,fd00::/8',
      DB_STATEMENT_TIMEOUT_MS: '750',
      CACHE_KEY_PREFIX: 'memo/blue',
    });
  });

  test('when two stacks use databases of different namespaces, then their default cache key prefixes differ', () => {
    const prefixOf = (namespace: string): string => {
      const chart = Testing.chart();
      const services = backingServices(chart);
      const api = new MemoApi(chart, 'api', {
        ...services,
        allowAnonymousWrites: true,
        database: { ...services.database, namespace },
      });
      return api.environment.CACHE_KEY_PREFIX as string;
    };
    expect(prefixOf('memo-a')).toBe('memo:memo-mariadb.memo-a.svc:3306/memos');
    expect(prefixOf('memo-a')).not.toBe(prefixOf('memo-b'));
  });

  test('when wired, then the passwords are secretKeyRefs to the backing services secrets', () => {
    const env = apiContainer(synth().manifests).env as Array<{ name: string; valueFrom: any }>;
    const refs = Object.fromEntries(
      env.filter((e) => e.valueFrom.secretKeyRef).map((e) => [e.name, e.valueFrom.secretKeyRef]),
    );
    expect(refs).toEqual({
      DB_PASSWORD: { name: 'memo-mariadb-credentials', key: 'password' },
      REDIS_PASSWORD: { name: 'memo-redis-credentials', key: 'password' },
    });
  });

  test('when a backing service is in another namespace, then its host is namespace-qualified', () => {
    const chart = Testing.chart();
    const services = backingServices(chart);
    const api = new MemoApi(chart, 'api', {
      ...services,
      cache: { ...services.cache, namespace: 'shared' },
      allowAnonymousWrites: true,
    });
    expect(api.environment.REDIS_HOST).toBe('memo-redis.shared.svc');
    expect(api.environment.DB_HOST).toBe('memo-mariadb');
  });

  test('when wired, then the API policy allows egress to 3306/6379/9092 and ingress on 3000 from the ingress controller namespace only', () => {
    const { manifests, api } = synth();
    expect(api.ingressControllerNamespace).toBe('ingress-nginx');
    const policy = find(manifests, 'NetworkPolicy', 'memo-api').spec;
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    const egressPorts = policy.egress.flatMap((r: any) => r.ports.map((p: any) => p.port));
    expect(egressPorts.sort()).toEqual([3306, 53, 53, 6379, 9092].sort());
    // No metrics port here: nothing but a monitoring stack (monitor()) may open it.
    expect(policy.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
        ports: [{ port: 3000, protocol: 'TCP' }],
      },
    ]);
  });

  describe('sign-in', () => {
    const signIn = {
      allowAnonymousWrites: undefined,
      oidcIssuerUrl: 'https://login.example.com/realms/memo',
      oidcAudience: 'memo-api',
    };

    test('when an issuer is given, then its settings are in the ConfigMap and anonymous writes are off', () => {
      const { manifests } = synth({
        ...signIn,
        oidcAdminRole: 'memo-admin',
        oidcRolesClaim: 'realm_access.roles',
        oidcNameClaim: 'nickname',
        authRequiredForReads: true,
      });
      const data = find(manifests, 'ConfigMap', 'memo-api-config').data;
      expect(data).toMatchObject({
        OIDC_ISSUER_URL: 'https://login.example.com/realms/memo',
        OIDC_AUDIENCE: 'memo-api',
        OIDC_ROLES_CLAIM: 'realm_access.roles',
        OIDC_ADMIN_ROLE: 'memo-admin',
        OIDC_NAME_CLAIM: 'nickname',
        AUTH_REQUIRED_FOR_READS: 'true',
      });
    });

    test('when an issuer is given, then the API may reach public addresses on its port, and no private range', () => {
      const policy = find(synth(signIn).manifests, 'NetworkPolicy', 'memo-api').spec;
      const issuerRules = policy.egress.filter((r: any) => r.to?.some((p: any) => p.ipBlock));
      expect(issuerRules).toEqual([
        {
          to: [
            {
              ipBlock: {
                cidr: '0.0.0.0/0',
                except: [
                  '10.0.0.0/8',
                  '172.16.0.0/12',
                  '192.168.0.0/16',
                  '100.64.0.0/10',
                  '169.254.0.0/16',
                  '127.0.0.0/8',
                ],
              },
            },
            { ipBlock: { cidr: '::/0', except: ['fc00::/7', 'fe80::/10', '::1/128'] } },
          ],
          ports: [{ port: 443, protocol: 'TCP' }],
        },
      ]);
    });

    test('when oidcEgressCidrs and an issuer port are given, then the egress goes to exactly those CIDRs on that port', () => {
      const { manifests } = synth({
        ...signIn,
        oidcIssuerUrl: 'https://keycloak.internal.example:8443/realms/memo',
        oidcEgressCidrs: ['10.40.0.0/16'],
      });
      const policy = find(manifests, 'NetworkPolicy', 'memo-api').spec;
      expect(policy.egress.filter((r: any) => r.to?.some((p: any) => p.ipBlock))).toEqual([
        { to: [{ ipBlock: { cidr: '10.40.0.0/16' } }], ports: [{ port: 8443, protocol: 'TCP' }] },
      ]);
    });

    test('when anonymous writes are allowed, then no egress leaves the cluster', () => {
      const policy = find(synth().manifests, 'NetworkPolicy', 'memo-api').spec;
      expect(policy.egress.some((r: any) => r.to?.some((p: any) => p.ipBlock) || r.to === undefined)).toBe(
        false,
      );
    });

    test('when neither an issuer nor allowAnonymousWrites is given, then construction fails saying so', () => {
      expect(() => synth({ allowAnonymousWrites: undefined })).toThrow(
        /MemoApi: oidcIssuerUrl is required \(or allowAnonymousWrites: true/,
      );
    });
  });

  test('when the ingress controller runs elsewhere and a front end is let in, then exactly those reach the HTTP port', () => {
    const chart = Testing.chart();
    const api = new MemoApi(chart, 'api', {
      ...backingServices(chart),
      allowAnonymousWrites: true,
      ingressControllerNamespace: 'kube-system',
    });
    const web = { namespace: 'memo', podSelectorLabels: { 'app.kubernetes.io/name': 'memo-web' } };
    api.allowHttpFrom(web);
    const policy = find(Testing.synth(chart) as Manifest[], 'NetworkPolicy', 'memo-api').spec;
    expect(policy.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
        ports: [{ port: 3000, protocol: 'TCP' }],
      },
      {
        from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'memo-web' } } }],
        ports: [{ port: 3000, protocol: 'TCP' }],
      },
    ]);
    expect(JSON.stringify(policy.ingress)).not.toContain('"namespaceSelector":{}');
  });

  test('when wired, then each backing service admits the API pods on its own port only', () => {
    const { manifests } = synth();
    for (const [name, port] of [
      ['mariadb', 3306],
      ['redis', 6379],
      ['kafka', 9092],
    ] as const) {
      const ingress = find(manifests, 'NetworkPolicy', `memo-${name}`).spec.ingress;
      expect(ingress).toEqual([
        {
          from: [
            {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/name': 'memo-api',
                  'app.kubernetes.io/instance': 'memo-api',
                  'app.kubernetes.io/component': 'api',
                },
              },
            },
          ],
          ports: [{ port, protocol: 'TCP' }],
        },
      ]);
    }
  });

  test('when built, then migrations run first in an init container with only the database settings', () => {
    const spec = find(synth().manifests, 'Deployment', 'memo-api').spec.template.spec;
    expect(spec.initContainers).toHaveLength(1);
    const migrate = spec.initContainers[0];
    expect(migrate.command).toEqual(['node', 'dist/migrate.js']);
    expect(migrate.image).toBe('memo-api:0.1.0');
    const names = migrate.env.map((e: { name: string }) => e.name).sort();
    expect(names).toEqual(MIGRATION_ENV);
    // The schema owner's account, not the API's: the API container never gets this password.
    const migrationPassword = migrate.env.find((e: { name: string }) => e.name === 'DB_MIGRATION_PASSWORD');
    expect(migrationPassword.valueFrom.secretKeyRef).toEqual({
      name: 'memo-mariadb-credentials',
      key: 'migration-password',
    });
    expect(JSON.stringify(apiContainer(synth().manifests).env)).not.toContain('migration');
  });

  test('when built, then startup/liveness use /health/live and readiness /health/ready on the http port', () => {
    const c = apiContainer(synth().manifests);
    expect(c.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 3000, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
    ]);
  });

  test('when shutting down, then the grace period covers the preStop sleep, the shutdown delay and the drain', () => {
    const { manifests, api } = synth({ shutdownDelayMs: 7000, preStopDelaySeconds: 3, drainSeconds: 15 });
    const spec = find(manifests, 'Deployment', 'memo-api').spec;
    expect(spec.template.spec.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '3']);
    expect(api.terminationGracePeriodSeconds).toBe(3 + 7 + 15);
    expect(spec.template.spec.terminationGracePeriodSeconds).toBe(25);
    expect(spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
  });

  test('when built, then the pod is restricted, read-only with /tmp writable, and has no API token', () => {
    const spec = find(synth().manifests, 'Deployment', 'memo-api').spec.template.spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
    for (const c of [...spec.initContainers, ...spec.containers]) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(c.imagePullPolicy).toBe('IfNotPresent');
    }
  });

  test('when built, then the Ingress routes the public paths and never /metrics', () => {
    const { manifests } = synth({ ingressClassName: 'nginx' });
    const ingress = find(manifests, 'Ingress', 'memo-api');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    const paths = ingress.spec.rules[0].http.paths.map((p: any) => `${p.pathType} ${p.path}`);
    expect(paths).toEqual(['Prefix /api', 'Prefix /health', 'Prefix /docs', 'Exact /openapi.json']);
    expect(ingress.spec.tls).toBeUndefined();
    expect(ingress.metadata.annotations).toBeUndefined();
    const service = find(manifests, 'Service', 'memo-api');
    expect(service.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      // Only for ServiceMonitors; the Ingress routes to `http`, and the policy keeps it to Prometheus.
      { name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' },
    ]);
  });

  test('when a cluster issuer and host are set, then the Ingress gets TLS and the cert-manager annotation', () => {
    const { manifests } = synth({ host: 'memo.example.com', clusterIssuer: 'letsencrypt-prod' });
    const ingress = find(manifests, 'Ingress', 'memo-api');
    expect(ingress).toMatchSnapshot();
    expect(ingress.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt-prod' });
    expect(ingress.spec.tls).toEqual([{ hosts: ['memo.example.com'], secretName: 'memo-api-tls' }]);
    expect(ingress.spec.rules[0].host).toBe('memo.example.com');
  });

  test('when autoscaling is set, then an HPA scales 3-10 on CPU 70 % and memory 80 % and a PDB exists', () => {
    const { manifests } = synth({
      autoscaling: { minReplicas: 3, maxReplicas: 10 },
      spreadAcrossZones: true,
      resources: ResourcePreset.MEDIUM,
    });
    expect(
      manifests.filter((m) => ['HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(m.kind)),
    ).toMatchSnapshot();
    const hpa = find(manifests, 'HorizontalPodAutoscaler', 'memo-api');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 10,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'memo-api' },
    });
    expect(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization])).toEqual(
      [
        ['cpu', 70],
        ['memory', 80],
      ],
    );
    expect(find(manifests, 'PodDisruptionBudget', 'memo-api').spec.maxUnavailable).toBe(1);
    const deployment = find(manifests, 'Deployment', 'memo-api');
    // The HPA owns the replica count; a fixed one would be reset on every apply.
    expect(deployment.spec.replicas).toBeUndefined();
    const spread = deployment.spec.template.spec.topologySpreadConstraints;
    expect(spread.map((s: any) => s.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
  });

  test('when one fixed replica, then there is no HPA, no PDB and no spread', () => {
    const { manifests } = synth();
    expect(
      manifests.some((m) => m.kind === 'HorizontalPodAutoscaler' || m.kind === 'PodDisruptionBudget'),
    ).toBe(false);
    const deployment = find(manifests, 'Deployment', 'memo-api');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toBeUndefined();
  });

  test('when two fixed replicas, then a PDB allows one disruption at a time', () => {
    const { manifests } = synth({ replicas: 2 });
    expect(find(manifests, 'PodDisruptionBudget', 'memo-api').spec.maxUnavailable).toBe(1);
  });

  test('when settings change, then the pod template checksum changes so pods roll', () => {
    const checksum = (props: Partial<MemoApiProps>) =>
      find(synth(props).manifests, 'Deployment', 'memo-api').spec.template.metadata.annotations[
        'checksum/config'
      ];
    expect(checksum({})).toBe(checksum({}));
    expect(checksum({ logLevel: LogLevel.DEBUG })).not.toBe(checksum({}));
  });

  test('when built, then pods carry the Prometheus scrape annotations for the metrics port 9464 /metrics', () => {
    const { manifests, api } = synth();
    const annotations = find(manifests, 'Deployment', 'memo-api').spec.template.metadata.annotations;
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9464',
      'prometheus.io/path': '/metrics',
    });
    expect(api.monitoring.scrape).toEqual({ portName: 'metrics', port: 9464, path: '/metrics' });
    expect(api.monitoring.serviceName).toBe('memo-api');
  });

  test('when monitored, then the contribution names the alerts and dashboard panels the issue asks for', () => {
    const { api } = synth();
    const series = new SeriesSelector({ job: 'memo-api', namespace: 'memo' });
    expect(api.monitoring.alertRules(series).map((r) => r.alert)).toEqual([
      'MemoApiDown',
      'MemoApiHighErrorRate',
      'MemoApiHighLatencyP95',
      'MemoApiDbPoolNearExhaustion',
      'MemoApiCacheHitRateLow',
      'MemoApiOutboxBacklogGrowing',
    ]);
    const exprs = api.monitoring
      .dashboardPanels(series)
      .flatMap((p) => p.targets.map((t) => t.expr))
      .join('\n');
    for (const needle of [
      'histogram_quantile(0.5,',
      'histogram_quantile(0.95,',
      'histogram_quantile(0.99,',
      'memo_cache_hits_total',
      'memo_outbox_backlog',
      'memo_events_published_total',
    ]) {
      expect(exprs).toContain(needle);
    }
  });

  test.each([
    [{ image: 'memo-api' }, /image must be pinned to a tag or digest.*got 'memo-api'/],
    [{ image: 'memo-api:latest' }, /image must be pinned to a tag or digest.*got 'memo-api:latest'/],
    [{ replicas: 0 }, /replicas must be a positive integer, got 0/],
    [
      { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      /autoscaling.maxReplicas \(2\) must be >= autoscaling.minReplicas \(5\)/,
    ],
    [
      { autoscaling: { minReplicas: 1, maxReplicas: 2, cpuUtilizationPercent: 150 } },
      /cpuUtilizationPercent.*got 150/,
    ],
    [{ clusterIssuer: 'letsencrypt-prod' }, /clusterIssuer "letsencrypt-prod" needs a host/],
    [{ name: 'Memo_API' }, /name must be a DNS label.*"Memo_API"/],
    [
      { corsOrigins: ['https://a.example.com/path'] },
      /corsOrigins \(CORS_ORIGINS\) must be a bare origin.*got "https:\/\/a.example.com\/path"/,
    ],
    [{ dbPoolMax: 1.5 }, /dbPoolMax \(DB_POOL_MAX\) must be an integer from 1 to 1000, got "1.5"/],
    [
      { cacheTtlSeconds: 86_401 },
      /cacheTtlSeconds \(CACHE_TTL_SECONDS\) must be an integer from 0 to 86400, got 86401/,
    ],
    [
      { logLevel: 'trace' as never },
      /logLevel \(LOG_LEVEL\) must be one of debug, info, warn, error, got "trace"/,
    ],
  ] as Array<[Partial<MemoApiProps>, RegExp]>)(
    'when given %j, then it throws naming the prop and value',
    (props, message) => {
      expect(() => synth(props)).toThrow(message);
    },
  );
});
