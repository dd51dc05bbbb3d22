import type { RuleContext } from '../context';
import { arr, get, quote, rec, str } from '../json';
import { containers, podTemplate } from '../model';
import type { FieldPath, K8sObject } from '../types';

const VOLUME_FIELDS = new Set(['name']);

function checkClaimSpec(ctx: RuleContext, obj: K8sObject, spec: unknown, at: FieldPath): void {
  const s = rec(spec) ?? {};
  if (arr(s.accessModes).length === 0)
    ctx.report({
      obj,
      rule: 'API-VOLUMES',
      path: [...at, 'accessModes'],
      message: 'Required value: at least 1 access mode is required',
    });
  if (get(s, 'resources', 'requests', 'storage') === undefined && !rec(s.dataSource) && !rec(s.dataSourceRef))
    ctx.report({
      obj,
      rule: 'API-VOLUMES',
      path: [...at, 'resources', 'requests', 'storage'],
      message: 'Required value',
    });
}

/** API-VOLUMES: mounts name a volume (or claim template), volumes have one source, claims are complete. */
export function apiVolumes(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    if (obj.kind === 'PersistentVolumeClaim') checkClaimSpec(ctx, obj, get(obj.raw, 'spec'), ['spec']);
    const pt = podTemplate(obj);
    if (!pt) continue;
    const names = new Set(arr(pt.spec.volumes).map((v) => str(rec(v)?.name) ?? ''));
    arr(get(obj.raw, 'spec', 'volumeClaimTemplates')).forEach((t, i) => {
      names.add(str(get(t, 'metadata', 'name')) ?? '');
      checkClaimSpec(ctx, obj, get(t, 'spec'), ['spec', 'volumeClaimTemplates', i, 'spec']);
    });
    arr(pt.spec.volumes).forEach((v, i) => {
      const sources = Object.keys(rec(v) ?? {}).filter((k) => !VOLUME_FIELDS.has(k));
      const at = [...pt.specPath, 'volumes', i];
      if (sources.length === 0)
        ctx.report({
          obj,
          rule: 'API-VOLUMES',
          path: at,
          message: 'Required value: must specify a volume type',
        });
      else if (sources.length > 1)
        ctx.report({
          obj,
          rule: 'API-VOLUMES',
          path: [...at, sources[1]],
          atKey: true,
          message: 'Forbidden: may not specify more than 1 volume type',
        });
    });
    for (const c of containers(pt)) {
      for (const field of ['volumeMounts', 'volumeDevices']) {
        arr(c.container[field]).forEach((m, i) => {
          const mount = rec(m) ?? {};
          const at = [...c.path, field, i];
          const name = str(mount.name) ?? '';
          if (!names.has(name))
            ctx.report({
              obj,
              rule: 'API-VOLUMES',
              path: [...at, 'name'],
              message: `Not found: ${quote(name)}`,
            });
          const mp = str(mount[field === 'volumeMounts' ? 'mountPath' : 'devicePath']);
          if (!mp)
            ctx.report({
              obj,
              rule: 'API-VOLUMES',
              path: [...at, field === 'volumeMounts' ? 'mountPath' : 'devicePath'],
              message: 'Required value',
            });
          const sub = str(mount.subPath);
          if (sub && (sub.startsWith('/') || sub.split('/').includes('..')))
            ctx.report({
              obj,
              rule: 'API-VOLUMES',
              path: [...at, 'subPath'],
              message: `Invalid value: ${quote(sub)}: must be a relative path without '..'`,
            });
        });
      }
    }
  }
}
