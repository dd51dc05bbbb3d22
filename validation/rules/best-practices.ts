import type { RuleContext } from '../context';
import { arr, get, num, quote, rec, str, strMap } from '../json';
import {
  containerPorts,
  containers,
  isClusterScoped,
  isEmptySelector,
  ofKind,
  podTemplate,
  podTemplates,
  selectedBy,
  selectorMatches,
  servicePorts,
  type PodTemplate,
} from '../model';
import type { K8sObject } from '../types';

/** BP-RESOURCES: without requests the scheduler guesses; without a memory limit one pod can starve a node. */
export function bpResources(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    for (const c of containers(pt))
      for (const [group, name] of [
        ['requests', 'cpu'],
        ['requests', 'memory'],
        ['limits', 'memory'],
      ])
        if (get(c.container, 'resources', group, name) === undefined)
          ctx.report({
            obj,
            rule: 'BP-RESOURCES',
            path: [...c.path, 'resources', group, name],
            message: `Required value: container ${quote(c.name)} needs resources.${group}.${name}`,
          });
  }
}

/** BP-IMAGE: a pinned tag (or digest) so a re-apply runs what was tested, and no forced pulls of local images. */
export function bpImage(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    for (const c of containers(pt)) {
      const image = str(c.container.image) ?? '';
      const name = image.split('@')[0];
      const tag = /:([^/:]+)$/.exec(name)?.[1];
      if (!image.includes('@') && (tag === undefined || tag === 'latest'))
        ctx.report({
          obj,
          rule: 'BP-IMAGE',
          path: [...c.path, 'image'],
          message: `Invalid value: ${quote(image)}: must be pinned to a version tag or digest, not ${tag ? '"latest"' : 'an implicit "latest"'}`,
        });
      const policy = str(c.container.imagePullPolicy);
      if (policy !== undefined && policy !== 'IfNotPresent')
        ctx.report({
          obj,
          rule: 'BP-IMAGE',
          path: [...c.path, 'imagePullPolicy'],
          message: `Unsupported value: ${quote(policy)}: supported values: "IfNotPresent"`,
        });
    }
  }
}

const SLOW_STARTERS =
  /(mariadb|mysql|postgres|kafka|zookeeper|elasticsearch|opensearch|cassandra|java|jdk|jre|keycloak)/;
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

function probeSignature(p: unknown): string {
  return JSON.stringify(p ?? null);
}

/** BP-PROBES: readiness behind a Service (E), liveness (W) that differs from readiness (E), startup for slow starters (W). */
export function bpProbes(ctx: RuleContext): void {
  const services = ofKind(ctx.objects, 'Service');
  const templates = podTemplates(ctx.objects);
  for (const pt of templates) {
    const obj = pt.obj;
    if (!LONG_RUNNING.has(obj.kind)) continue;
    const selecting = services.filter((s) => selectedBy(s, [pt]).length > 0);
    const behindService = new Set<string>();
    for (const svc of selecting) {
      for (const port of servicePorts(svc)) {
        const owner = containers(pt, false).find((c) =>
          containerPorts(c.container).some((d) =>
            typeof port.targetPort === 'string'
              ? d.name === port.targetPort
              : d.containerPort === port.targetPort,
          ),
        );
        behindService.add(owner?.name ?? containers(pt, false)[0]?.name ?? '');
      }
    }
    for (const c of containers(pt, false)) {
      const readiness = c.container.readinessProbe;
      const liveness = c.container.livenessProbe;
      if (behindService.has(c.name) && readiness === undefined)
        ctx.report({
          obj,
          rule: 'BP-PROBES',
          path: [...c.path, 'readinessProbe'],
          message: `Required value: container ${quote(c.name)} receives Service traffic and needs a readinessProbe`,
        });
      if (liveness === undefined)
        ctx.report({
          obj,
          rule: 'BP-PROBES',
          severity: 'warning',
          path: [...c.path, 'livenessProbe'],
          message: `Required value: container ${quote(c.name)} has no livenessProbe`,
        });
      else if (readiness !== undefined && probeSignature(liveness) === probeSignature(readiness))
        ctx.report({
          obj,
          rule: 'BP-PROBES',
          path: [...c.path, 'livenessProbe'],
          message: `Invalid value: container ${quote(c.name)}: livenessProbe is identical to readinessProbe, so a slow dependency restarts the pod instead of taking it out of rotation`,
        });
      const image = str(c.container.image) ?? '';
      const delay = num(get(liveness, 'initialDelaySeconds')) ?? 0;
      if (c.container.startupProbe === undefined && (SLOW_STARTERS.test(image) || delay >= 30))
        ctx.report({
          obj,
          rule: 'BP-PROBES',
          severity: 'warning',
          path: [...c.path, 'startupProbe'],
          message: `Required value: container ${quote(c.name)} starts slowly and should have a startupProbe`,
        });
    }
  }
}

