/**
 * What the workloads of one namespace can hold at their peak, read from plain manifests (the
 * synthesized JSON of a chart, or the YAML of a dist/ folder): the sum a ResourceQuota must admit.
 * NamespaceGuardRails sizes its quota from it at synth, and the offline validator checks a
 * folder's quota against it, so both count the same way.
 */
import { parseQuantity } from './k8s-syntax';

/** A manifest as plain JSON; only the fields read here are typed. */
export interface PlainManifest {
  readonly kind?: unknown;
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown };
  readonly spec?: unknown;
}

/** What a LimitRange gives a container that leaves a value out (its `defaultRequest` and `default`). */
export interface ContainerDefaults {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
}

/** One pod's charge against a quota. */
export interface PodFootprint {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
}

/** One workload at its peak: how many of its pods can exist at once, and why. */
export interface WorkloadPeak {
  /** `Kind/name`, e.g. `Deployment/memo-api`. */
  readonly workload: string;
  readonly pods: number;
  /** How the count was reached, e.g. `HPA maxReplicas 10 + maxSurge 1`. */
  readonly why: string;
  readonly perPod: PodFootprint;
}

/** The peak of every workload of a namespace at once, and the claims and Services it holds. */
export interface NamespaceFootprint {
  readonly workloads: WorkloadPeak[];
  readonly pods: number;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
  /** PersistentVolumeClaim objects plus one claim per StatefulSet replica and volumeClaimTemplate. */
  readonly persistentVolumeClaims: number;
  readonly storageBytes: number;
  readonly loadBalancers: number;
  /** Services that allocate node ports: NodePort and LoadBalancer ones. */
  readonly nodePorts: number;
  /** The largest memory limit of any one container (init containers included). */
  readonly largestContainerMemoryLimitBytes: number;
  /** Containers that leave out a value a quota on requests.cpu, requests.memory or limits.memory needs (no defaults given). */
  readonly missingResources: string[];
  /** Workloads whose pod count the manifests cannot tell (a DaemonSet runs one pod per node). */
  readonly unsized: string[];
}

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

type Json = Record<string, unknown>;

function rec(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(rec).filter((v): v is Json => v !== undefined) : [];
}

