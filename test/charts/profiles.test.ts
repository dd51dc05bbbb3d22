import { App, Testing } from 'cdk8s';
import { MemoStack } from '../../charts/memo-stack';
import { CLOUD, K3D, KIND, Profile, Profiles, PROFILES } from '../../charts/profiles';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
type Manifest = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; [key: string]: any };
  [key: string]: any;
};

function synth(profile: Profile): Manifest[] {
  const chart = new MemoStack(Testing.app(), 'memo', { profile });
  return Testing.synth(chart) as Manifest[];
}

const manifests = new Map(PROFILES.map((p) => [p.name, synth(p)]));
function of(profile: Profile): Manifest[] {
  return manifests.get(profile.name)!;
}

interface PodTemplate {
  readonly owner: Manifest;
  readonly spec: any;
  /** Long-running workloads carry probes; Jobs run to completion. */
  readonly longRunning: boolean;
}

function podTemplates(objects: Manifest[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const m of objects) {
    if (['Deployment', 'StatefulSet', 'DaemonSet'].includes(m.kind)) {
      out.push({ owner: m, spec: m.spec.template.spec, longRunning: true });
    } else if (m.kind === 'Job') {
      out.push({ owner: m, spec: m.spec.template.spec, longRunning: false });
    } else if (m.kind === 'CronJob') {
      out.push({ owner: m, spec: m.spec.jobTemplate.spec.template.spec, longRunning: false });
    }
  }
  return out;
}

function allContainers(spec: any): any[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

const where = (t: PodTemplate, c?: any) =>
  `${t.owner.kind}/${t.owner.metadata.name}${c ? ` container ${c.name}` : ''}`;

/** The Pod Security Standards "restricted" checks, as the admission controller applies them. */
function restrictedViolations(t: PodTemplate): string[] {
  const problems: string[] = [];
  const pod = t.spec;
  const podSc = pod.securityContext ?? {};
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[key]) problems.push(`${where(t)}: ${key}`);
  const allowedVolumes = [
    'configMap',
    'csi',
    'downwardAPI',
    'emptyDir',
    'ephemeral',
    'persistentVolumeClaim',
    'projected',
    'secret',
  ];
  for (const v of pod.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (!type || !allowedVolumes.includes(type))
      problems.push(`${where(t)}: volume ${v.name} of type ${type}`);
  }
  if (podSc.runAsUser === 0) problems.push(`${where(t)}: pod runAsUser 0`);
  for (const c of allContainers(pod)) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) problems.push(`${where(t, c)}: privileged`);
    if (sc.allowPrivilegeEscalation !== false)
      problems.push(`${where(t, c)}: allowPrivilegeEscalation not false`);
    if (!(sc.runAsNonRoot ?? podSc.runAsNonRoot)) problems.push(`${where(t, c)}: runAsNonRoot not true`);
    if (sc.runAsUser === 0) problems.push(`${where(t, c)}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp))
      problems.push(`${where(t, c)}: seccompProfile ${seccomp}`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL'))
      problems.push(`${where(t, c)}: capabilities not dropping ALL`);
    const added = (sc.capabilities?.add ?? []).filter((cap: string) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) problems.push(`${where(t, c)}: adds ${added.join(',')}`);
    for (const p of c.ports ?? []) if (p.hostPort) problems.push(`${where(t, c)}: hostPort`);
  }
  return problems;
}

function cpuMillis(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
}

function memoryMiB(q: string): number {
  const units: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024 };
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${q}`);
  return Number(m[1]) * units[m[2]];
}

/** A pod's request as the scheduler sees it: the larger of the biggest init container and the sum of the app containers. */
function podRequests(spec: any): { cpu: number; memory: number } {
  const sum = (cs: any[], f: (q: any) => number, key: 'cpu' | 'memory') =>
    cs.reduce((total, c) => total + f(c.resources.requests[key]), 0);
  const maxInit = (f: (q: any) => number, key: 'cpu' | 'memory') =>
    Math.max(0, ...(spec.initContainers ?? []).map((c: any) => f(c.resources.requests[key])));
  return {
    cpu: Math.max(maxInit(cpuMillis, 'cpu'), sum(spec.containers, cpuMillis, 'cpu')),
    memory: Math.max(maxInit(memoryMiB, 'memory'), sum(spec.containers, memoryMiB, 'memory')),
  };
}

/** Steady-state requests: long-running pods times their replicas (an HPA's minimum when it owns the count). */
function steadyRequests(objects: Manifest[]): { cpu: number; memory: number } {
  const total = { cpu: 0, memory: 0 };
  for (const t of podTemplates(objects).filter((p) => p.longRunning)) {
    const hpa = objects.find(
      (m) => m.kind === 'HorizontalPodAutoscaler' && m.spec.scaleTargetRef.name === t.owner.metadata.name,
    );
    const replicas = t.owner.spec.replicas ?? hpa?.spec.minReplicas ?? 1;
    const r = podRequests(t.spec);
    total.cpu += r.cpu * replicas;
    total.memory += r.memory * replicas;
  }
  return total;
}

