import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseQuantity } from '../../charts/common/k8s-syntax';
import { namespaceFootprint, PlainManifest } from '../../charts/common/workload-footprint';
import { MemoStackProps } from '../../charts/memo-stack';
import { MonitoringMode } from '../../charts/monitoring/monitoring-mode';
import { Profile, PROFILES } from '../../charts/profiles';
import { buildProfile, writeLocalSecrets } from '../../main';
import { kubectl, layout, ROOT_DIR, up } from '../cluster/control-plane';
import { installCrds } from '../cluster/crds';
import { prepareNodes, prepareStorage } from '../cluster/fixtures';
import {
  apply,
  deleteNamespace,
  failedCreates,
  kubectlResult,
  list,
  nodeNotReadyEvents,
  serviceEndpoints,
  waitForWorkloads,
} from '../cluster/rollout';

/*
 * Every profile in dist/ applied to a real kube-apiserver (built from source, Pod Security
 * restricted enforced for every namespace), rolled out on KWOK nodes, checked for endpoints,
 * re-applied with no change. KWOK runs no containers: a pod is Ready when the scheduler placed
 * it and the kubelet stand-in reported it, so this proves what the API server, admission,
 * scheduler and controllers accept and do, not what the images do.
 */

const NAMESPACE = 'memo';
const ROLLOUT_TIMEOUT_MS = 180_000;
const l = layout(process.env.K8S_VERSION);
const built = existsSync(path.join(l.binDir, 'kube-apiserver')) && existsSync(path.join(l.binDir, 'kwok'));
const required = process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

type Manifest = {
  kind: string;
  metadata: { name: string };
  spec?: { template?: unknown; jobTemplate?: unknown };
};

function rendered(dir: string): Manifest[] {
  return parseAllDocuments(kubectl(l, ['kustomize', dir])).map((d) => d.toJS() as Manifest);
}

/** Workloads whose pod template names the Secret (env, envFrom or a volume). */
function usersOf(manifests: Manifest[], secret: string): string[] {
  return manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
    .filter((m) => JSON.stringify(m.spec?.template).includes(`"${secret}"`))
    .map((m) => `${m.kind}/${m.metadata.name}`)
    .sort();
}

/** The cloud profile expects its Secrets to exist: make each with every key its pods reference. */
function createReferencedSecrets(manifests: Manifest[]): string[] {
  const keys = new Map<string, Set<string>>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const ref = (node as { secretKeyRef?: { name: string; key: string } }).secretKeyRef;
      if (ref) keys.set(ref.name, (keys.get(ref.name) ?? new Set()).add(ref.key));
      Object.values(node).forEach(walk);
    }
  };
  walk(manifests);
  kubectlResult(l, ['create', 'namespace', NAMESPACE]);
  for (const [name, secretKeys] of keys) {
    const literals = [...secretKeys].map(
      (k) => `--from-literal=${k}=${randomBytes(18).toString('base64url')}`,
    );
    kubectl(l, ['-n', NAMESPACE, 'create', 'secret', 'generic', name, ...literals]);
  }
  return [...keys.keys()].sort();
}

/** The last value of `read()`, once `done` holds for it or after 60 s, whichever is first. */
async function pollUntil<T>(read: () => T, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(1000);
    value = read();
  }
  return value;
}

/** The namespace's ResourceQuota as the API server keeps it: its hard values and what it counts as used. */
function quotaStatus(): { name: string; hard: Record<string, string>; used: Record<string, string> } {
  const [quota] = list(l, NAMESPACE, 'resourcequotas');
  const status = (quota?.status ?? {}) as { hard?: Record<string, string>; used?: Record<string, string> };
  return { name: quota?.metadata.name ?? '', hard: status.hard ?? {}, used: status.used ?? {} };
}

/** Used values that exceed their hard value (none while the quota holds). */
function overQuota(q: ReturnType<typeof quotaStatus>): string[] {
  return Object.keys(q.hard).filter(
    (k) => (parseQuantity(q.used[k] ?? '0') ?? 0) > (parseQuantity(q.hard[k]) ?? 0),
  );
}

