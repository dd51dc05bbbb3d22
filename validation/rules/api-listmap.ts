import type { RuleContext } from '../context';
import { arr, get, num, quote, rec, str } from '../json';
import { containers, podTemplate } from '../model';
import type { FieldPath, K8sObject } from '../types';

/** Reports every item after the first whose key was already seen. */
function unique(
  ctx: RuleContext,
  obj: K8sObject,
  list: unknown,
  base: FieldPath,
  key: (item: Record<string, unknown>) => string | undefined,
  field: string,
  shown: (item: Record<string, unknown>) => unknown,
): void {
  const seen = new Set<string>();
  arr(list).forEach((item, i) => {
    const r = rec(item);
    const k = r ? key(r) : undefined;
    if (!r || k === undefined) return;
    if (seen.has(k))
      ctx.report({
        obj,
        rule: 'API-LISTMAP',
        path: [...base, i, field],
        message: `Duplicate value: ${quote(shown(r))}`,
      });
    seen.add(k);
  });
}

/** API-LISTMAP: the list-map keys the API server (or server-side apply) requires to be unique. */
export function apiListMap(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (pt) {
      // Init and regular containers share one name space.
      const seen = new Set<string>();
      for (const c of containers(pt)) {
        if (seen.has(c.name))
          ctx.report({
            obj,
            rule: 'API-LISTMAP',
            path: [...c.path, 'name'],
            message: `Duplicate value: ${quote(c.name)}`,
          });
        seen.add(c.name);
        const byName = (r: Record<string, unknown>): string | undefined => str(r.name);
        unique(ctx, obj, c.container.env, [...c.path, 'env'], byName, 'name', (r) => r.name);
        unique(
          ctx,
          obj,
          c.container.volumeMounts,
          [...c.path, 'volumeMounts'],
          (r) => str(r.mountPath),
          'mountPath',
          (r) => r.mountPath,
        );
        unique(
          ctx,
          obj,
          c.container.ports,
          [...c.path, 'ports'],
          (r) =>
            num(r.containerPort) === undefined
              ? undefined
              : `${String(r.containerPort)}/${str(r.protocol) ?? 'TCP'}`,
          'containerPort',
          (r) => r.containerPort,
        );
        unique(
          ctx,
          obj,
          c.container.ports,
          [...c.path, 'ports'],
          (r) => str(r.name),
          'name',
          (r) => r.name,
        );
      }
      unique(
        ctx,
        obj,
        pt.spec.volumes,
        [...pt.specPath, 'volumes'],
        (r) => str(r.name),
        'name',
        (r) => r.name,
      );
    }
    if (obj.kind === 'Service') {
      const ports = get(obj.raw, 'spec', 'ports');
      unique(
        ctx,
        obj,
        ports,
        ['spec', 'ports'],
        (r) => str(r.name),
        'name',
        (r) => r.name,
      );
      unique(
        ctx,
        obj,
        ports,
        ['spec', 'ports'],
        (r) => (num(r.port) === undefined ? undefined : `${String(r.port)}/${str(r.protocol) ?? 'TCP'}`),
        'port',
        (r) => r.port,
      );
    }
  }
}
