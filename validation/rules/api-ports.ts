import type { RuleContext } from '../context';
import { arr, get, quote, rec, str } from '../json';
import { ianaServiceName, portInRange } from '../../charts/common/k8s-syntax';
import { containers, podTemplate, PROBES } from '../model';
import type { FieldPath, K8sObject } from '../types';

function checkNumber(ctx: RuleContext, obj: K8sObject, value: unknown, p: FieldPath, min = 1): void {
  if (typeof value !== 'number') return;
  for (const e of portInRange(value, min))
    ctx.report({ obj, rule: 'API-PORTS', path: p, message: `Invalid value: ${value}: ${e}` });
}

/** A port that may be a number or a name (targetPort, probe ports). */
function checkIntOrName(ctx: RuleContext, obj: K8sObject, value: unknown, p: FieldPath): void {
  if (typeof value === 'number') checkNumber(ctx, obj, value, p);
  else if (typeof value === 'string')
    for (const e of ianaServiceName(value))
      ctx.report({ obj, rule: 'API-PORTS', path: p, message: `Invalid value: ${quote(value)}: ${e}` });
}

/** API-PORTS: port ranges, IANA port names, and Service port names when there is more than one port. */
export function apiPorts(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (pt) {
      for (const c of containers(pt)) {
        arr(c.container.ports).forEach((p, i) => {
          const port = rec(p) ?? {};
          const at = [...c.path, 'ports', i];
          checkNumber(ctx, obj, port.containerPort, [...at, 'containerPort']);
          checkNumber(ctx, obj, port.hostPort, [...at, 'hostPort'], 0);
          const name = str(port.name);
          if (name !== undefined)
            for (const e of ianaServiceName(name))
              ctx.report({
                obj,
                rule: 'API-PORTS',
                path: [...at, 'name'],
                message: `Invalid value: ${quote(name)}: ${e}`,
              });
        });
        for (const probe of PROBES) {
          const pr = rec(c.container[probe]);
          if (!pr) continue;
          for (const h of ['httpGet', 'tcpSocket'])
            if (rec(pr[h])) checkIntOrName(ctx, obj, get(pr, h, 'port'), [...c.path, probe, h, 'port']);
          if (rec(pr.grpc))
            checkNumber(ctx, obj, get(pr, 'grpc', 'port'), [...c.path, probe, 'grpc', 'port']);
        }
      }
    }
    if (obj.kind === 'Service') {
      const ports = arr(get(obj.raw, 'spec', 'ports'));
      ports.forEach((p, i) => {
        const port = rec(p) ?? {};
        const at = ['spec', 'ports', i];
        checkNumber(ctx, obj, port.port, [...at, 'port']);
        checkNumber(ctx, obj, port.nodePort, [...at, 'nodePort']);
        checkIntOrName(ctx, obj, port.targetPort, [...at, 'targetPort']);
        if (ports.length > 1 && str(port.name) === undefined)
          ctx.report({ obj, rule: 'API-PORTS', path: [...at, 'name'], message: 'Required value' });
      });
    }
  }
}