const PEAK_KEYS = ['pods', 'requests.cpu', 'requests.memory', 'limits.memory'] as const;

/** The quota's used values for the pod-related keys, as numbers (cores, bytes, pods). */
function usedPeak(q: ReturnType<typeof quotaStatus>): Record<string, number> {
  return Object.fromEntries(PEAK_KEYS.map((k) => [k, parseQuantity(q.used[k] ?? '0') ?? 0]));
}

/** Node labels no node has: a pod template patched with it is created (and counted) but stays Pending. */
const HOLD = { 'memostack.test/hold': 'true' };

/**
 * Patches every Deployment's and StatefulSet's pod template (an annotation, and `nodeSelector`
 * HOLD when `hold`), so each starts a rolling update; held, the new pods stay Pending and each
 * rollout stops at its peak (maxUnavailable 0: no old pod goes before a new one is ready).
 */
function rollEverything(manifests: Manifest[], round: string, hold: boolean): void {
  for (const m of manifests.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
    const patch = {
      spec: {
        template: {
          metadata: { annotations: { 'memostack.test/rollout': round } },
          spec: { nodeSelector: hold ? HOLD : null },
        },
      },
    };
    kubectl(l, [
      '-n',
      NAMESPACE,
      'patch',
      m.kind.toLowerCase(),
      m.metadata.name,
      '-p',
      JSON.stringify(patch),
    ]);
  }
}

/** A run of every Job and CronJob of the profile at once, held Pending (counted by the quota) by HOLD. */
function heldJobRuns(manifests: Manifest[]): string[] {
  const names: string[] = [];
  for (const m of manifests.filter((x) => x.kind === 'Job' || x.kind === 'CronJob')) {
    const jobSpec = (m.kind === 'CronJob' ? (m.spec?.jobTemplate as { spec: object }).spec : m.spec) as {
      template: { metadata?: object; spec: object };
    };
    const name = `${m.metadata.name}-held`;
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        ...jobSpec,
        template: { ...jobSpec.template, spec: { ...jobSpec.template.spec, nodeSelector: HOLD } },
      },
    };
    kubectl(l, ['create', '-f', '-'], JSON.stringify(job));
    names.push(name);
  }
  return names;
}

/** A pod that passes Pod Security restricted, with the given container resources. */
function restrictedPod(name: string, resources?: object): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: 'busybox:1.37.0',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          ...(resources === undefined ? {} : { resources }),
        },
      ],
    },
  };
}

interface ProfileRun {
  readonly profile: string;
  readonly report: Record<string, unknown>;
}

