/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { ApiObject, Chart, Testing } from 'cdk8s';
import { MIB } from '../../charts/common/workload-footprint';
import { MemoStack } from '../../charts/memo-stack';
import { NamespaceGuardRails, NamespaceGuardRailsProps } from '../../charts/namespace-guard-rails';
import { CLOUD, KIND, PROFILES } from '../../charts/profiles';
import { ResourcePreset } from '../../charts/resources';

/** A container with the given requests and memory limit (millicores, MiB). */
function container(name: string, cpu: number, memory: number, limit: number, extra: object = {}): object {
  return {
    name,
    image: 'busybox:1.37',
    resources: { requests: { cpu: `${cpu}m`, memory: `${memory}Mi` }, limits: { memory: `${limit}Mi` } },
    ...extra,
  };
}

function workload(chart: Chart, kind: string, name: string, spec: object, podSpec: object): ApiObject {
  const template = { metadata: { labels: { app: name } }, spec: podSpec };
  const full =
    kind === 'CronJob'
      ? { ...spec, jobTemplate: { spec: { template } } }
      : { ...spec, template, selector: { matchLabels: { app: name } } };
  return new ApiObject(chart, `${kind}-${name}`, {
    apiVersion: kind === 'Job' || kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
    kind,
    metadata: { name, namespace: 'memo' },
    spec: full,
  });
}

/** A chart with one of each kind of workload, so every counting rule shows in one footprint. */
function sample(props: NamespaceGuardRailsProps = {}): { chart: Chart; rails: NamespaceGuardRails } {
  const chart = Testing.chart();
  const rails = new NamespaceGuardRails(chart, 'guard-rails', { namespace: 'memo', ...props });
  // 4 replicas, maxSurge 25 % of the HPA's 10 rounds up to 3: 13 pods of 100m.
  workload(
    chart,
    'Deployment',
    'web',
    {
      replicas: 4,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    },
    { containers: [container('web', 100, 128, 256)] },
  );
  new ApiObject(chart, 'hpa', {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'memo' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 4,
      maxReplicas: 10,
    },
  });
  // Recreate: 2 pods, never 3.
  workload(
    chart,
    'Deployment',
    'batch',
    { replicas: 2, strategy: { type: 'Recreate' } },
    { containers: [container('batch', 50, 64, 128)] },
  );
  // 3 replicas, a claim each; a sidecar runs beside the app, the plain init container before both.
  workload(
    chart,
    'StatefulSet',
    'db',
    {
      replicas: 3,
      serviceName: 'db',
      volumeClaimTemplates: [
        { metadata: { name: 'data' }, spec: { resources: { requests: { storage: '10Gi' } } } },
      ],
    },
    {
      initContainers: [
        container('sidecar', 25, 32, 64, { restartPolicy: 'Always' }),
        container('init', 500, 1024, 1024),
      ],
      containers: [container('db', 250, 512, 1024)],
    },
  );
  // Replace: the replaced run's pods still count while the new run starts.
  workload(
    chart,
    'CronJob',
    'sweep',
    { schedule: '0 * * * *', concurrencyPolicy: 'Replace' },
    { restartPolicy: 'Never', containers: [container('sweep', 10, 16, 32)] },
  );
  workload(
    chart,
    'Job',
    'load',
    { parallelism: 3, completions: 2 },
    {
      restartPolicy: 'Never',
      containers: [{ name: 'bare', image: 'busybox:1.37' }],
    },
  );
  new ApiObject(chart, 'claim', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'scratch', namespace: 'memo' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1536Mi' } } },
  });
  new ApiObject(chart, 'lb', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'memo' },
    spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] },
  });
  // Another namespace's workload is not this quota's business.
  new ApiObject(chart, 'elsewhere', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'elsewhere', namespace: 'other' },
    spec: { containers: [container('x', 4000, 4096, 8192)] },
  });
  return { chart, rails };
}

function synthesized(chart: Chart, kind: string): any {
  return (Testing.synth(chart) as any[]).find((m) => m.kind === kind);
}