function at(value: unknown, ...path: string[]): unknown {
  let node = value;
  for (const key of path) node = rec(node)?.[key];
  return node;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function quantity(value: unknown): number | undefined {
  const q = parseQuantity(value);
  return q === undefined || q < 0 ? undefined : q;
}

/**
 * One container's values as the API server stores them: an unset request takes the limit
 * (API defaulting), then the LimitRange's default request, and an unset memory limit takes the
 * LimitRange's default.
 */
function containerFootprint(
  container: Json,
  defaults: ContainerDefaults | undefined,
  where: string,
  missing: string[],
): PodFootprint {
  const requests = rec(at(container, 'resources', 'requests')) ?? {};
  const limits = rec(at(container, 'resources', 'limits')) ?? {};
  const pick = (value: number | undefined, fallback: number | undefined, field: string): number => {
    const v = value ?? fallback;
    if (v === undefined) missing.push(`${where} container ${String(container.name)}: no ${field}`);
    return v ?? 0;
  };
  const cpuLimit = quantity(limits.cpu);
  const memoryLimit = quantity(limits.memory);
  const cpuCores = pick(
    quantity(requests.cpu) ?? cpuLimit,
    defaults === undefined ? undefined : defaults.cpuMillis / 1000,
    'requests.cpu',
  );
  return {
    // Rounded to a micro-core, so that 0.1 + 0.025 cores add up to 125 millicores exactly.
    cpuMillis: Math.round(cpuCores * 1e6) / 1e3,
    memoryBytes: pick(quantity(requests.memory) ?? memoryLimit, defaults?.memoryBytes, 'requests.memory'),
    memoryLimitBytes: pick(memoryLimit, defaults?.memoryLimitBytes, 'limits.memory'),
  };
}

const KEYS = ['cpuMillis', 'memoryBytes', 'memoryLimitBytes'] as const;

/**
 * A pod's charge as the quota evaluator computes it (resourcehelper.PodRequests/PodLimits):
 * the app containers and the sidecars (init containers with `restartPolicy: Always`) run
 * together, while each plain init container runs alone beside the sidecars started before it;
 * the pod needs the larger of the two.
 */
export function podFootprint(
  podSpec: unknown,
  defaults: ContainerDefaults | undefined,
  where: string,
  missing: string[] = [],
): PodFootprint & { largestContainerMemoryLimitBytes: number } {
  const out = { cpuMillis: 0, memoryBytes: 0, memoryLimitBytes: 0 };
  const sidecars = { cpuMillis: 0, memoryBytes: 0, memoryLimitBytes: 0 };
  const initPeak = { cpuMillis: 0, memoryBytes: 0, memoryLimitBytes: 0 };
  let largest = 0;
  for (const init of list(at(podSpec, 'initContainers'))) {
    const f = containerFootprint(init, defaults, where, missing);
    largest = Math.max(largest, f.memoryLimitBytes);
    const sidecar = init.restartPolicy === 'Always';
    for (const k of KEYS) {
      if (sidecar) sidecars[k] += f[k];
      initPeak[k] = Math.max(initPeak[k], sidecars[k] + (sidecar ? 0 : f[k]));
    }
  }
  for (const container of list(at(podSpec, 'containers'))) {
    const f = containerFootprint(container, defaults, where, missing);
    largest = Math.max(largest, f.memoryLimitBytes);
    for (const k of KEYS) out[k] += f[k];
  }
  for (const k of KEYS) out[k] = Math.max(out[k] + sidecars[k], initPeak[k]);
  return { ...out, largestContainerMemoryLimitBytes: largest };
}

/** A Deployment's extra pods during a rolling update: maxSurge, a percentage rounded up as the controller does. */
function surge(spec: unknown, replicas: number): { pods: number; why: string } {
  if (at(spec, 'strategy', 'type') === 'Recreate')
    return { pods: 0, why: '; Recreate deletes the old pods first' };
  const maxSurge = at(spec, 'strategy', 'rollingUpdate', 'maxSurge') ?? '25%';
  if (typeof maxSurge === 'string' && /^\d+%$/.test(maxSurge)) {
    const pods = Math.ceil((replicas * Number(maxSurge.slice(0, -1))) / 100);
    return { pods, why: ` + maxSurge ${maxSurge} = ${pods}` };
  }
  const pods = count(maxSurge) ?? 0;
  return { pods, why: ` + maxSurge ${pods}` };
}

function nameOf(m: PlainManifest): string {
  return typeof m.metadata?.name === 'string' ? m.metadata.name : '';
}

/**
 * How many pods of a workload can exist at once; undefined for what the manifests cannot tell.
 *
 * - Deployment: the HPA's maxReplicas (or replicas) plus maxSurge during a rolling update;
 *   Recreate deletes the old pods before it creates new ones.
 * - StatefulSet: replicas (or the HPA's maxReplicas) and no more: a rollout deletes a pod and
 *   creates its replacement under the same name only once the old one is gone.
 * - Job: parallelism (at most completions). CronJob: one run under `Forbid`; two under
 *   `Replace` (the replaced run's pods count until they have terminated) and under `Allow`
 *   (a run and the one before it; a schedule that overlaps more needs more headroom).
 */
function peakPods(m: PlainManifest, hpaMax: number | undefined): { pods: number; why: string } | undefined {
  const spec = m.spec;
  const declared = count(at(spec, 'replicas'));
  const replicas = Math.max(declared ?? (hpaMax === undefined ? 1 : 0), hpaMax ?? 0);
  const scaled = hpaMax === undefined ? `replicas ${replicas}` : `HPA maxReplicas ${replicas}`;
  const jobPods = (jobSpec: unknown): number => {
    const parallelism = count(at(jobSpec, 'parallelism')) ?? 1;
    const completions = count(at(jobSpec, 'completions'));
    return completions === undefined ? parallelism : Math.min(parallelism, completions);
  };
  switch (m.kind) {
    case 'Deployment': {
      const s = surge(spec, replicas);
      return { pods: replicas + s.pods, why: `${scaled}${s.why}` };
    }
    case 'StatefulSet':
      return { pods: replicas, why: `${scaled}; a rollout replaces one pod at a time under its name` };
    case 'ReplicaSet':
      return { pods: replicas, why: scaled };
    case 'Pod':
      return { pods: 1, why: 'one pod' };
    case 'Job': {
      const pods = jobPods(spec);
      return { pods, why: `parallelism ${pods}` };
    }
    case 'CronJob': {
      const policy = at(spec, 'concurrencyPolicy') ?? 'Allow';
      const runs = policy === 'Forbid' ? 1 : 2;
      const pods = runs * jobPods(at(spec, 'jobTemplate', 'spec'));
      return { pods, why: `concurrencyPolicy ${String(policy)}: ${runs} run(s) of ${pods / runs} pod(s)` };
    }
    default:
      return undefined;
  }
}

function podSpecOf(m: PlainManifest): unknown {
  if (m.kind === 'Pod') return m.spec;
  if (m.kind === 'CronJob') return at(m.spec, 'jobTemplate', 'spec', 'template', 'spec');
  return at(m.spec, 'template', 'spec');
}

const POD_OWNERS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'Job', 'CronJob', 'Pod']);

