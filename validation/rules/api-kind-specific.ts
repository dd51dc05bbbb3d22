import type { RuleContext } from '../context';
import { arr, get, num, quote, rec, str } from '../json';
import { configMapKey, cronSchedule, dns1123Subdomain } from '../../charts/common/k8s-syntax';
import { containers, podTemplate } from '../model';
import type { K8sObject } from '../types';

const MAX_CONFIG_BYTES = 1024 * 1024;
const RULE = 'API-KIND-SPECIFIC';

function service(ctx: RuleContext, obj: K8sObject): void {
  const spec = rec(obj.raw.spec) ?? {};
  const type = str(spec.type) ?? 'ClusterIP';
  const ports = arr(spec.ports);
  if (type === 'ExternalName') {
    if (!str(spec.externalName))
      ctx.report({ obj, rule: RULE, path: ['spec', 'externalName'], message: 'Required value' });
    return;
  }
  if (spec.clusterIP === 'None' && type !== 'ClusterIP')
    ctx.report({
      obj,
      rule: RULE,
      path: ['spec', 'clusterIP'],
      message: `Invalid value: "None": may not be set to 'None' for ${type} services`,
    });
  if (ports.length === 0 && spec.clusterIP !== 'None')
    ctx.report({ obj, rule: RULE, path: ['spec', 'ports'], message: 'Required value' });
  ports.forEach((p, i) => {
    if (rec(p)?.nodePort !== undefined && type === 'ClusterIP')
      ctx.report({
        obj,
        rule: RULE,
        path: ['spec', 'ports', i, 'nodePort'],
        message: "Forbidden: may not be used when `type` is 'ClusterIP'",
      });
    const proto = str(rec(p)?.protocol);
    if (proto !== undefined && !['TCP', 'UDP', 'SCTP'].includes(proto))
      ctx.report({
        obj,
        rule: RULE,
        path: ['spec', 'ports', i, 'protocol'],
        message: `Unsupported value: ${quote(proto)}: supported values: "SCTP", "TCP", "UDP"`,
      });
  });
}

function configData(ctx: RuleContext, obj: K8sObject): void {
  const fields = obj.kind === 'Secret' ? ['data', 'stringData'] : ['data', 'binaryData'];
  let bytes = 0;
  const seen = new Map<string, string>();
  for (const field of fields) {
    for (const [k, v] of Object.entries(rec(obj.raw[field]) ?? {})) {
      for (const e of configMapKey(k))
        ctx.report({
          obj,
          rule: RULE,
          path: [field, k],
          atKey: true,
          message: `Invalid value: ${quote(k)}: ${e}`,
        });
      const other = seen.get(k);
      if (other !== undefined && !(obj.kind === 'Secret'))
        ctx.report({
          obj,
          rule: RULE,
          path: [field, k],
          atKey: true,
          message: `Invalid value: ${quote(k)}: duplicate of key present in ${other}`,
        });
      seen.set(k, field);
      bytes += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    }
  }
  if (bytes > MAX_CONFIG_BYTES)
    ctx.report({
      obj,
      rule: RULE,
      path: [fields[0]],
      message: `Too long: must have at most ${MAX_CONFIG_BYTES} bytes`,
    });
}

/** Class names (StorageClass, IngressClass) are object names: the API server checks them as DNS-1123 subdomains. */
function className(ctx: RuleContext, obj: K8sObject, at: Array<string | number>, value: unknown): void {
  const name = str(value);
  if (name !== undefined)
    for (const e of dns1123Subdomain(name))
      ctx.report({ obj, rule: RULE, path: at, message: `Invalid value: ${quote(name)}: ${e}` });
}

function ingress(ctx: RuleContext, obj: K8sObject): void {
  className(ctx, obj, ['spec', 'ingressClassName'], get(obj.raw, 'spec', 'ingressClassName'));
  arr(get(obj.raw, 'spec', 'rules')).forEach((r, i) => {
    const host = str(rec(r)?.host);
    if (host !== undefined)
      for (const e of dns1123Subdomain(host.replace(/^\*\./, '')))
        ctx.report({
          obj,
          rule: RULE,
          path: ['spec', 'rules', i, 'host'],
          message: `Invalid value: ${quote(host)}: ${e}`,
        });
    arr(get(r, 'http', 'paths')).forEach((p, j) => {
      const at = ['spec', 'rules', i, 'http', 'paths', j];
      const path = rec(p) ?? {};
      const pathType = str(path.pathType);
      if (pathType === undefined)
        ctx.report({
          obj,
          rule: RULE,
          path: [...at, 'pathType'],
          message: 'Required value: pathType must be specified',
        });
      else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(pathType))
        ctx.report({
          obj,
          rule: RULE,
          path: [...at, 'pathType'],
          message: `Unsupported value: ${quote(pathType)}: supported values: "Exact", "ImplementationSpecific", "Prefix"`,
        });
      const value = str(path.path);
      if ((pathType === 'Exact' || pathType === 'Prefix') && (value === undefined || !value.startsWith('/')))
        ctx.report({
          obj,
          rule: RULE,
          path: [...at, 'path'],
          message: `Invalid value: ${quote(value ?? '')}: must be an absolute path`,
        });
      const backend = rec(path.backend) ?? {};
      if ((backend.service === undefined) === (backend.resource === undefined))
        ctx.report({
          obj,
          rule: RULE,
          path: [...at, 'backend'],
          message: 'Invalid value: cannot set both or neither of `service` and `resource`',
        });
      const port = rec(get(backend, 'service', 'port'));
      if (port && (port.number === undefined) === (port.name === undefined))
        ctx.report({
          obj,
          rule: RULE,
          path: [...at, 'backend', 'service', 'port'],
          message: 'Invalid value: cannot set both or neither of port name and port number',
        });
    });
  });
}

