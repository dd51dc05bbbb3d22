import type { RuleContext } from '../context';
import { embeddedPosition } from '../embedded';
import { extractHosts } from '../hosts';
import { arr, get, num, quote, rec, str, strMap } from '../json';
import {
  containers,
  find,
  isHeadless,
  mapSelectorMatches,
  ofKind,
  podTemplate,
  servicePorts,
} from '../model';
import type { FieldPath, K8sObject } from '../types';

interface Voters {
  readonly value: string;
  readonly report: (message: string) => void;
}

/** The voters setting of a StatefulSet: env KAFKA_CONTROLLER_QUORUM_VOTERS, or controller.quorum.voters in a mounted ConfigMap. */
function findVoters(ctx: RuleContext, sts: K8sObject): Voters[] {
  const pt = podTemplate(sts);
  if (!pt) return [];
  const out: Voters[] = [];
  for (const c of containers(pt)) {
    arr(c.container.env).forEach((e, i) => {
      const env = rec(e) ?? {};
      const value = str(env.value);
      if (env.name === 'KAFKA_CONTROLLER_QUORUM_VOTERS' && value !== undefined) {
        const path: FieldPath = [...c.path, 'env', i, 'value'];
        out.push({
          value,
          report: (message) => ctx.report({ obj: sts, rule: 'KAFKA-QUORUM', path, message }),
        });
      }
    });
  }
  const mounted = arr(pt.spec.volumes).flatMap((v) => {
    const name = str(get(v, 'configMap', 'name'));
    return name ? [name] : [];
  });
  for (const name of mounted) {
    const cm = find(ctx.objects, 'ConfigMap', sts.namespace, name);
    for (const [key, text] of Object.entries(strMap(cm?.raw.data))) {
      text.split('\n').forEach((line, i) => {
        const m = /^\s*controller\.quorum\.voters\s*[=:]\s*(.*)$/.exec(line);
        if (!m || !cm) return;
        const pos = embeddedPosition(cm, 'data', key, i + 1);
        out.push({
          value: m[1].trim(),
          report: (message) =>
            ctx.report({
              obj: cm,
              rule: 'KAFKA-QUORUM',
              path: ['data', key],
              line: pos.line,
              col: pos.col,
              message,
            }),
        });
      });
    }
  }
  return out;
}

function isController(sts: K8sObject): boolean {
  const pt = podTemplate(sts);
  if (!pt) return false;
  return containers(pt).some((c) =>
    arr(c.container.env).some(
      (e) => rec(e)?.name === 'KAFKA_PROCESS_ROLES' && (str(rec(e)?.value) ?? '').includes('controller'),
    ),
  );
}

function hasBootstrapServers(sts: K8sObject): boolean {
  const pt = podTemplate(sts);
  return (pt ? containers(pt) : []).some((c) =>
    arr(c.container.env).some((e) => rec(e)?.name === 'KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS'),
  );
}

/**
 * KAFKA-QUORUM: a static KRaft quorum must list exactly the StatefulSet's pods, node id = ordinal,
 * by their stable DNS names under a headless Service that selects them and exposes the controller port.
 */
export function kafkaQuorum(ctx: RuleContext): void {
  for (const sts of ofKind(ctx.objects, 'StatefulSet')) {
    const settings = findVoters(ctx, sts);
    if (settings.length === 0) {
      if (isController(sts) && !hasBootstrapServers(sts))
        ctx.report({
          obj: sts,
          rule: 'KAFKA-QUORUM',
          path: ['spec', 'template', 'spec', 'containers'],
          message:
            'Required value: KAFKA_PROCESS_ROLES includes controller but no KAFKA_CONTROLLER_QUORUM_VOTERS is set',
        });
      continue;
    }
    const replicas = num(get(sts.raw, 'spec', 'replicas')) ?? 1;
    const headless = str(get(sts.raw, 'spec', 'serviceName')) ?? '';
    const svc = find(ctx.objects, 'Service', sts.namespace, headless);
    const pt = podTemplate(sts);
    for (const { value, report } of settings) {
      const entries = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (entries.length !== replicas)
        report(
          `Invalid value: ${quote(value)}: lists ${entries.length} voter(s) but StatefulSet ${sts.namespace}/${sts.name} has ${replicas} replica(s)`,
        );
      const seen = new Set<number>();
      entries.forEach((entry) => {
        const ref = extractHosts(entry)[0];
        if (!ref || ref.voterId === undefined || ref.port === undefined) {
          report(`Invalid value: ${quote(entry)}: must be <node id>@<host>:<port>`);
          return;
        }
        const id = ref.voterId;
        if (seen.has(id)) report(`Duplicate value: ${quote(entry)}: node id ${id} is listed twice`);
        seen.add(id);
        if (id >= replicas)
          report(`Invalid value: ${quote(entry)}: node id ${id} has no pod (ordinals 0..${replicas - 1})`);
        const expected = `${sts.name}-${id}.${headless}.${sts.namespace}.svc.cluster.local`;
        if (ref.host !== expected)
          report(
            `Invalid value: ${quote(entry)}: node id ${id} must be the pod of ordinal ${id}: ${expected}:${ref.port}`,
          );
        if (!svc) return;
        if (!servicePorts(svc).some((p) => p.port === ref.port))
          report(
            `Invalid value: ${quote(entry)}: headless Service ${svc.namespace}/${svc.name} does not expose controller port ${ref.port}`,
          );
      });
      if (!svc)
        report(
          `Not found: ${quote(headless)}: the voters' headless Service ${sts.namespace}/${headless} is not in this folder`,
        );
      else if (!isHeadless(svc))
        report(`Invalid value: ${quote(headless)}: Service ${svc.namespace}/${svc.name} is not headless`);
      else if (pt && !mapSelectorMatches(strMap(get(svc.raw, 'spec', 'selector')), pt.labels))
        report(
          `Invalid value: ${quote(headless)}: Service ${svc.namespace}/${svc.name} does not select the StatefulSet's pods`,
        );
    }
  }
}
