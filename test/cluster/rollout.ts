import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterLayout, kubectl } from './control-plane';

/*
 * What an applied profile looks like to the real API server: what it refused, which Pod
 * Security warnings it gave, whether every workload rolled out under KWOK, and whether every
 * Service's selector, ports and readiness line up (ready EndpointSlice endpoints).
 */

export interface KubectlResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** kubectl without throwing: apply and diff report through their exit code and stderr. */
export function kubectlResult(l: ClusterLayout, args: readonly string[], input?: string): KubectlResult {
  const r = spawnSync(path.join(l.binDir, 'kubectl'), ['--kubeconfig', l.kubeconfig, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    input,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface ApplyReport {
  readonly applied: number;
  readonly rejected: string[];
  readonly podSecurityWarnings: string[];
  readonly otherWarnings: string[];
}

/** `kubectl apply --server-side` of a kustomization (or a file, with `-f`) and what the server said. */
export function apply(l: ClusterLayout, target: readonly string[]): ApplyReport {
  return applyReport(kubectlResult(l, ['apply', '--server-side', '--force-conflicts', ...target]));
}

/**
 * What the API server would say to these objects, changing nothing: server-side apply with
 * `--dry-run=server` runs validation and admission (Pod Security included) but stores nothing.
 */
export function dryRun(l: ClusterLayout, namespace: string, objects: readonly unknown[]): ApplyReport {
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  return applyReport(
    kubectlResult(
      l,
      ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-n', namespace, '-f', '-'],
      list,
    ),
  );
}

function applyReport(r: KubectlResult): ApplyReport {
  const lines = r.stderr.split('\n').filter((s) => s.trim() !== '');
  const warnings = lines.filter((s) => s.startsWith('Warning:'));
  const errors = lines.filter((s) => !s.startsWith('Warning:'));
  return {
    applied: r.stdout.split('\n').filter((s) => / serverside-applied( \(server dry run\))?$/.test(s)).length,
    rejected: r.status !== 0 && errors.length === 0 ? [`kubectl exited with ${r.status}`] : errors,
    podSecurityWarnings: warnings.filter((s) => s.includes('would violate PodSecurity')),
    otherWarnings: warnings.filter((s) => !s.includes('would violate PodSecurity')),
  };
}

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export function list(l: ClusterLayout, namespace: string, kinds: string): Obj[] {
  return (JSON.parse(kubectl(l, ['-n', namespace, 'get', kinds, '-o', 'json'])) as { items: Obj[] }).items;
}

export interface WorkloadState {
  readonly name: string;
  readonly ready: boolean;
  readonly detail: string;
}

/** Deployments and StatefulSets at their desired ready, updated replicas; Jobs complete. */
export function workloads(l: ClusterLayout, namespace: string): WorkloadState[] {
  return list(l, namespace, 'deployments,statefulsets,jobs').map((o) => {
    const s = (o.status ?? {}) as Record<string, number | undefined>;
    const name = `${o.kind}/${o.metadata.name}`;
    if (o.kind === 'Job') {
      const completions = Number((o.spec as { completions?: number }).completions ?? 1);
      return {
        name,
        ready: (s.succeeded ?? 0) >= completions,
        detail: `succeeded ${s.succeeded ?? 0}/${completions}`,
      };
    }
    const want = Number((o.spec as { replicas?: number }).replicas ?? 1);
    const current = (s.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
    const ready = current && (s.readyReplicas ?? 0) === want && (s.updatedReplicas ?? 0) === want;
    return {
      name,
      ready,
      detail: `ready ${s.readyReplicas ?? 0}/${want}, updated ${s.updatedReplicas ?? 0}`,
    };
  });
}

/** Polls until every workload is ready; returns the last states and the seconds it took. */
export async function waitForWorkloads(
  l: ClusterLayout,
  namespace: string,
  timeoutMs: number,
): Promise<{ states: WorkloadState[]; seconds: number }> {
  const started = Date.now();
  let states = workloads(l, namespace);
  while (!states.every((s) => s.ready) && Date.now() - started < timeoutMs) {
    await sleep(500);
    states = workloads(l, namespace);
  }
  return { states, seconds: (Date.now() - started) / 1000 };
}

/** Warning events that mean pods were refused (Pod Security enforces on Pods, not on their owners). */
export function failedCreates(l: ClusterLayout, namespace: string): string[] {
  return list(l, namespace, 'events')
    .map(
      (e) =>
        e as unknown as {
          reason?: string;
          message?: string;
          involvedObject?: { kind: string; name: string };
        },
    )
    .filter((e) => e.reason === 'FailedCreate')
    .map((e) => `${e.involvedObject?.kind}/${e.involvedObject?.name}: ${e.message}`);
}

export interface ServiceEndpoints {
  readonly service: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * For each Service with a selector: at least one ready endpoint, and every Service port (by
 * name) resolved to a number in the slices. A wrong selector gives no endpoints; a named
 * targetPort the pods do not declare gives a slice without that port.
 */
export function serviceEndpoints(l: ClusterLayout, namespace: string): ServiceEndpoints[] {
  const slices = list(l, namespace, 'endpointslices') as unknown as {
    metadata: { labels?: Record<string, string> };
    ports?: { name?: string; port?: number }[] | null;
    endpoints?: { conditions?: { ready?: boolean } }[] | null;
  }[];
  return list(l, namespace, 'services')
    .filter((s) => Object.keys((s.spec?.selector as Record<string, string> | undefined) ?? {}).length > 0)
    .map((s) => {
      const mine = slices.filter(
        (sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === s.metadata.name,
      );
      const ready = mine
        .flatMap((sl) => sl.endpoints ?? [])
        .filter((e) => e.conditions?.ready === true).length;
      const wanted = ((s.spec?.ports as { name?: string }[] | undefined) ?? []).map((p) => p.name ?? '');
      const resolved = new Set(
        mine
          .flatMap((sl) => sl.ports ?? [])
          .filter((p) => typeof p.port === 'number')
          .map((p) => p.name ?? ''),
      );
      const missing = wanted.filter((n) => !resolved.has(n));
      return {
        service: s.metadata.name,
        ok: ready > 0 && missing.length === 0,
        detail: `${ready} ready endpoint(s)${missing.length > 0 ? `, ports not resolved: ${missing.join(', ')}` : ''}`,
      };
    });
}

/** Deletes the namespace and waits until it is gone (its pods, claims and finalizers too). */
export async function deleteNamespace(
  l: ClusterLayout,
  namespace: string,
  timeoutMs = 180_000,
): Promise<void> {
  kubectlResult(l, ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
  const started = Date.now();
  while (kubectlResult(l, ['get', 'namespace', namespace]).status === 0) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`namespace ${namespace} still exists after ${timeoutMs / 1000} s`);
    }
    await sleep(500);
  }
}

/** NodeNotReady events: the simulated nodes must stay Ready, or the rollout checks prove nothing. */
export function nodeNotReadyEvents(l: ClusterLayout): string[] {
  return list(l, 'default', 'events')
    .map(
      (e) => e as unknown as { reason?: string; involvedObject?: { name: string }; lastTimestamp?: string },
    )
    .filter((e) => e.reason === 'NodeNotReady')
    .map((e) => `${e.involvedObject?.name} at ${e.lastTimestamp}`);
}