function networkPolicy(ctx: RuleContext, obj: K8sObject): void {
  arr(get(obj.raw, 'spec', 'policyTypes')).forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress')
      ctx.report({
        obj,
        rule: RULE,
        path: ['spec', 'policyTypes', i],
        message: `Unsupported value: ${quote(t)}: supported values: "Egress", "Ingress"`,
      });
  });
  for (const [dir, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ]) {
    arr(get(obj.raw, 'spec', dir)).forEach((r, i) => {
      arr(rec(r)?.[peers]).forEach((p, j) => {
        const peer = rec(p) ?? {};
        const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => peer[k] !== undefined);
        if (set.length === 0)
          ctx.report({
            obj,
            rule: RULE,
            path: ['spec', dir, i, peers, j],
            message: 'Required value: must specify a peer',
          });
        if (peer.ipBlock !== undefined && set.length > 1)
          ctx.report({
            obj,
            rule: RULE,
            path: ['spec', dir, i, peers, j],
            message: 'Forbidden: may not specify both ipBlock and another peer',
          });
      });
      arr(rec(r)?.ports).forEach((p, j) => {
        const port = rec(p) ?? {};
        const endPort = num(port.endPort);
        if (endPort !== undefined && (typeof port.port !== 'number' || endPort < port.port))
          ctx.report({
            obj,
            rule: RULE,
            path: ['spec', dir, i, 'ports', j, 'endPort'],
            message: `Invalid value: ${endPort}: must be greater than or equal to \`port\`, which must be a number`,
          });
      });
    });
  }
}

function hpa(ctx: RuleContext, obj: K8sObject): void {
  const min = num(get(obj.raw, 'spec', 'minReplicas')) ?? 1;
  const max = num(get(obj.raw, 'spec', 'maxReplicas'));
  if (min < 1)
    ctx.report({
      obj,
      rule: RULE,
      path: ['spec', 'minReplicas'],
      message: `Invalid value: ${min}: must be greater than or equal to 1`,
    });
  if (max !== undefined && max < min)
    ctx.report({
      obj,
      rule: RULE,
      path: ['spec', 'maxReplicas'],
      message: `Invalid value: ${max}: must be greater than or equal to \`minReplicas\``,
    });
  arr(get(obj.raw, 'spec', 'metrics')).forEach((m, i) => {
    const target = rec(get(m, 'resource', 'target'));
    if (target?.type === 'Utilization' && target.averageUtilization === undefined)
      ctx.report({
        obj,
        rule: RULE,
        path: ['spec', 'metrics', i, 'resource', 'target', 'averageUtilization'],
        message: 'Required value: must be set when the target type is Utilization',
      });
  });
}

function pdb(ctx: RuleContext, obj: K8sObject): void {
  const spec = rec(obj.raw.spec) ?? {};
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined)
    ctx.report({
      obj,
      rule: RULE,
      path: ['spec', 'maxUnavailable'],
      atKey: true,
      message: 'Invalid value: minAvailable and maxUnavailable cannot be both set',
    });
}

