import type { RuleContext } from '../context';
import { arr, get, quote, rec, str, strMap } from '../json';
import {
  containerPorts,
  containers,
  find,
  isHeadless,
  mapSelectorMatches,
  ofKind,
  podTemplate,
  podTemplates,
  PROBES,
  selectedBy,
  servicePorts,
} from '../model';

/** XREF-SERVICE: a Service selects some pods, and its named targetPorts exist on every pod it selects. */
export function xrefService(ctx: RuleContext): void {
  const templates = podTemplates(ctx.objects);
  for (const svc of ofKind(ctx.objects, 'Service')) {
    const selector = strMap(get(svc.raw, 'spec', 'selector'));
    if (Object.keys(selector).length === 0) continue;
    const selected = selectedBy(svc, templates);
    if (selected.length === 0) {
      ctx.report({
        obj: svc,
        rule: 'XREF-SERVICE',
        path: ['spec', 'selector'],
        message: `Invalid value: ${JSON.stringify(selector)}: selects no pod template in namespace ${svc.namespace || '(none)'} of this folder`,
      });
      continue;
    }
    for (const port of servicePorts(svc)) {
      for (const t of selected) {
        const declared = containers(t, false).flatMap((c) => containerPorts(c.container));
        const ok =
          typeof port.targetPort === 'string'
            ? declared.some((d) => d.name === port.targetPort)
            : declared.length === 0 || declared.some((d) => d.containerPort === port.targetPort);
        if (!ok)
          ctx.report({
            obj: svc,
            rule: 'XREF-SERVICE',
            severity: typeof port.targetPort === 'string' ? 'error' : 'warning',
            path: ['spec', 'ports', port.index, 'targetPort'],
            message: `Not found: ${quote(port.targetPort)}: no container port ${typeof port.targetPort === 'string' ? 'named' : 'numbered'} ${quote(port.targetPort)} in ${t.obj.kind} ${t.obj.namespace}/${t.obj.name}`,
          });
      }
    }
  }
}

/** XREF-STS-HEADLESS: the governing Service of a StatefulSet is headless and selects its pods (stable pod DNS). */
export function xrefStsHeadless(ctx: RuleContext): void {
  for (const sts of ofKind(ctx.objects, 'StatefulSet')) {
    const pt = podTemplate(sts);
    const name = str(get(sts.raw, 'spec', 'serviceName'));
    if (!pt) continue;
    if (!name) {
      ctx.report({
        obj: sts,
        rule: 'XREF-STS-HEADLESS',
        path: ['spec', 'serviceName'],
        message: 'Required value: a headless Service gives the pods stable DNS names',
      });
      continue;
    }
    const svc = find(ctx.objects, 'Service', sts.namespace, name);
    const at = ['spec', 'serviceName'];
    if (!svc)
      ctx.report({
        obj: sts,
        rule: 'XREF-STS-HEADLESS',
        path: at,
        message: `Not found: ${quote(name)}: no Service ${sts.namespace}/${name} in this folder`,
      });
    else if (!isHeadless(svc))
      ctx.report({
        obj: sts,
        rule: 'XREF-STS-HEADLESS',
        path: at,
        message: `Invalid value: ${quote(name)}: Service is not headless (spec.clusterIP must be "None")`,
      });
    else if (!mapSelectorMatches(strMap(get(svc.raw, 'spec', 'selector')), pt.labels))
      ctx.report({
        obj: sts,
        rule: 'XREF-STS-HEADLESS',
        path: at,
        message: `Invalid value: ${quote(name)}: Service selector does not select this StatefulSet's pods`,
      });
  }
}