describe('NamespaceGuardRails', () => {
  test('when the chart holds each kind of workload, then each is counted at its own peak', () => {
    const { rails } = sample();
    const peaks = Object.fromEntries(rails.footprint.workloads.map((w) => [w.workload, [w.pods, w.why]]));
    expect(peaks).toEqual({
      'Deployment/web': [13, 'HPA maxReplicas 10 + maxSurge 25% = 3'],
      'Deployment/batch': [2, 'replicas 2; Recreate deletes the old pods first'],
      'StatefulSet/db': [3, 'replicas 3; a rollout replaces one pod at a time under its name'],
      'CronJob/sweep': [2, 'concurrencyPolicy Replace: 2 run(s) of 1 pod(s)'],
      'Job/load': [2, 'parallelism 2'],
    });
  });

  test('when a pod has a sidecar and an init container, then it is charged as the quota evaluator charges it', () => {
    const db = sample().rails.footprint.workloads.find((w) => w.workload === 'StatefulSet/db');
    // The init container runs beside the sidecar started before it (525m, 1056 MiB), more than
    // the app container and the sidecar together (275m, 544 MiB).
    expect(db?.perPod).toEqual({ cpuMillis: 525, memoryBytes: 1056 * MIB, memoryLimitBytes: 1088 * MIB });
  });

  test('when a container sets no resources, then it is counted with the LimitRange defaults', () => {
    const load = sample().rails.footprint.workloads.find((w) => w.workload === 'Job/load');
    expect(load?.perPod).toEqual({ cpuMillis: 50, memoryBytes: 64 * MIB, memoryLimitBytes: 128 * MIB });
  });

  test('when synthesized, then the quota is the peak plus 25 % headroom, claims and storage exact, no LoadBalancer beyond the chart', () => {
    const { chart, rails } = sample();
    const f = rails.footprint;
    // 13x100 + 2x50 + 3x525 + 2x10 + 2x50 = 3095m; pods 13+2+3+2+2 = 22.
    expect([f.pods, f.cpuMillis, f.persistentVolumeClaims, f.loadBalancers, f.nodePorts]).toEqual([
      22, 3095, 4, 1, 1,
    ]);
    const quota = synthesized(chart, 'ResourceQuota');
    expect(quota.metadata).toMatchObject({
      name: 'memo-quota',
      namespace: 'memo',
      labels: { 'app.kubernetes.io/component': 'guard-rails', 'app.kubernetes.io/part-of': 'memostack' },
    });
    expect(quota.spec.hard).toEqual({
      pods: '28',
      'requests.cpu': '3900m',
      'requests.memory': `${Math.ceil(((f.memoryBytes / MIB) * 1.25) / 64) * 64}Mi`,
      'limits.memory': `${Math.ceil(((f.memoryLimitBytes / MIB) * 1.25) / 64) * 64}Mi`,
      persistentvolumeclaims: '4',
      'requests.storage': '32Gi',
      'services.loadbalancers': '1',
      'services.nodeports': '1',
    });
    expect(quota.spec.hard).toEqual(rails.hard);
  });

  test('when synthesized, then the LimitRange gives bare containers the defaults and caps memory at the largest limit', () => {
    const { chart } = sample({ containerDefaults: ResourcePreset.NANO });
    expect(synthesized(chart, 'LimitRange').spec).toEqual({
      limits: [
        {
          type: 'Container',
          defaultRequest: { cpu: '25m', memory: '32Mi' },
          default: { memory: '64Mi' },
          max: { memory: '1024Mi' },
        },
      ],
    });
  });

  test('when headroomPercent is 0 and maxContainerMemoryMiB is set, then the quota is the peak rounded up and the max is the prop', () => {
    const { chart, rails } = sample({ headroomPercent: 0, maxContainerMemoryMiB: 2048 });
    expect(rails.hard.pods).toBe('22');
    expect(rails.hard['requests.cpu']).toBe('3100m');
    expect(synthesized(chart, 'LimitRange').spec.limits[0].max).toEqual({ memory: '2048Mi' });
  });

  test('when resourceQuota or limitRange is false, then that object is not made', () => {
    const noQuota = sample({ resourceQuota: false });
    expect(noQuota.rails.resourceQuota).toBeUndefined();
    expect(synthesized(noQuota.chart, 'ResourceQuota')).toBeUndefined();
    expect(synthesized(noQuota.chart, 'LimitRange')).toBeDefined();
    const neither = sample({ resourceQuota: false, limitRange: false });
    expect(
      Testing.synth(neither.chart).filter((m) => ['ResourceQuota', 'LimitRange'].includes(m.kind)),
    ).toEqual([]);
  });

  test('when the quota stays but the LimitRange goes, then synth fails naming each container the API server would refuse', () => {
    const { chart } = sample({ limitRange: false });
    expect(() => Testing.synth(chart)).toThrow(
      /NamespaceGuardRails memo: Job\/load container bare: no requests.cpu, and the ResourceQuota makes the API server refuse its pods/,
    );
  });

  test('when maxContainerMemoryMiB is below a container of the chart, then synth fails naming the prop, the value and the largest limit', () => {
    const { chart } = sample({ maxContainerMemoryMiB: 512 });
    expect(() => Testing.synth(chart)).toThrow(
      /maxContainerMemoryMiB must be at least the largest memory limit of a container in the chart \(1024 MiB\), got 512/,
    );
  });

  test('when the chart holds a DaemonSet, then synth fails: its pod count depends on the nodes', () => {
    const { chart } = sample();
    workload(chart, 'DaemonSet', 'agent', {}, { containers: [container('agent', 10, 16, 32)] });
    expect(() => Testing.synth(chart)).toThrow(/DaemonSet\/agent: one pod per node.*resourceQuota: false/);
  });
});

