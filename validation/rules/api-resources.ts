import type { RuleContext } from '../context';
import { quote, rec } from '../json';
import { parseQuantity, QUANTITY_PATTERN } from '../../charts/common/k8s-syntax';
import { containers, podTemplate } from '../model';

/** API-RESOURCES: quantities that parse, and no request above its limit. */
export function apiResources(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    for (const c of containers(pt)) {
      const res = rec(c.container.resources);
      if (!res) continue;
      const parsed: Record<string, Record<string, number>> = { requests: {}, limits: {} };
      for (const group of ['requests', 'limits']) {
        for (const [name, value] of Object.entries(rec(res[group]) ?? {})) {
          const q = parseQuantity(value);
          if (q === undefined)
            ctx.report({
              obj,
              rule: 'API-RESOURCES',
              path: [...c.path, 'resources', group, name],
              message: `Invalid value: ${quote(value)}: quantities must match the regular expression '${QUANTITY_PATTERN}'`,
            });
          else if (q < 0)
            ctx.report({
              obj,
              rule: 'API-RESOURCES',
              path: [...c.path, 'resources', group, name],
              message: `Invalid value: ${quote(value)}: must be greater than or equal to 0`,
            });
          else parsed[group][name] = q;
        }
      }
      const limits = rec(res.limits) ?? {};
      for (const [name, q] of Object.entries(parsed.requests)) {
        const limit = parsed.limits[name];
        if (limit !== undefined && q > limit)
          ctx.report({
            obj,
            rule: 'API-RESOURCES',
            path: [...c.path, 'resources', 'requests', name],
            message: `Invalid value: ${quote(rec(res.requests)?.[name])}: must be less than or equal to ${name} limit of ${String(limits[name])}`,
          });
      }
    }
  }
}