/** XREF-INGRESS: every backend names a Service of the folder and one of its ports. */
export function xrefIngress(ctx: RuleContext): void {
  for (const ing of ofKind(ctx.objects, 'Ingress')) {
    const backends: Array<[unknown, Array<string | number>]> = [];
    const def = get(ing.raw, 'spec', 'defaultBackend');
    if (def) backends.push([def, ['spec', 'defaultBackend']]);
    arr(get(ing.raw, 'spec', 'rules')).forEach((r, i) =>
      arr(get(r, 'http', 'paths')).forEach((p, j) =>
        backends.push([rec(p)?.backend, ['spec', 'rules', i, 'http', 'paths', j, 'backend']]),
      ),
    );
    for (const [backend, at] of backends) {
      const name = str(get(backend, 'service', 'name'));
      if (!name) continue;
      const svc = find(ctx.objects, 'Service', ing.namespace, name);
      if (!svc) {
        ctx.report({
          obj: ing,
          rule: 'XREF-INGRESS',
          path: [...at, 'service', 'name'],
          message: `Not found: ${quote(name)}: no Service ${ing.namespace}/${name} in this folder`,
        });
        continue;
      }
      const port = rec(get(backend, 'service', 'port')) ?? {};
      const ports = servicePorts(svc);
      const ok =
        port.name !== undefined
          ? ports.some((p) => p.name === port.name)
          : ports.some((p) => p.port === port.number);
      if (!ok)
        ctx.report({
          obj: ing,
          rule: 'XREF-INGRESS',
          path: [...at, 'service', 'port', port.name !== undefined ? 'name' : 'number'],
          message: `Not found: ${quote(port.name ?? port.number)}: Service ${svc.namespace}/${name} has ports ${ports.map((p) => (p.name ? `${p.name}(${p.port})` : p.port)).join(', ')}`,
        });
    }
  }
}

/** XREF-HPA: the scale target exists, and resource metrics have requests to compute utilization from. */
export function xrefHpa(ctx: RuleContext): void {
  for (const hpa of ofKind(ctx.objects, 'HorizontalPodAutoscaler')) {
    const kind = str(get(hpa.raw, 'spec', 'scaleTargetRef', 'kind')) ?? '';
    const name = str(get(hpa.raw, 'spec', 'scaleTargetRef', 'name')) ?? '';
    const target = find(ctx.objects, kind, hpa.namespace, name);
    if (!target) {
      ctx.report({
        obj: hpa,
        rule: 'XREF-HPA',
        path: ['spec', 'scaleTargetRef', 'name'],
        message: `Not found: ${quote(name)}: no ${kind} ${hpa.namespace}/${name} in this folder`,
      });
      continue;
    }
    const pt = podTemplate(target);
    if (!pt) continue;
    arr(get(hpa.raw, 'spec', 'metrics')).forEach((m, i) => {
      const metric = rec(m) ?? {};
      if (metric.type !== 'Resource' || get(metric, 'resource', 'target', 'type') !== 'Utilization') return;
      const resource = str(get(metric, 'resource', 'name')) ?? '';
      for (const c of containers(pt, false))
        if (get(c.container, 'resources', 'requests', resource) === undefined)
          ctx.report({
            obj: hpa,
            rule: 'XREF-HPA',
            path: ['spec', 'metrics', i, 'resource', 'name'],
            message: `Invalid value: ${quote(resource)}: container ${quote(c.name)} of ${kind} ${target.namespace}/${name} has no ${resource} request, so utilization cannot be computed`,
          });
    });
  }
}

/** XREF-PROBE-PORT: probes aim at a port the container declares. */
export function xrefProbePort(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    for (const c of containers(pt)) {
      const declared = containerPorts(c.container);
      for (const probe of PROBES) {
        for (const h of ['httpGet', 'tcpSocket', 'grpc']) {
          const port = get(c.container, probe, h, 'port');
          if (port === undefined) continue;
          const ok =
            typeof port === 'string'
              ? declared.some((d) => d.name === port)
              : declared.some((d) => d.containerPort === port);
          if (!ok)
            ctx.report({
              obj,
              rule: 'XREF-PROBE-PORT',
              path: [...c.path, probe, h, 'port'],
              message: `Not found: ${quote(port)}: container ${quote(c.name)} declares no such port (declared: ${declared.map((d) => (d.name ? `${d.name}(${d.containerPort})` : d.containerPort)).join(', ') || 'none'})`,
            });
        }
      }
    }
  }
}
