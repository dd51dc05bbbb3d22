import type { RuleContext } from '../context';
import { arr, get, rec } from '../json';
import { ofKind } from '../model';
import { parseQuantity } from '../../charts/common/k8s-syntax';
import {
  ContainerDefaults,
  namespaceFootprint,
  NamespaceFootprint,
  PlainManifest,
} from '../../charts/common/workload-footprint';

/** Hard keys the folder's own objects can be counted against, with the count and its unit. */
const COUNTED: Readonly<Record<string, (f: NamespaceFootprint) => number>> = {
  pods: (f) => f.pods,
  'requests.cpu': (f) => f.cpuMillis / 1000,
  cpu: (f) => f.cpuMillis / 1000,
  'requests.memory': (f) => f.memoryBytes,
  memory: (f) => f.memoryBytes,
  'limits.memory': (f) => f.memoryLimitBytes,
  persistentvolumeclaims: (f) => f.persistentVolumeClaims,
  'requests.storage': (f) => f.storageBytes,
  'services.loadbalancers': (f) => f.loadBalancers,
  'services.nodeports': (f) => f.nodePorts,
};

/** Keys that make the API server refuse a pod whose containers leave the value out. */
const REQUIRED_BY_QUOTA = ['requests.cpu', 'cpu', 'requests.memory', 'memory', 'limits.memory'];

function containerItem(limitRange: unknown): { item: Record<string, unknown>; index: number } | undefined {
  const items = arr(get(limitRange, 'spec', 'limits'));
  const index = items.findIndex((i) => rec(i)?.type === 'Container');
  return index < 0 ? undefined : { item: rec(items[index]) ?? {}, index };
}

function defaultsOf(item: Record<string, unknown> | undefined): ContainerDefaults | undefined {
  if (item === undefined) return undefined;
  const q = (...path: string[]) => parseQuantity(get(item, ...path));
  const cpu = q('defaultRequest', 'cpu');
  const memory = q('defaultRequest', 'memory');
  const memoryLimit = q('default', 'memory') ?? q('max', 'memory');
  if (cpu === undefined || memory === undefined || memoryLimit === undefined) return undefined;
  return { cpuMillis: cpu * 1000, memoryBytes: memory, memoryLimitBytes: memoryLimit };
}

/**
 * XREF-QUOTA: a namespace's ResourceQuota admits the folder's workloads at their peak (every
 * Deployment at its HPA maximum plus its surge, every StatefulSet at its replicas, every Job
 * and CronJob at once: the count charts/common/workload-footprint.ts gives NamespaceGuardRails),
 * every container sets what the quota tracks or gets it from the namespace's LimitRange, and
 * no container's memory limit is above that LimitRange's max. Each object alone is accepted;
 * the pods are refused later ("exceeded quota", "must specify limits.memory", "maximum memory
 * usage per Container").
 */
export function xrefQuota(ctx: RuleContext): void {
  const raw = ctx.objects.map((o) => o.raw as PlainManifest);
  for (const quota of ofKind(ctx.objects, 'ResourceQuota')) {
    // A scoped quota counts only some pods (by priority class, terminating or not): not judged here.
    if (
      get(quota.raw, 'spec', 'scopes') !== undefined ||
      get(quota.raw, 'spec', 'scopeSelector') !== undefined
    )
      continue;
    const hard = rec(get(quota.raw, 'spec', 'hard')) ?? {};
    const limitRange = ofKind(ctx.objects, 'LimitRange').find((l) => l.namespace === quota.namespace);
    const footprint = namespaceFootprint(
      raw,
      quota.namespace,
      defaultsOf(containerItem(limitRange?.raw)?.item),
    );
    for (const [key, value] of Object.entries(hard)) {
      const counted = COUNTED[key];
      const limit = parseQuantity(value);
      if (counted === undefined || limit === undefined) continue;
      const need = counted(footprint);
      if (need > limit + 1e-9)
        ctx.report({
          obj: quota,
          rule: 'XREF-QUOTA',
          path: ['spec', 'hard', key],
          message: `Invalid value: ${JSON.stringify(value)}: the workloads of this folder need ${key} ${Number(need.toFixed(6))} at their peak (${footprint.workloads.map((w) => `${w.workload} x${w.pods}`).join(', ')}); the API server would refuse the rest with "exceeded quota"`,
        });
    }
    if (REQUIRED_BY_QUOTA.some((k) => k in hard))
      for (const missing of footprint.missingResources)
        ctx.report({
          obj: quota,
          rule: 'XREF-QUOTA',
          path: ['spec', 'hard'],
          message: `Required value: ${missing}, and no LimitRange of namespace ${quota.namespace} in this folder gives a default: the API server refuses such pods while this quota exists`,
        });
  }
  for (const limitRange of ofKind(ctx.objects, 'LimitRange')) {
    const container = containerItem(limitRange.raw);
    const max = parseQuantity(get(container?.item, 'max', 'memory'));
    if (container === undefined || max === undefined) continue;
    const largest = namespaceFootprint(raw, limitRange.namespace).largestContainerMemoryLimitBytes;
    if (largest > max)
      ctx.report({
        obj: limitRange,
        rule: 'XREF-QUOTA',
        path: ['spec', 'limits', container.index, 'max', 'memory'],
        message: `Invalid value: ${JSON.stringify(get(container.item, 'max', 'memory'))}: a container of this folder has a memory limit of ${largest / 2 ** 20} MiB; the API server would refuse its pods`,
      });
  }
}