async function runProfile(profile: string, dir = path.join(ROOT_DIR, 'dist', profile)): Promise<ProfileRun> {
  await deleteNamespace(l, NAMESPACE);
  await prepareStorage(l);
  const manifests = rendered(dir);
  // Local profiles generate their Secrets and ExternalSecrets own theirs (no operator runs here,
  // and KWOK starts no container that would miss them); otherwise an operator makes them first.
  const makesOwnSecrets =
    existsSync(path.join(dir, 'secrets')) || manifests.some((m) => m.kind === 'ExternalSecret');
  const secrets = makesOwnSecrets ? [] : createReferencedSecrets(manifests);

  const started = Date.now();
  const applied = apply(l, ['-k', dir]);
  expect(applied.rejected).toEqual([]);
  expect(applied.podSecurityWarnings).toEqual([]);
  expect(applied.applied).toBe(manifests.length);

  const { states, seconds } = await waitForWorkloads(l, NAMESPACE, ROLLOUT_TIMEOUT_MS);
  expect(states.filter((s) => !s.ready)).toEqual([]);
  expect(failedCreates(l, NAMESPACE)).toEqual([]);
  expect(nodeNotReadyEvents(l)).toEqual([]);
  const endpoints = serviceEndpoints(l, NAMESPACE);
  expect(endpoints.filter((e) => !e.ok)).toEqual([]);

  // Admitted and looked after by their controllers: the HPA reports conditions (no metrics
  // API here, so ScalingActive is False), each PDB counts the pods it protects.
  // The HPA controller looks every 15 s: wait for its first pass rather than sample too early.
  const hpas = await pollUntil(
    () => list(l, NAMESPACE, 'horizontalpodautoscalers'),
    (items) => items.every((h) => ((h.status?.conditions as unknown[] | undefined)?.length ?? 0) > 0),
  );
  expect(hpas.filter((h) => ((h.status?.conditions as unknown[] | undefined)?.length ?? 0) === 0)).toEqual(
    [],
  );
  const pdbs = await pollUntil(
    () => list(l, NAMESPACE, 'poddisruptionbudgets'),
    (items) =>
      items.every(
        (p) => Number(p.status?.expectedPods ?? 0) > 0 && p.status?.currentHealthy === p.status?.expectedPods,
      ),
  );
  for (const p of pdbs) {
    expect(p.status?.expectedPods).toBeGreaterThan(0);
    expect(p.status?.currentHealthy).toBe(p.status?.expectedPods);
  }
  const cronJobs = list(l, NAMESPACE, 'cronjobs');
  expect(cronJobs.length).toBe(manifests.filter((m) => m.kind === 'CronJob').length);

  const diff = kubectlResult(l, ['diff', '--server-side', '--force-conflicts', '-k', dir]);
  expect({ status: diff.status, diff: diff.stdout, stderr: diff.stderr }).toEqual({
    status: 0,
    diff: '',
    stderr: '',
  });

  return {
    profile,
    report: {
      objects: applied.applied,
      rejected: applied.rejected.length,
      podSecurityWarnings: applied.podSecurityWarnings.length,
      workloadsReady: `${states.filter((s) => s.ready).length}/${states.length}`,
      servicesWithEndpoints: `${endpoints.filter((e) => e.ok).length}/${endpoints.length}`,
      hpas: hpas.length,
      pdbs: pdbs.length,
      cronJobs: cronJobs.length,
      reapplyChanges:
        diff.stdout === '' ? 0 : diff.stdout.split('\n').filter((s) => /^[+-][^+-]/.test(s)).length,
      secretsCreatedFirst: secrets,
      secondsToReady: Number(seconds.toFixed(1)),
      secondsTotal: Number(((Date.now() - started) / 1000).toFixed(1)),
    },
  };
}

/** A changed secret file: a new hashed Secret name, and exactly its users roll. */
async function rotateSecret(profile: string, secret: string): Promise<Record<string, unknown>> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), `memo-e2e-${profile}-`));
  try {
    cpSync(path.join(ROOT_DIR, 'dist', profile), scratch, { recursive: true });
    const file = path.join(scratch, 'secrets', `${secret}.env`);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /^password=.*$/m,
        `password=${randomBytes(18).toString('base64url')}`,
      ),
    );
    const before = rendered(path.join(ROOT_DIR, 'dist', profile));
    const after = rendered(scratch);
    const oldName = before.find((m) => m.kind === 'Secret' && m.metadata.name.startsWith(`${secret}-`))!
      .metadata.name;
    const newName = after.find((m) => m.kind === 'Secret' && m.metadata.name.startsWith(`${secret}-`))!
      .metadata.name;
    expect(newName).not.toBe(oldName);
    const expected = usersOf(after, newName);
    expect(expected.length).toBeGreaterThan(0);

    const generation = () =>
      new Map(
        list(l, NAMESPACE, 'deployments,statefulsets').map((o) => [
          `${o.kind}/${o.metadata.name}`,
          o.metadata.generation,
        ]),
      );
    const g0 = generation();
    const applied = apply(l, ['-k', scratch]);
    expect(applied.rejected).toEqual([]);
    const g1 = generation();
    const rolled = [...g1.keys()].filter((k) => g1.get(k) !== g0.get(k)).sort();
    expect(rolled).toEqual(expected);
    const { states } = await waitForWorkloads(l, NAMESPACE, ROLLOUT_TIMEOUT_MS);
    expect(states.filter((s) => !s.ready)).toEqual([]);
    return { secret, rolled };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A variant of a profile (other profile data or MemoStack props) as a kustomization in a scratch folder. */