function rbac(ctx: RuleContext, obj: K8sObject): void {
  if (obj.kind === 'Role' || obj.kind === 'ClusterRole') {
    arr(obj.raw.rules).forEach((r, i) => {
      const rule = rec(r) ?? {};
      if (arr(rule.verbs).length === 0)
        ctx.report({
          obj,
          rule: RULE,
          path: ['rules', i, 'verbs'],
          message: 'Required value: verbs must contain at least one value',
        });
      if (arr(rule.resources).length > 0 && rule.apiGroups === undefined)
        ctx.report({
          obj,
          rule: RULE,
          path: ['rules', i, 'apiGroups'],
          message: 'Required value: resource rules must supply at least one api group',
        });
      if (arr(rule.nonResourceURLs).length > 0 && obj.kind === 'Role')
        ctx.report({
          obj,
          rule: RULE,
          path: ['rules', i, 'nonResourceURLs'],
          message: 'Invalid value: namespaced rules cannot apply to non-resource URLs',
        });
    });
    return;
  }
  const kind = str(get(obj.raw, 'roleRef', 'kind'));
  if (kind !== 'Role' && kind !== 'ClusterRole')
    ctx.report({
      obj,
      rule: RULE,
      path: ['roleRef', 'kind'],
      message: `Unsupported value: ${quote(kind ?? '')}: supported values: "ClusterRole", "Role"`,
    });
  if (obj.kind === 'ClusterRoleBinding' && kind === 'Role')
    ctx.report({
      obj,
      rule: RULE,
      path: ['roleRef', 'kind'],
      message: 'Unsupported value: "Role": supported values: "ClusterRole"',
    });
  if (get(obj.raw, 'roleRef', 'apiGroup') !== 'rbac.authorization.k8s.io')
    ctx.report({
      obj,
      rule: RULE,
      path: ['roleRef', 'apiGroup'],
      message: `Unsupported value: ${quote(get(obj.raw, 'roleRef', 'apiGroup') ?? '')}: supported values: "rbac.authorization.k8s.io"`,
    });
  arr(obj.raw.subjects).forEach((s, i) => {
    const subject = rec(s) ?? {};
    if (subject.kind === 'ServiceAccount' && !str(subject.namespace) && obj.kind === 'ClusterRoleBinding')
      ctx.report({ obj, rule: RULE, path: ['subjects', i, 'namespace'], message: 'Required value' });
  });
}

function workload(ctx: RuleContext, obj: K8sObject): void {
  const ru = rec(get(obj.raw, 'spec', 'strategy', 'rollingUpdate'));
  const zero = (v: unknown): boolean => v === 0 || v === '0%';
  if (ru && zero(ru.maxUnavailable) && zero(ru.maxSurge))
    ctx.report({
      obj,
      rule: RULE,
      path: ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'],
      message: 'Invalid value: 0: may not be 0 when `maxSurge` is 0',
    });
  const replicas = num(get(obj.raw, 'spec', 'replicas'));
  if (replicas !== undefined && replicas < 0)
    ctx.report({
      obj,
      rule: RULE,
      path: ['spec', 'replicas'],
      message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
    });
  const schedule = str(get(obj.raw, 'spec', 'schedule'));
  if (obj.kind === 'CronJob' && !schedule)
    ctx.report({ obj, rule: RULE, path: ['spec', 'schedule'], message: 'Required value' });
  if (obj.kind === 'CronJob' && schedule)
    for (const e of cronSchedule(schedule))
      ctx.report({
        obj,
        rule: RULE,
        path: ['spec', 'schedule'],
        message: `Invalid value: ${quote(schedule)}: ${e}`,
      });
  if (obj.kind === 'StatefulSet')
    arr(get(obj.raw, 'spec', 'volumeClaimTemplates')).forEach((t, i) =>
      className(
        ctx,
        obj,
        ['spec', 'volumeClaimTemplates', i, 'spec', 'storageClassName'],
        get(t, 'spec', 'storageClassName'),
      ),
    );
}

/**
 * A container security context that contradicts itself: a privileged process can always gain
 * privileges, so the API server refuses `allowPrivilegeEscalation: false` beside `privileged:
 * true` or the CAP_SYS_ADMIN capability (ValidateSecurityContext in k8s.io/kubernetes).
 */
function securityContexts(ctx: RuleContext, obj: K8sObject): void {
  const pt = podTemplate(obj);
  if (!pt) return;
  for (const c of containers(pt)) {
    const sc = rec(c.container.securityContext);
    if (!sc || sc.allowPrivilegeEscalation !== false) continue;
    const path = [...c.path, 'securityContext'];
    if (sc.privileged === true)
      ctx.report({
        obj,
        rule: RULE,
        path,
        message: 'Invalid value: cannot set `allowPrivilegeEscalation` to false and `privileged` to true',
      });
    if (arr(get(sc, 'capabilities', 'add')).includes('CAP_SYS_ADMIN'))
      ctx.report({
        obj,
        rule: RULE,
        path,
        message:
          'Invalid value: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN',
      });
  }
}

/** API-KIND-SPECIFIC: the per-kind validation the API server runs beyond the schema. */
export function apiKindSpecific(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    switch (obj.kind) {
      case 'Service':
        service(ctx, obj);
        break;
      case 'ConfigMap':
      case 'Secret':
        configData(ctx, obj);
        break;
      case 'Ingress':
        ingress(ctx, obj);
        break;
      case 'NetworkPolicy':
        networkPolicy(ctx, obj);
        break;
      case 'HorizontalPodAutoscaler':
        hpa(ctx, obj);
        break;
      case 'PodDisruptionBudget':
        pdb(ctx, obj);
        break;
      case 'Role':
      case 'ClusterRole':
      case 'RoleBinding':
      case 'ClusterRoleBinding':
        rbac(ctx, obj);
        break;
      case 'Deployment':
      case 'StatefulSet':
      case 'CronJob':
        workload(ctx, obj);
        securityContexts(ctx, obj);
        break;
      case 'PersistentVolumeClaim':
        className(ctx, obj, ['spec', 'storageClassName'], get(obj.raw, 'spec', 'storageClassName'));
        break;
      default:
    }
  }
}