describe('NamespaceGuardRails in MemoStack', () => {
  test.each(PROFILES.map((p) => [p.name, p] as const))(
    'when %s is synthesized, then its quota admits the peak of its own workloads with a rolling update in progress',
    (_name, profile) => {
      const stack = new MemoStack(Testing.app(), 'memo', { profile });
      const f = stack.guardRails.footprint;
      const hard = stack.guardRails.hard;
      const num = (q: string) => Number(q.replace(/(m|Mi|Gi)$/, ''));
      expect(f.missingResources).toEqual([]);
      expect(num(hard.pods)).toBeGreaterThanOrEqual(f.pods);
      expect(num(hard['requests.cpu'])).toBeGreaterThanOrEqual(f.cpuMillis);
      expect(num(hard['requests.memory'])).toBeGreaterThanOrEqual(f.memoryBytes / MIB);
      expect(num(hard['limits.memory'])).toBeGreaterThanOrEqual(f.memoryLimitBytes / MIB);
      console.log(
        `${profile.name}: peak ${f.pods} pods, ${f.cpuMillis}m CPU, ${f.memoryBytes / MIB} MiB requested, ` +
          `${f.memoryLimitBytes / MIB} MiB limits; quota ${JSON.stringify(hard)}`,
      );
    },
  );

  test('when cloud is synthesized, then the API counts at its HPA maximum plus its surge and the StatefulSets at their replicas', () => {
    const stack = new MemoStack(Testing.app(), 'memo', { profile: CLOUD });
    const pods = Object.fromEntries(stack.guardRails.footprint.workloads.map((w) => [w.workload, w.pods]));
    expect(pods).toMatchObject({
      'Deployment/memo-api': 11,
      'StatefulSet/memo-kafka': 3,
      'StatefulSet/memo-mariadb': 2,
      'CronJob/memo-mariadb-backup': 1,
    });
  });

  test('when guardRails turns both off, then the stack has neither object', () => {
    const stack = new MemoStack(Testing.app(), 'memo', {
      profile: KIND,
      guardRails: { resourceQuota: false, limitRange: false },
    });
    expect(Testing.synth(stack).filter((m: any) => ['ResourceQuota', 'LimitRange'].includes(m.kind))).toEqual(
      [],
    );
  });
});
