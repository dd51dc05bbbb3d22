import { arr, get, num, rec, str, strMap, type Json } from './json';
import type { FieldPath, K8sObject } from './types';

export const WORKLOAD_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Pod',
]);

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'CSIDriver',
  'CSINode',
  'CustomResourceDefinition',
  'PriorityClass',
  'PriorityLevelConfiguration',
  'FlowSchema',
  'IngressClass',
  'RuntimeClass',
  'APIService',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'VolumeAttachment',
  'CertificateSigningRequest',
  'ClusterIssuer',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** The pod template of a workload (or the Pod itself), with the paths to report against. */
export interface PodTemplate {
  readonly obj: K8sObject;
  readonly spec: Json;
  readonly specPath: FieldPath;
  readonly labels: Record<string, string>;
  readonly labelsPath: FieldPath;
  /** Declared replicas (1 when defaulted); undefined for Jobs, CronJobs and DaemonSets. */
  readonly replicas?: number;
}

export function podTemplate(obj: K8sObject): PodTemplate | undefined {
  if (!WORKLOAD_KINDS.has(obj.kind)) return undefined;
  let templatePath: FieldPath;
  if (obj.kind === 'Pod') templatePath = [];
  else if (obj.kind === 'CronJob') templatePath = ['spec', 'jobTemplate', 'spec', 'template'];
  else templatePath = ['spec', 'template'];
  const template = rec(get(obj.raw, ...templatePath));
  const spec = rec(template?.spec);
  if (!template || !spec) return undefined;
  const replicated = obj.kind === 'Deployment' || obj.kind === 'StatefulSet' || obj.kind === 'ReplicaSet';
  return {
    obj,
    spec,
    specPath: [...templatePath, 'spec'],
    labels: strMap(get(template, 'metadata', 'labels')),
    labelsPath: [...templatePath, 'metadata', 'labels'],
    replicas: replicated ? (num(get(obj.raw, 'spec', 'replicas')) ?? 1) : undefined,
  };
}

export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  return objects.map(podTemplate).filter((t): t is PodTemplate => t !== undefined);
}

export interface ContainerRef {
  readonly container: Json;
  readonly path: FieldPath;
  readonly name: string;
  readonly init: boolean;
}

export function containers(pt: PodTemplate, includeInit = true): ContainerRef[] {
  const out: ContainerRef[] = [];
  const lists: Array<[string, boolean]> = includeInit
    ? [
        ['initContainers', true],
        ['containers', false],
      ]
    : [['containers', false]];
  for (const [field, init] of lists) {
    arr(pt.spec[field]).forEach((c, i) => {
      const container = rec(c);
      if (container)
        out.push({ container, path: [...pt.specPath, field, i], name: str(container.name) ?? '', init });
    });
  }
  return out;
}

/** Evaluates a LabelSelector (matchLabels + matchExpressions) against labels. */
export function selectorMatches(
  selector: unknown,
  labels: Record<string, string>,
  pt?: PodTemplate,
): boolean {
  const sel = rec(selector);
  if (!sel) return false;
  for (const [k, v] of Object.entries(strMap(sel.matchLabels)))
    if (!(controllerLabelMatches(k, v, pt) ?? labels[k] === v)) return false;
  for (const e of arr(sel.matchExpressions)) {
    const expr = rec(e);
    const key = str(expr?.key) ?? '';
    const values = arr(expr?.values).map(String);
    const has = key in labels;
    switch (str(expr?.operator)) {
      case 'In':
        if (!has || !values.includes(labels[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function isEmptySelector(selector: unknown): boolean {
  const sel = rec(selector);
  return (
    !sel || (Object.keys(rec(sel.matchLabels) ?? {}).length === 0 && arr(sel.matchExpressions).length === 0)
  );
}

/** A Service's map selector (not a LabelSelector) against labels; an empty selector selects nothing here. */
export function mapSelectorMatches(
  selector: Record<string, string>,
  labels: Record<string, string>,
  pt?: PodTemplate,
): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => controllerLabelMatches(k, v, pt) ?? labels[k] === v);
}

/**
 * Labels the StatefulSet controller adds to each pod; a Service may select one pod by them
 * (a primary, say), so they count as present for the pods that will exist.
 */
function controllerLabelMatches(
  key: string,
  value: string,
  pt: PodTemplate | undefined,
): boolean | undefined {
  if (key !== 'statefulset.kubernetes.io/pod-name' && key !== 'apps.kubernetes.io/pod-index')
    return undefined;
  if (!pt || pt.obj.kind !== 'StatefulSet') return false;
  const byIndex = key === 'apps.kubernetes.io/pod-index';
  if (!byIndex && !value.startsWith(`${pt.obj.name}-`)) return false;
  const ordinal = byIndex ? value : value.slice(pt.obj.name.length + 1);
  return /^\d+$/.test(ordinal) && Number(ordinal) < (pt.replicas ?? 1);
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(
  objects: readonly K8sObject[],
  kind: string,
  namespace: string,
  name: string,
): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.name === name && o.namespace === namespace);
}

export interface ServicePort {
  readonly port: number;
  readonly name?: string;
  readonly targetPort: number | string;
  readonly protocol: string;
  readonly index: number;
}

export function servicePorts(svc: K8sObject): ServicePort[] {
  return arr(get(svc.raw, 'spec', 'ports')).flatMap((p, index) => {
    const port = rec(p);
    const n = num(port?.port);
    if (!port || n === undefined) return [];
    const target = port.targetPort;
    return [
      {
        port: n,
        name: str(port.name),
        targetPort: typeof target === 'number' || typeof target === 'string' ? target : n,
        protocol: str(port.protocol) ?? 'TCP',
        index,
      },
    ];
  });
}

export function isHeadless(svc: K8sObject): boolean {
  return get(svc.raw, 'spec', 'clusterIP') === 'None';
}

/** Pod templates a Service selects in its namespace. */
export function selectedBy(svc: K8sObject, templates: readonly PodTemplate[]): PodTemplate[] {
  const selector = strMap(get(svc.raw, 'spec', 'selector'));
  return templates.filter(
    (t) => t.obj.namespace === svc.namespace && mapSelectorMatches(selector, t.labels, t),
  );
}

export interface ContainerPort {
  readonly containerPort: number;
  readonly name?: string;
  readonly protocol: string;
}

export function containerPorts(container: Json): ContainerPort[] {
  return arr(container.ports).flatMap((p) => {
    const port = rec(p);
    const n = num(port?.containerPort);
    return port && n !== undefined
      ? [{ containerPort: n, name: str(port.name), protocol: str(port.protocol) ?? 'TCP' }]
      : [];
  });
}

export const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