/**
 * The peak of `manifests` in `namespace` (objects that name no namespace count as in it, as
 * `kubectl apply -n` or a kustomization would place them): every Deployment at its HPA maximum
 * plus its surge, every StatefulSet at its replicas, every Job and CronJob running at the same
 * time, and the claims and Services that exist. Containers that leave a value out take
 * `defaults` (the namespace's LimitRange), else they are listed in `missingResources`.
 */
export function namespaceFootprint(
  manifests: readonly PlainManifest[],
  namespace: string,
  defaults?: ContainerDefaults,
): NamespaceFootprint {
  const mine = manifests.filter((m) => (m.metadata?.namespace ?? namespace) === namespace);
  const hpaMax = new Map<string, number>();
  for (const hpa of mine.filter((m) => m.kind === 'HorizontalPodAutoscaler')) {
    const target = `${String(at(hpa.spec, 'scaleTargetRef', 'kind'))}/${String(at(hpa.spec, 'scaleTargetRef', 'name'))}`;
    const max = count(at(hpa.spec, 'maxReplicas'));
    if (max !== undefined) hpaMax.set(target, max);
  }
  const workloads: WorkloadPeak[] = [];
  const missing: string[] = [];
  const unsized: string[] = [];
  let largest = 0;
  let claims = 0;
  let storage = 0;
  let loadBalancers = 0;
  let nodePorts = 0;
  for (const m of mine) {
    const workload = `${String(m.kind)}/${nameOf(m)}`;
    if (m.kind === 'PersistentVolumeClaim') {
      claims += 1;
      storage += quantity(at(m.spec, 'resources', 'requests', 'storage')) ?? 0;
    }
    if (m.kind === 'Service') {
      const type = at(m.spec, 'type');
      if (type === 'LoadBalancer') loadBalancers += 1;
      if (type === 'NodePort' || type === 'LoadBalancer') nodePorts += 1;
    }
    if (!POD_OWNERS.has(String(m.kind))) continue;
    const peak = peakPods(m, hpaMax.get(workload));
    if (peak === undefined) {
      unsized.push(`${workload}: one pod per node, which the manifests cannot tell`);
      continue;
    }
    const { largestContainerMemoryLimitBytes, ...perPod } = podFootprint(
      podSpecOf(m),
      defaults,
      workload,
      missing,
    );
    largest = Math.max(largest, largestContainerMemoryLimitBytes);
    workloads.push({ workload, pods: peak.pods, why: peak.why, perPod });
    if (m.kind === 'StatefulSet') {
      for (const template of list(at(m.spec, 'volumeClaimTemplates'))) {
        claims += peak.pods;
        storage += peak.pods * (quantity(at(template, 'spec', 'resources', 'requests', 'storage')) ?? 0);
      }
    }
  }
  const total = (f: (w: WorkloadPeak) => number) => workloads.reduce((sum, w) => sum + w.pods * f(w), 0);
  return {
    workloads,
    pods: total(() => 1),
    cpuMillis: total((w) => w.perPod.cpuMillis),
    memoryBytes: total((w) => w.perPod.memoryBytes),
    memoryLimitBytes: total((w) => w.perPod.memoryLimitBytes),
    persistentVolumeClaims: claims,
    storageBytes: storage,
    loadBalancers,
    nodePorts,
    largestContainerMemoryLimitBytes: largest,
    missingResources: missing,
    unsized,
  };
}