function find(objects: Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

describe.each(PROFILES.map((p) => [p.name, p] as const))('profile %s', (_name, profile) => {
  test('when synthesized, then the manifests match the snapshot', () => {
    expect(of(profile)).toMatchSnapshot();
  });

  test('when synthesized, then every pod template meets Pod Security restricted', () => {
    const templates = podTemplates(of(profile));
    expect(templates.length).toBeGreaterThan(5);
    expect(templates.flatMap(restrictedViolations)).toEqual([]);
  });

  test('when synthesized, then every container requests cpu and memory and has a memory limit', () => {
    const missing = podTemplates(of(profile)).flatMap((t) =>
      allContainers(t.spec)
        .filter(
          (c) =>
            !c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory,
        )
        .map((c) => where(t, c)),
    );
    expect(missing).toEqual([]);
  });

  test('when synthesized, then every long-running container has readiness and liveness probes', () => {
    const missing = podTemplates(of(profile))
      .filter((t) => t.longRunning)
      .flatMap((t) =>
        t.spec.containers
          .filter((c: any) => !c.readinessProbe || !c.livenessProbe)
          .map((c: any) => where(t, c)),
      );
    expect(missing).toEqual([]);
  });

  test('when synthesized, then every image is pinned and pulled IfNotPresent', () => {
    const bad = podTemplates(of(profile)).flatMap((t) =>
      allContainers(t.spec)
        .filter((c) => {
          const tag = /:([^/:@]+)$/.exec(c.image)?.[1];
          return tag === undefined || tag === 'latest' || c.imagePullPolicy !== 'IfNotPresent';
        })
        .map((c) => `${where(t, c)}: ${c.image} ${c.imagePullPolicy}`),
    );
    expect(bad).toEqual([]);
  });

  test('when synthesized, then no Secret carries data and no env value or ConfigMap holds a password', () => {
    const objects = of(profile);
    expect(objects.filter((m) => m.kind === 'Secret' && (m.data || m.stringData))).toEqual([]);
    const secretName = /(password|passwd|secret|token|api_?key|credentials?|requirepass|masterauth)$/i;
    const literalSecretEnv = podTemplates(objects).flatMap((t) =>
      allContainers(t.spec)
        .flatMap((c) => c.env ?? [])
        .filter(
          (e: any) =>
            e.value !== undefined &&
            secretName.test(e.name) &&
            !/_(FILE|PATH)$/.test(e.name) &&
            !e.value.startsWith('/'),
        )
        .map((e: any) => `${where(t)} ${e.name}`),
    );
    expect(literalSecretEnv).toEqual([]);
    const configLines = objects
      .filter((m) => m.kind === 'ConfigMap')
      .flatMap((m) =>
        Object.entries(m.data ?? {}).flatMap(([key, value]) =>
          String(value)
            .split('\n')
            .map((line) => `${m.metadata.name}/${key}: ${line}`),
        ),
      );
    const passwordLine = /\b(password|passwd|requirepass|masterauth)\b["']?\s*[:=]\s*["']?[^\s"'$/{][^\s]*/i;
    expect(configLines.filter((l) => passwordLine.test(l))).toEqual([]);
  });

  test('when synthesized, then every object but the Namespace lives in the profile namespace', () => {
    const stray = of(profile).filter(
      (m) => m.kind !== 'Namespace' && m.metadata.namespace !== profile.namespace,
    );
    expect(stray.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([]);
  });
});

describe('profile sizes', () => {
  test.each([
    ['kind', KIND],
    ['k3d', K3D],
  ] as const)('when %s is synthesized, then its requests fit a 2-CPU laptop cluster', (_name, profile) => {
    const r = steadyRequests(of(profile));
    const jobs = podTemplates(of(profile))
      .filter((t) => !t.longRunning)
      .map((t) => podRequests(t.spec));
    const peakJob = {
      cpu: Math.max(0, ...jobs.map((j) => j.cpu)),
      memory: Math.max(0, ...jobs.map((j) => j.memory)),
    };
    console.log(
      `${profile.name}: requests ${r.cpu}m CPU, ${r.memory} MiB memory ` +
        `(+ at most ${peakJob.cpu}m, ${peakJob.memory} MiB while a Job or CronJob pod runs)`,
    );
    expect(r.cpu + peakJob.cpu).toBeLessThanOrEqual(1500);
    expect(r.memory + peakJob.memory).toBeLessThanOrEqual(3 * 1024);
  });

  test('when cloud is synthesized, then its requests are printed beside the local ones', () => {
    const r = steadyRequests(of(CLOUD));
    console.log(`cloud: requests ${r.cpu}m CPU, ${r.memory} MiB memory (HPA at its minimum)`);
    // Three API replicas, replicated MariaDB and three Kafka nodes cannot fit the laptop budget.
    expect(r.cpu).toBeGreaterThan(1500);
  });
});

describe('cloud profile', () => {
  const cloud = () => of(CLOUD);

  test('when synthesized, then the API runs 3-10 replicas under an HPA with a PDB', () => {
    const hpa = find(cloud(), 'HorizontalPodAutoscaler', 'memo-api');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    expect(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization])).toEqual(
      [
        ['cpu', 70],
        ['memory', 80],
      ],
    );
    expect(find(cloud(), 'PodDisruptionBudget', 'memo-api').spec.maxUnavailable).toBe(1);
  });

  test('when synthesized, then Kafka runs 3 nodes with a 3-voter controller quorum and a PDB', () => {
    const kafka = cloud().find((m) => m.kind === 'StatefulSet' && m.metadata.name.includes('kafka'));
    expect(kafka?.spec.replicas).toBe(3);
    const text = JSON.stringify(kafka);
    const voters = /(\d@[^,"\s]+:\d+,?){3}/.exec(text)?.[0];
    expect(voters?.split(',').filter((v) => v !== '')).toHaveLength(3);
    expect(
      cloud().some((m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === kafka?.metadata.name),
    ).toBe(true);
  });

  test('when synthesized, then MariaDB is replicated with a PDB', () => {
    const mariadb = find(cloud(), 'StatefulSet', 'memo-mariadb');
    expect(mariadb.spec.replicas).toBeGreaterThan(1);
    expect(cloud().some((m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === 'memo-mariadb')).toBe(
      true,
    );
  });

  test('when synthesized, then the API, MariaDB and Kafka spread across zones and hosts', () => {
    for (const [kind, name] of [
      ['Deployment', 'memo-api'],
      ['StatefulSet', 'memo-mariadb'],
      ['StatefulSet', 'memo-kafka'],
    ]) {
      const keys = find(cloud(), kind, name).spec.template.spec.topologySpreadConstraints.map(
        (c: any) => c.topologyKey,
      );
      expect(keys).toEqual(expect.arrayContaining(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']));
    }
  });

  test('when synthesized, then the Ingress has TLS from cert-manager', () => {
    const ingress = find(cloud(), 'Ingress', 'memo-api');
    expect(ingress.metadata.annotations).toMatchObject({
      'cert-manager.io/cluster-issuer': 'letsencrypt-prod',
    });
    expect(ingress.spec.tls).toEqual([{ hosts: ['memo.example.com'], secretName: 'memo-api-tls' }]);
  });
});

describe('local profiles', () => {
  test.each([
    ['kind', KIND, 'standard', 'nginx'],
    ['k3d', K3D, 'local-path', 'traefik'],
  ] as const)(
    'when %s is synthesized, then PVCs and the Ingress use its classes and the API runs one replica',
    (_name, profile, storageClass, ingressClass) => {
      const objects = of(profile);
      expect(find(objects, 'Ingress', 'memo-api').spec.ingressClassName).toBe(ingressClass);
      const claims = objects.flatMap((m) =>
        m.kind === 'StatefulSet'
          ? (m.spec.volumeClaimTemplates ?? [])
          : m.kind === 'PersistentVolumeClaim'
            ? [m]
            : [],
      );
      expect(claims.length).toBeGreaterThan(0);
      expect(claims.every((c: any) => c.spec.storageClassName === storageClass)).toBe(true);
      expect(find(objects, 'Deployment', 'memo-api').spec.replicas).toBe(1);
      expect(objects.some((m) => m.kind === 'HorizontalPodAutoscaler')).toBe(false);
    },
  );
});

test('when a profile is synthesized twice, then the YAML is identical', () => {
  for (const profile of PROFILES) {
    const a = new App();
    const b = new App();
    new MemoStack(a, 'memo', { profile });
    new MemoStack(b, 'memo', { profile });
    expect(a.synthYaml()).toBe(b.synthYaml());
  }
});

describe('Profiles', () => {
  test('when a language without exported constants (Python, Java, Go) asks for a profile, then Profiles holds the same objects', () => {
    expect(Profiles.KIND).toBe(KIND);
    expect(Profiles.K3D).toBe(K3D);
    expect(Profiles.CLOUD).toBe(CLOUD);
    expect(Profiles.ALL).toEqual([...PROFILES]);
  });
});