function pdbPermitsEviction(pdb: K8sObject, replicas: number): boolean {
  const spec = rec(pdb.raw.spec) ?? {};
  const pct = (v: unknown): number | undefined =>
    typeof v === 'string' && v.endsWith('%') ? Number(v.slice(0, -1)) : undefined;
  if (spec.maxUnavailable !== undefined)
    return !(spec.maxUnavailable === 0 || pct(spec.maxUnavailable) === 0);
  if (spec.minAvailable !== undefined) {
    const p = pct(spec.minAvailable);
    const min = p !== undefined ? Math.ceil((replicas * p) / 100) : (num(spec.minAvailable) ?? 0);
    return min < replicas;
  }
  return true;
}

/** BP-AVAILABILITY: replicated workloads roll, spread, and can be drained. */
export function bpAvailability(ctx: RuleContext): void {
  const hpaMax = new Map<string, number>();
  for (const hpa of ofKind(ctx.objects, 'HorizontalPodAutoscaler'))
    hpaMax.set(
      `${str(get(hpa.raw, 'spec', 'scaleTargetRef', 'kind'))}/${hpa.namespace}/${str(get(hpa.raw, 'spec', 'scaleTargetRef', 'name'))}`,
      num(get(hpa.raw, 'spec', 'maxReplicas')) ?? 1,
    );
  for (const pt of podTemplates(ctx.objects)) {
    const obj = pt.obj;
    if (obj.kind !== 'Deployment' && obj.kind !== 'StatefulSet') continue;
    const replicas = Math.max(pt.replicas ?? 1, hpaMax.get(`${obj.kind}/${obj.namespace}/${obj.name}`) ?? 0);
    if (replicas <= 1) continue;
    const warn = (path: Array<string | number>, message: string): void =>
      ctx.report({ obj, rule: 'BP-AVAILABILITY', severity: 'warning', path, message });
    if (obj.kind === 'Deployment' && get(obj.raw, 'spec', 'strategy', 'type') === 'Recreate')
      warn(
        ['spec', 'strategy', 'type'],
        'Invalid value: "Recreate": a replicated Deployment should use RollingUpdate',
      );
    if (obj.kind === 'StatefulSet' && get(obj.raw, 'spec', 'updateStrategy', 'type') === 'OnDelete')
      warn(
        ['spec', 'updateStrategy', 'type'],
        'Invalid value: "OnDelete": a replicated StatefulSet should use RollingUpdate',
      );
    if (
      arr(pt.spec.topologySpreadConstraints).length === 0 &&
      get(pt.spec, 'affinity', 'podAntiAffinity') === undefined
    )
      warn(
        [...pt.specPath, 'topologySpreadConstraints'],
        `Required value: ${replicas} replicas with no topologySpreadConstraints or podAntiAffinity may all land on one node`,
      );
    const pdbs = ofKind(ctx.objects, 'PodDisruptionBudget').filter(
      (p) => p.namespace === obj.namespace && selectorMatches(get(p.raw, 'spec', 'selector'), pt.labels, pt),
    );
    if (pdbs.length === 0)
      warn(['metadata', 'name'], 'Required value: no PodDisruptionBudget selects these replicated pods');
    for (const p of pdbs)
      if (!pdbPermitsEviction(p, replicas))
        warn(
          ['metadata', 'name'],
          `Invalid value: PodDisruptionBudget ${p.namespace}/${p.name} permits no eviction, so nodes cannot be drained`,
        );
  }
}

