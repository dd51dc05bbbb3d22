import type { RuleContext } from '../context';
import { num, rec } from '../json';
import { containers, podTemplate, PROBES } from '../model';

const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];

/** API-PROBES: one handler per probe; liveness and startup probes cannot need more than one success. */
export function apiProbes(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    for (const c of containers(pt)) {
      for (const probe of PROBES) {
        const pr = rec(c.container[probe]);
        if (!pr) continue;
        const at = [...c.path, probe];
        const handlers = HANDLERS.filter((h) => pr[h] !== undefined);
        if (handlers.length === 0)
          ctx.report({
            obj,
            rule: 'API-PROBES',
            path: at,
            message: 'Required value: must specify a handler type',
          });
        else
          for (const h of handlers.slice(1))
            ctx.report({
              obj,
              rule: 'API-PROBES',
              path: [...at, h],
              atKey: true,
              message: 'Forbidden: may not specify more than 1 handler type',
            });
        const success = num(pr.successThreshold);
        if (probe !== 'readinessProbe' && success !== undefined && success !== 1)
          ctx.report({
            obj,
            rule: 'API-PROBES',
            path: [...at, 'successThreshold'],
            message: `Invalid value: ${success}: must be 1`,
          });
        for (const f of [
          'initialDelaySeconds',
          'timeoutSeconds',
          'periodSeconds',
          'successThreshold',
          'failureThreshold',
        ]) {
          const v = num(pr[f]);
          if (v !== undefined && v < 0)
            ctx.report({
              obj,
              rule: 'API-PROBES',
              path: [...at, f],
              message: `Invalid value: ${v}: must be greater than or equal to 0`,
            });
        }
      }
    }
  }
}
