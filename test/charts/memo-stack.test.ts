/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { synthProfile } from '../../main';
import { MemoStack, MemoStackProps } from '../../charts/memo-stack';
import { MonitoringMode } from '../../charts/monitoring/monitoring-mode';
import { CLOUD, KIND, Profile } from '../../charts/profiles';
import { SeriesSelector } from '../../charts/series-selector';

type Manifest = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; [key: string]: any };
  [key: string]: any;
};

function build(props: MemoStackProps): { stack: MemoStack; manifests: Manifest[] } {
  const stack = new MemoStack(Testing.app(), 'memo', props);
  return { stack, manifests: Testing.synth(stack) as Manifest[] };
}

function find(objects: Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

function podTemplates(objects: Manifest[]): Array<{ owner: Manifest; metadata: any; spec: any }> {
  return objects.flatMap((m) => {
    if (['Deployment', 'StatefulSet', 'Job'].includes(m.kind)) return [{ owner: m, ...m.spec.template }];
    if (m.kind === 'CronJob') return [{ owner: m, ...m.spec.jobTemplate.spec.template }];
    return [];
  });
}

function selects(
  selector: { matchLabels?: Record<string, string> },
  labels: Record<string, string> = {},
): boolean {
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * The parts of a PromQL expression that could read another stack's series: what is left once
 * its selectors scoped to `series` (metric name, then job and namespace, then any other
 * matchers), ranges, grouping label lists, numbers and function calls are taken out. A bare
 * metric name or a selector without the scope stays.
 */
function unscopedParts(expr: string, series: SeriesSelector): string[] {
  const scope = `{job=${JSON.stringify(series.job)},namespace=${JSON.stringify(series.namespace)}`;
  const scoped = new RegExp(
    `[a-zA-Z_:][a-zA-Z0-9_:]*${scope.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` +
      `(?:,[a-zA-Z_][a-zA-Z0-9_]*=~?"(?:[^"\\\\]|\\\\.)*")*\\}`,
    'g',
  );
  const rest = expr
    .replace(scoped, ' # ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![a-zA-Z_:])\d+(?:\.\d+)?/g, ' ');
  const parts = rest.includes('{') ? [rest.slice(rest.indexOf('{'))] : [];
  for (const m of rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const isCall = /^\s*\(/.test(rest.slice(m.index + m[0].length));
    if (!isCall && !['and', 'or', 'unless', 'bool', 'offset'].includes(m[0])) parts.push(m[0]);
  }
  return parts;
}

const kind = build({ profile: KIND });

describe('MemoStack', () => {
  test('when built, then the namespace enforces Pod Security restricted and a default-deny policy covers it', () => {
    const ns = find(kind.manifests, 'Namespace', 'memo');
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    expect(ns.metadata.namespace).toBeUndefined();
    expect(find(kind.manifests, 'NetworkPolicy', 'default-deny-all').spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
  });

  test('when built, then the API env names real Services on the ports they serve', () => {
    const env = kind.stack.api.environment;
    const service = (host: string) =>
      find(kind.manifests, 'Service', host.replace(/\.memo\.svc(\.cluster\.local)?$/, ''));
    const servicePorts = (host: string) => service(host).spec.ports.map((p: any) => p.port);
    expect(servicePorts(String(env.DB_HOST))).toContain(Number(env.DB_PORT));
    expect(servicePorts(String(env.REDIS_HOST))).toContain(Number(env.REDIS_PORT));
    const brokers = String(env.KAFKA_BROKERS).split(',');
    expect(brokers.length).toBeGreaterThan(0);
    for (const broker of brokers) {
      const [host, port] = broker.split(':');
      expect(servicePorts(host)).toContain(Number(port));
    }
    expect(env.KAFKA_TOPIC).toBe('memo_events');
    expect(kind.manifests.some((m) => m.kind === 'Job' && JSON.stringify(m).includes('memo_events'))).toBe(
      true,
    );
  });

  test('when built, then the API pods may reach exactly MariaDB 3306, Redis 6379 and Kafka 9092 besides DNS', () => {
    const egress = find(kind.manifests, 'NetworkPolicy', 'memo-api').spec.egress;
    const ports = egress.flatMap((r: any) => r.ports.map((p: any) => p.port)).filter((p: number) => p !== 53);
    expect(ports.sort()).toEqual([3306, 6379, 9092]);
  });

  test('when built, then MariaDB, Redis and Kafka admit the API only on their client ports', () => {
    const apiLabels = kind.stack.api.podSelectorLabels;
    for (const [name, port] of [
      ['memo-mariadb', 3306],
      ['memo-redis', 6379],
      ['memo-kafka', 9092],
    ] as const) {
      const ingress = find(kind.manifests, 'NetworkPolicy', name).spec.ingress as any[];
      const fromApi = ingress.filter((r) =>
        (r.from ?? []).some((f: any) => f.podSelector && selects(f.podSelector, apiLabels)),
      );
      expect(fromApi.map((r) => r.ports.map((p: any) => p.port))).toEqual([[port]]);
    }
  });

  test('when built, then every pod is selected by its own NetworkPolicy and every policy selects pods', () => {
    const policies = kind.manifests.filter(
      (m) => m.kind === 'NetworkPolicy' && m.metadata.name !== 'default-deny-all',
    );
    const templates = podTemplates(kind.manifests);
    const unselected = templates.filter(
      (t) => !policies.some((p) => selects(p.spec.podSelector, t.metadata.labels)),
    );
    expect(unselected.map((t) => `${t.owner.kind}/${t.owner.metadata.name}`)).toEqual([]);
    const idle = policies.filter(
      (p) => !templates.some((t) => selects(p.spec.podSelector, t.metadata.labels)),
    );
    expect(idle.map((p) => p.metadata.name)).toEqual([]);
  });

  test('when built, then Prometheus scrapes all four components and each admits the scrape', () => {
    expect(kind.stack.monitoring.monitored.map((c) => c.component)).toEqual([
      'memo-api',
      'mariadb',
      'redis',
      'kafka',
    ]);
    const prometheusLabels = { 'app.kubernetes.io/instance': 'memo-prometheus' };
    for (const c of kind.stack.monitoring.monitored) {
      const ingress = kind.manifests
        .filter((m) => m.kind === 'NetworkPolicy' && m.metadata.name !== 'default-deny-all')
        .filter((m) => selects(m.spec.podSelector, c.podSelectorLabels))
        .flatMap((m) => m.spec.ingress as any[]);
      const scrapes = ingress.filter((r) =>
        (r.from ?? []).some(
          (f: any) => f.podSelector && selects({ matchLabels: prometheusLabels }, f.podSelector.matchLabels),
        ),
      );
      expect(scrapes.flatMap((r) => r.ports.map((p: any) => p.port))).toEqual([c.scrape.port]);
    }
  });

  test('when a query reads a bare metric or a selector without the scope, then the scope check names it', () => {
    const series = new SeriesSelector({ job: 'memo-redis-headless', namespace: 'memo' });
    expect(unscopedParts(`(count(${series.series('redis_up')} == 1) or vector(0)) < 1`, series)).toEqual([]);
    expect(unscopedParts('(count(redis_up == 1) or vector(0)) < 1', series)).toEqual(['redis_up']);
    const neighbour = new SeriesSelector({ job: 'memo-redis-headless', namespace: 'memo-b' });
    expect(unscopedParts(`sum(rate(${neighbour.series('redis_evicted_keys_total')}[5m]))`, series)).toContain(
      'redis_evicted_keys_total',
    );
  });

  test.each([
    ['kind in memo', { ...KIND }],
    ['cloud in memo-b', { ...CLOUD, namespace: 'memo-b' }],
  ])(
    'when the %s stack is built, then every selector of every alert rule and dashboard query carries its component job and namespace',
    (_name, profile) => {
      const { stack } = build({ profile });
      const seriesOf = (component: string) => {
        const c = stack.monitoring.monitored.find((m) => m.component === component);
        if (c === undefined) throw new Error(`no component ${component}`);
        return stack.monitoring.seriesOf({ monitoring: c });
      };
      const queries: Array<{ component: string; expr: string }> = [
        ...parse(stack.monitoring.rulesYaml).groups.flatMap((g: any) =>
          g.rules.map((r: any) => ({ component: g.name, expr: r.expr })),
        ),
        ...Object.entries(stack.monitoring.dashboardsJson).flatMap(([file, json]) =>
          JSON.parse(json).panels.flatMap((p: any) =>
            p.targets.map((t: any) => ({ component: file.replace(/\.json$/, ''), expr: t.expr })),
          ),
        ),
      ];
      expect(queries.length).toBeGreaterThan(40);
      const unscoped = queries
        .map((q) => ({ ...q, parts: unscopedParts(q.expr, seriesOf(q.component)) }))
        .filter((q) => q.parts.length > 0);
      expect(unscoped).toEqual([]);
      expect(seriesOf('mariadb')).toMatchObject({
        job: 'memo-mariadb-headless',
        namespace: profile.namespace,
      });
    },
  );

  test('when built, then the Secrets it reads are merged per name with the union of their keys', () => {
    expect(kind.stack.requiredSecrets.map((s) => s.secretName)).toEqual([
      'memo-grafana-credentials',
      'memo-mariadb-credentials',
      'memo-redis-credentials',
    ]);
    expect(kind.stack.requiredSecrets.every((s) => s.namespace === 'memo' && s.keys.length > 0)).toBe(true);
    const referenced = new Set(
      podTemplates(kind.manifests).flatMap((t) =>
        [...(t.spec.initContainers ?? []), ...t.spec.containers].flatMap((c: any) =>
          (c.env ?? [])
            .filter((e: any) => e.valueFrom?.secretKeyRef)
            .map((e: any) => `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`),
        ),
      ),
    );
    const declared = new Set(
      kind.stack.requiredSecrets.flatMap((s) => s.keys.map((k) => `${s.secretName}/${k}`)),
    );
    expect([...referenced].filter((r) => !declared.has(r))).toEqual([]);
  });

  test('when built, then Argo CD applies the namespace, then prerequisites, then data stores, then the API and monitoring', () => {
    const { manifests } = build({ profile: CLOUD });
    const wave = (kind: string, name: string) =>
      find(manifests, kind, name).metadata.annotations?.['argocd.argoproj.io/sync-wave'];
    expect(
      manifests.filter((m) => m.metadata.annotations?.['argocd.argoproj.io/sync-wave'] === undefined),
    ).toEqual([]);
    expect(wave('Namespace', 'memo')).toBe('-2');
    expect(wave('ConfigMap', 'memo-mariadb-config')).toBe('-1');
    expect(wave('PersistentVolumeClaim', 'memo-mariadb-backup')).toBe('-1');
    expect(wave('NetworkPolicy', 'memo-api')).toBe('-1');
    expect(wave('StatefulSet', 'memo-mariadb')).toBe('0');
    expect(wave('Service', 'memo-kafka-bootstrap')).toBe('0');
    expect(wave('Deployment', 'memo-api')).toBe('1');
    expect(wave('Deployment', 'memo-prometheus')).toBe('1');
  });

  test('when built, then neither a GitOps prune nor deleting the application removes the Namespace or a claim', () => {
    const { manifests } = build({ profile: CLOUD });
    const kept = manifests.filter((m) => m.kind === 'Namespace' || m.kind === 'PersistentVolumeClaim');
    expect(kept.length).toBeGreaterThan(1);
    for (const m of kept) {
      expect(m.metadata.annotations).toMatchObject({
        'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
        'kustomize.toolkit.fluxcd.io/prune': 'disabled',
      });
    }
    const others = manifests.filter((m) => !kept.includes(m));
    expect(
      others.filter((m) => m.metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune'] !== undefined),
    ).toEqual([]);
  });

  test('when the profile names an external secret store, then an ExternalSecret materializes each Secret', () => {
    const { stack, manifests } = build({ profile: { ...CLOUD, externalSecretStore: 'vault' } });
    const externalSecrets = manifests.filter((m) => m.kind === 'ExternalSecret');
    expect(externalSecrets).toMatchSnapshot();
    expect(externalSecrets.map((m) => m.metadata.name)).toEqual(
      stack.requiredSecrets.map((s) => s.secretName),
    );
    const mariadb = find(manifests, 'ExternalSecret', 'memo-mariadb-credentials');
    expect(mariadb.apiVersion).toBe('external-secrets.io/v1');
    expect(mariadb.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'vault' });
    expect(mariadb.spec.target).toEqual({ name: 'memo-mariadb-credentials', creationPolicy: 'Owner' });
    expect(mariadb.spec.data.map((d: any) => d.secretKey)).toEqual(
      stack.requiredSecrets.find((s) => s.secretName === 'memo-mariadb-credentials')?.keys,
    );
  });

  test('when the default cloud profile is built, then it references existing Secrets and emits no ExternalSecret', () => {
    const { manifests } = build({ profile: CLOUD });
    expect(manifests.some((m) => m.kind === 'ExternalSecret' || m.kind === 'Secret')).toBe(false);
  });

  test('when monitoring runs in operator mode, then the stack emits ServiceMonitors and no monitoring workloads', () => {
    const { manifests } = build({ profile: KIND, monitoringMode: MonitoringMode.operator() });
    const operatorObjects = manifests.filter((m) => m.apiVersion === 'monitoring.coreos.com/v1');
    expect(operatorObjects).toMatchSnapshot();
    expect(operatorObjects.filter((m) => m.kind === 'ServiceMonitor')).toHaveLength(4);
    expect(
      manifests.some(
        (m) => m.kind === 'Deployment' && /prometheus|grafana|alertmanager/.test(m.metadata.name),
      ),
    ).toBe(false);
  });
});

describe('main.ts synthProfile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memostack-synth-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const options = () => ({ distDir: path.join(dir, 'dist'), secretsDir: path.join(dir, '.secrets') });
  const read = (...parts: string[]) => fs.readFileSync(path.join(dir, ...parts), 'utf8');

  test('when a local profile is synthesized, then the kustomization lists every file sorted and generates each Secret', () => {
    const resources = synthProfile(KIND, options());
    const kustomization = parse(read('dist', 'kind', 'kustomization.yaml'));
    const files = fs.readdirSync(path.join(dir, 'dist', 'kind')).filter((f) => f.endsWith('.k8s.yaml'));
    expect(kustomization.resources).toEqual([...files].sort());
    expect(kustomization.resources).toEqual(resources);
    expect(kustomization.namespace).toBe('memo');
    expect(kustomization.secretGenerator.map((g: any) => g.name)).toEqual([
      'memo-grafana-credentials',
      'memo-mariadb-credentials',
      'memo-redis-credentials',
    ]);
    for (const g of kustomization.secretGenerator) {
      expect(g.envs).toEqual([`secrets/${g.name}.env`]);
      expect(read('dist', 'kind', 'secrets', `${g.name}.env`)).toBe(read('.secrets', `${g.name}.env`));
    }
    const mariadbEnv = read('.secrets', 'memo-mariadb-credentials.env');
    expect(mariadbEnv).toMatch(/^password=[A-Za-z0-9_-]{32}$/m);
  });

  test('when synthesized twice, then dist and the secret values are unchanged', () => {
    synthProfile(KIND, options());
    const snapshot = () =>
      Object.fromEntries(
        ['dist/kind', 'dist/kind/secrets', '.secrets'].flatMap((d) =>
          fs
            .readdirSync(path.join(dir, d))
            .filter((f) => f.includes('.'))
            .map((f) => [`${d}/${f}`, read(d, f)]),
        ),
      );
    const first = snapshot();
    synthProfile(KIND, options());
    expect(snapshot()).toEqual(first);
  });

  test('when a stale manifest or key is present, then the manifest goes and existing values stay', () => {
    fs.mkdirSync(path.join(dir, 'dist', 'kind'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dist', 'kind', 'Service.gone.k8s.yaml'), 'stale');
    fs.mkdirSync(path.join(dir, '.secrets'));
    fs.writeFileSync(path.join(dir, '.secrets', 'memo-redis-credentials.env'), 'password=kept-by-hand');
    synthProfile(KIND, options());
    expect(fs.existsSync(path.join(dir, 'dist', 'kind', 'Service.gone.k8s.yaml'))).toBe(false);
    expect(read('.secrets', 'memo-redis-credentials.env')).toBe('password=kept-by-hand');
  });

  test('when the cloud profile is synthesized, then no secret is generated or copied', () => {
    synthProfile(CLOUD as Profile, options());
    const kustomization = parse(read('dist', 'cloud', 'kustomization.yaml'));
    expect(kustomization.secretGenerator).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'dist', 'cloud', 'secrets'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.secrets'))).toBe(false);
  });
});