function writeVariant(
  profileName: string,
  profileChanges: Partial<Profile>,
  stackProps: Omit<MemoStackProps, 'profile'>,
): string {
  const profile = PROFILES.find((p) => p.name === profileName)!;
  const built = buildProfile({ ...profile, ...profileChanges }, stackProps);
  const dir = mkdtempSync(path.join(os.tmpdir(), `memo-e2e-variant-${profileName}-`));
  for (const [file, text] of built.manifests) writeFileSync(path.join(dir, file), text);
  writeFileSync(path.join(dir, 'kustomization.yaml'), built.kustomization);
  return dir;
}

/** The optional objects, applied with the real CRDs their projects publish. */
const VARIANTS = [
  {
    name: 'cloud+operator-monitoring',
    build: () => writeVariant('cloud', {}, { monitoringMode: MonitoringMode.operator() }),
    kinds: ['ServiceMonitor', 'PrometheusRule'],
  },
  {
    name: 'cloud+external-secrets',
    build: () => writeVariant('cloud', { externalSecretStore: 'memo-secret-store' }, {}),
    kinds: ['ExternalSecret'],
  },
] as const;

const profiles = readdirSync(path.join(ROOT_DIR, 'dist'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

if (!built) {
  const message = `the control plane ${l.version} is not built in ${l.binDir}: run npm run setup (test/cluster/build.sh)`;
  if (required) {
    describe('e2e: every profile on a real API server', () => {
      it('when the control plane is not built in CI, then the suite fails', () => {
        throw new Error(message);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED *** e2e: ${message}\n`);
  }
}

(built ? describe : describe.skip)(
  `e2e: every profile on a real API server (Kubernetes ${l.version})`,
  () => {
    beforeAll(async () => {
      // The local profiles' secret files are git-ignored: a clone that ran the tests without a
      // synth first (README command 2 alone) has none, so write them as synth would.
      for (const profile of PROFILES)
        writeLocalSecrets(buildProfile(profile), {
          distDir: path.join(ROOT_DIR, 'dist'),
          secretsDir: path.join(ROOT_DIR, '.secrets'),
        });
      await up(l);
      prepareNodes(l);
      await installCrds(l);
    }, 180_000);

    afterAll(async () => {
      await deleteNamespace(l, NAMESPACE);
    }, 180_000);

    it.each(profiles)(
      'when dist/%s is applied with Pod Security restricted, then nothing is refused, everything rolls out, every Service has ready endpoints and a re-apply changes nothing',
      async (profile) => {
        const run = await runProfile(profile);
        const rotation = existsSync(path.join(ROOT_DIR, 'dist', profile, 'secrets'))
          ? await rotateSecret(profile, 'memo-redis-credentials')
          : undefined;
        console.log(
          `E2E ${profile} ${l.version} ${JSON.stringify({ ...run.report, ...(rotation ? { rotation } : {}) })}`,
        );
      },
      600_000,
    );

    it('when cloud runs with its HPA at maxReplicas and every workload and Job in a rollout held at its peak, then the quota admits every pod, the LimitRange fills and caps containers, and a Deployment scaled far beyond is refused with exceeded quota', async () => {
      const dir = path.join(ROOT_DIR, 'dist', 'cloud');
      await runProfile('cloud');
      const manifests = rendered(dir);
      const peak = namespaceFootprint(manifests as unknown as PlainManifest[], NAMESPACE);
      const expected: Record<string, number> = {
        pods: peak.pods,
        'requests.cpu': peak.cpuMillis / 1000,
        'requests.memory': peak.memoryBytes,
        'limits.memory': peak.memoryLimitBytes,
      };
      const hpa = list(l, NAMESPACE, 'horizontalpodautoscalers')[0];
      const maxReplicas = Number(hpa.spec?.maxReplicas);
      const apiReplicas = () =>
        Number(
          (list(l, NAMESPACE, 'deployments').find((d) => d.metadata.name === 'memo-api')?.status ?? {})
            .readyReplicas ?? 0,
        );

      // The HPA at its maximum: raising its minimum makes its controller scale the API up (no metrics here).
      kubectl(l, [
        '-n',
        NAMESPACE,
        'patch',
        'hpa',
        hpa.metadata.name,
        '--type',
        'merge',
        '-p',
        JSON.stringify({ spec: { minReplicas: maxReplicas } }),
      ]);
      expect(await pollUntil(apiReplicas, (n) => n === maxReplicas, 120_000)).toBe(maxReplicas);

      // Every rollout held at its peak at once, with a run of every Job and CronJob beside it.
      rollEverything(manifests, 'held', true);
      const jobs = heldJobRuns(manifests);
      let highest: Record<string, number> = {};
      const held = await pollUntil(
        () => {
          const q = quotaStatus();
          const used = usedPeak(q);
          highest = Object.fromEntries(PEAK_KEYS.map((k) => [k, Math.max(highest[k] ?? 0, used[k])]));
          return { q, used };
        },
        ({ used }) => PEAK_KEYS.every((k) => Math.abs(used[k] - expected[k]) < 1e-6),
        120_000,
      );
      const pending = list(l, NAMESPACE, 'pods').filter(
        (p) => (p.status as { phase?: string })?.phase === 'Pending',
      );
      // What the API server counts with everything at its peak is the footprint computed at synth.
      expect(held.used).toEqual(expected);
      expect(overQuota(held.q)).toEqual([]);
      expect(failedCreates(l, NAMESPACE)).toEqual([]);

      // Released: the rollouts finish and nothing was refused on the way.
      for (const job of jobs) kubectl(l, ['-n', NAMESPACE, 'delete', 'job', job, '--wait=true']);
      rollEverything(manifests, 'released', false);
      // A StatefulSet does not replace a pod of a revision that never became ready: it waits for
      // someone to delete it (Kubernetes docs, "Forced rollback"). A Deployment replaces its own.
      const stuck = list(l, NAMESPACE, 'pods')
        .filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Pending')
        .filter((p) =>
          ((p.metadata as { ownerReferences?: { kind: string }[] }).ownerReferences ?? []).some(
            (o) => o.kind === 'StatefulSet',
          ),
        )
        .map((p) => p.metadata.name);
      if (stuck.length > 0) kubectl(l, ['-n', NAMESPACE, 'delete', 'pod', ...stuck, '--wait=true']);
      const { states, seconds } = await waitForWorkloads(l, NAMESPACE, ROLLOUT_TIMEOUT_MS);
      expect(states.filter((s) => !s.ready)).toEqual([]);
      expect(apiReplicas()).toBe(maxReplicas);
      expect(failedCreates(l, NAMESPACE)).toEqual([]);
      const settled = quotaStatus();
      expect(overQuota(settled)).toEqual([]);

      // The LimitRange: a bare container gets the defaults; one asking beyond the max is refused.
      const bare = kubectl(
        l,
        ['create', '-o', 'json', '-f', '-'],
        JSON.stringify(restrictedPod('memo-bare-probe')),
      );
      const bareResources = (JSON.parse(bare) as { spec: { containers: { resources: unknown }[] } }).spec
        .containers[0].resources;
      expect(bareResources).toEqual({
        requests: { cpu: '50m', memory: '64Mi' },
        limits: { memory: '128Mi' },
      });
      kubectl(l, ['-n', NAMESPACE, 'delete', 'pod', 'memo-bare-probe', '--wait=true']);
      const greedy = kubectlResult(
        l,
        ['create', '-f', '-'],
        JSON.stringify(
          restrictedPod('memo-greedy-probe', {
            requests: { cpu: '1', memory: '1Gi' },
            limits: { memory: '8Gi' },
          }),
        ),
      );
      expect(greedy.status).not.toBe(0);
      expect(greedy.stderr).toMatch(/maximum memory usage per Container is 4Gi, but limit is 8Gi/);

      // The quota bites: Grafana scaled to 40 replicas gets only what is left of the pods.
      kubectl(l, ['-n', NAMESPACE, 'scale', 'deployment', 'memo-grafana', '--replicas=40']);
      const refused = await pollUntil(
        () => failedCreates(l, NAMESPACE).filter((e) => e.includes('exceeded quota')),
        (events) => events.length > 0,
      );
      expect(refused).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^ReplicaSet\/memo-grafana-.*exceeded quota: memo-quota, requested: pods=1, used: pods=\d+, limited: pods=30/,
          ),
        ]),
      );
      const bitten = quotaStatus();
      const grafana = list(l, NAMESPACE, 'deployments').find((d) => d.metadata.name === 'memo-grafana');
      const grafanaPods = Number((grafana?.status as { replicas?: number } | undefined)?.replicas ?? 0);
      expect(bitten.used.pods).toBe(bitten.hard.pods);
      expect(grafanaPods).toBeLessThan(40);
      expect(overQuota(bitten)).toEqual([]);

      console.log(
        `QUOTA cloud ${l.version} ${JSON.stringify({
          hard: held.q.hard,
          computedPeak: {
            pods: peak.pods,
            cpuMillis: peak.cpuMillis,
            memoryMiB: peak.memoryBytes / 2 ** 20,
            memoryLimitMiB: peak.memoryLimitBytes / 2 ** 20,
          },
          usedWithRolloutsHeld: held.q.used,
          highestUsedSeen: highest,
          pendingPodsHeld: pending.length,
          secondsToReleaseAndRollOut: Number(seconds.toFixed(1)),
          usedAfterRollout: settled.used,
          limitRangeDefaultsGiven: bareResources,
          limitRangeRefused: greedy.stderr.trim().split('\n').pop(),
          grafanaScaledTo40: { podsCreated: grafanaPods, usedPods: bitten.used.pods },
          exceededQuotaEvent: refused[0],
        })}`,
      );
    }, 900_000);

    it('when a scratch copy of dist/kind breaks Pod Security and a Service selector, then the run reports exactly those', async () => {
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'memo-e2e-broken-'));
      try {
        cpSync(path.join(ROOT_DIR, 'dist', 'kind'), scratch, { recursive: true });
        const edit = <T>(file: string, change: (doc: T) => void): void => {
          const doc = parse(readFileSync(path.join(scratch, file), 'utf8')) as T;
          change(doc);
          writeFileSync(path.join(scratch, file), stringify(doc));
        };
        type PodOwner = {
          spec: { template: { spec: { containers: { securityContext: Record<string, unknown> }[] } } };
        };
        edit<PodOwner>('Deployment.memo-api.k8s.yaml', (d) => {
          d.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
        });
        edit<{ spec: { selector: Record<string, string> } }>('Service.memo-redis.k8s.yaml', (d) => {
          d.spec.selector['app.kubernetes.io/instance'] = 'memo-redis-typo';
        });
        await deleteNamespace(l, NAMESPACE);
        await prepareStorage(l);
        const applied = apply(l, ['-k', scratch]);
        expect(applied.rejected).toEqual([]);
        expect(applied.podSecurityWarnings).toEqual([
          expect.stringMatching(
            /would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "api"/,
          ),
        ]);
        const { states } = await waitForWorkloads(l, NAMESPACE, 20_000);
        expect(states.filter((s) => !s.ready).map((s) => s.name)).toEqual(['Deployment/memo-api']);
        expect(failedCreates(l, NAMESPACE)).toEqual(
          expect.arrayContaining([expect.stringMatching(/^ReplicaSet\/memo-api-.*violates PodSecurity/)]),
        );
        expect(
          serviceEndpoints(l, NAMESPACE)
            .filter((e) => !e.ok)
            .map((e) => e.service)
            .sort(),
        ).toEqual(['memo-api', 'memo-redis']);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }, 300_000);

    it.each(VARIANTS.map((v) => [v.name, v] as const))(
      'when the %s variant is applied with its CRDs installed, then it is admitted and rolls out like the profile',
      async (name, variant) => {
        const dir = variant.build();
        try {
          const run = await runProfile(name, dir);
          const manifests = rendered(dir);
          for (const kind of variant.kinds) {
            const wanted = manifests.filter((m) => m.kind === kind).length;
            expect(wanted).toBeGreaterThan(0);
            expect(list(l, NAMESPACE, `${kind.toLowerCase()}s`).length).toBe(wanted);
          }
          console.log(`E2E ${name} ${l.version} ${JSON.stringify(run.report)}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      600_000,
    );
  },
);
