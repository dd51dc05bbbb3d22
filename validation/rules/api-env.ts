import type { RuleContext } from '../context';
import { arr, quote, rec, str } from '../json';
import { envVarName } from '../../charts/common/k8s-syntax';
import { containers, podTemplate } from '../model';

const SOURCES = ['configMapKeyRef', 'fieldRef', 'resourceFieldRef', 'secretKeyRef', 'fileKeyRef'];

/** API-ENV: variable names, and exactly one source per variable. */
export function apiEnv(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    for (const c of containers(pt)) {
      arr(c.container.env).forEach((e, i) => {
        const env = rec(e) ?? {};
        const at = [...c.path, 'env', i];
        const name = str(env.name) ?? '';
        if (name === '')
          ctx.report({ obj, rule: 'API-ENV', path: [...at, 'name'], message: 'Required value' });
        else
          for (const err of envVarName(name))
            ctx.report({
              obj,
              rule: 'API-ENV',
              path: [...at, 'name'],
              message: `Invalid value: ${quote(name)}: ${err}`,
            });
        const from = rec(env.valueFrom);
        if (!from) return;
        const sources = SOURCES.filter((s) => from[s] !== undefined);
        if (str(env.value))
          ctx.report({
            obj,
            rule: 'API-ENV',
            path: [...at, 'valueFrom'],
            atKey: true,
            message: 'Invalid value: "": may not be specified when `value` is not empty',
          });
        if (sources.length === 0)
          ctx.report({
            obj,
            rule: 'API-ENV',
            path: [...at, 'valueFrom'],
            atKey: true,
            message:
              'Required value: must specify one of: `configMapKeyRef`, `fieldRef`, `resourceFieldRef` or `secretKeyRef`',
          });
        else if (sources.length > 1)
          ctx.report({
            obj,
            rule: 'API-ENV',
            path: [...at, 'valueFrom'],
            atKey: true,
            message: 'Invalid value: "": may not have more than one field specified at a time',
          });
        for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
          const r = rec(from[ref]);
          if (!r) continue;
          for (const f of ['name', 'key'])
            if (!str(r[f]))
              ctx.report({
                obj,
                rule: 'API-ENV',
                path: [...at, 'valueFrom', ref, f],
                message: 'Required value',
              });
        }
      });
    }
  }
}