function policyTypes(np: K8sObject): string[] {
  const declared = arr(get(np.raw, 'spec', 'policyTypes')).map(String);
  if (declared.length > 0) return declared;
  return get(np.raw, 'spec', 'egress') !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

function policySelects(np: K8sObject, pt: PodTemplate): boolean {
  const sel = get(np.raw, 'spec', 'podSelector');
  return np.namespace === pt.obj.namespace && (isEmptySelector(sel) || selectorMatches(sel, pt.labels, pt));
}

const RECOMMENDED_LABELS = ['name', 'instance', 'component', 'part-of', 'managed-by', 'version'].map(
  (l) => `app.kubernetes.io/${l}`,
);

/** BP-NETPOL: NetworkPolicy coverage and selectors that match, explicit namespaces, no NodePort, recommended labels. */
export function bpNetpol(ctx: RuleContext): void {
  const policies = ofKind(ctx.objects, 'NetworkPolicy');
  const templates = podTemplates(ctx.objects);
  for (const pt of templates) {
    for (const [type, severity] of [
      ['Ingress', 'error'],
      ['Egress', 'warning'],
    ] as const)
      if (!policies.some((np) => policyTypes(np).includes(type) && policySelects(np, pt)))
        ctx.report({
          obj: pt.obj,
          rule: 'BP-NETPOL',
          severity,
          path: pt.labelsPath,
          message: `Required value: no NetworkPolicy selects these pods for ${type}`,
        });
  }
  for (const np of policies) {
    const sel = get(np.raw, 'spec', 'podSelector');
    if (!isEmptySelector(sel) && !templates.some((t) => policySelects(np, t)))
      ctx.report({
        obj: np,
        rule: 'BP-NETPOL',
        path: ['spec', 'podSelector'],
        message: `Invalid value: ${JSON.stringify(sel)}: selects no pod template in this folder`,
      });
    for (const [dir, peers] of [
      ['ingress', 'from'],
      ['egress', 'to'],
    ])
      arr(get(np.raw, 'spec', dir)).forEach((r, i) =>
        arr(rec(r)?.[peers]).forEach((p, j) => {
          const peer = rec(p) ?? {};
          const podSel = peer.podSelector;
          if (podSel === undefined || isEmptySelector(podSel)) return;
          // A namespaceSelector may point outside the folder; only same-namespace peers are checkable.
          let namespaces = [np.namespace];
          if (peer.namespaceSelector !== undefined) {
            const named = strMap(get(peer, 'namespaceSelector', 'matchLabels'))[
              'kubernetes.io/metadata.name'
            ];
            // kube-system's DNS pods, say, live outside the folder and cannot be checked here.
            if (!named || !templates.some((t) => t.obj.namespace === named)) return;
            namespaces = [named];
          }
          if (
            !templates.some(
              (t) => namespaces.includes(t.obj.namespace) && selectorMatches(podSel, t.labels, t),
            )
          )
            ctx.report({
              obj: np,
              rule: 'BP-NETPOL',
              path: ['spec', dir, i, peers, j, 'podSelector'],
              message: `Invalid value: ${JSON.stringify(podSel)}: peer selects no pod template in this folder`,
            });
        }),
      );
  }
  for (const obj of ctx.objects) {
    if (!isClusterScoped(obj.kind) && str(get(obj.raw, 'metadata', 'namespace')) === undefined)
      ctx.report({
        obj,
        rule: 'BP-NETPOL',
        path: ['metadata', 'namespace'],
        message: 'Required value: namespaced objects must name their namespace explicitly',
      });
    if (obj.kind === 'Service' && get(obj.raw, 'spec', 'type') === 'NodePort')
      ctx.report({
        obj,
        rule: 'BP-NETPOL',
        path: ['spec', 'type'],
        message: 'Invalid value: "NodePort": exposes the Service on every node; use an Ingress',
      });
    const labels = strMap(get(obj.raw, 'metadata', 'labels'));
    const missing = RECOMMENDED_LABELS.filter((l) => labels[l] === undefined);
    if (missing.length > 0)
      ctx.report({
        obj,
        rule: 'BP-NETPOL',
        severity: 'warning',
        path: ['metadata', 'labels'],
        message: `Required value: missing recommended labels ${missing.join(', ')}`,
      });
  }
}
