import type { RuleContext } from '../context';
import { embeddedPosition } from '../embedded';
import { arr, get, quote, rec, str } from '../json';
import { containers, ofKind, podTemplate } from '../model';
import { locate } from '../paths';

/** SEC-ROFS: a writable root filesystem must be a reviewed decision, not a default. */
export function secRofs(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    for (const c of containers(pt))
      if (get(c.container, 'securityContext', 'readOnlyRootFilesystem') !== true)
        ctx.report({
          obj,
          rule: 'SEC-ROFS',
          path: [...c.path, 'securityContext', 'readOnlyRootFilesystem'],
          message: `Required value: container ${quote(c.name)} must set readOnlyRootFilesystem=true (mount emptyDir for writable paths, or add a reviewed exemption naming why)`,
        });
  }
}

/** SEC-SA-TOKEN: a token is mounted only into pods whose service account is bound to some role. */
export function secSaToken(ctx: RuleContext): void {
  const bound = new Set<string>();
  for (const b of [...ofKind(ctx.objects, 'RoleBinding'), ...ofKind(ctx.objects, 'ClusterRoleBinding')])
    for (const s of arr(b.raw.subjects)) {
      const subject = rec(s) ?? {};
      if (subject.kind === 'ServiceAccount')
        bound.add(`${str(subject.namespace) ?? b.namespace}/${str(subject.name) ?? ''}`);
    }
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    const saName = str(pt.spec.serviceAccountName) ?? str(pt.spec.serviceAccount) ?? 'default';
    if (bound.has(`${obj.namespace}/${saName}`)) continue;
    const sa = ofKind(ctx.objects, 'ServiceAccount').find(
      (s) => s.namespace === obj.namespace && s.name === saName,
    );
    const podSetting = pt.spec.automountServiceAccountToken;
    if (podSetting === false || (podSetting === undefined && sa?.raw.automountServiceAccountToken === false))
      continue;
    ctx.report({
      obj,
      rule: 'SEC-SA-TOKEN',
      severity: 'warning',
      path: [...pt.specPath, 'automountServiceAccountToken'],
      message: `Invalid value: ${quote(podSetting ?? null)}: service account ${quote(saName)} is bound to no role, so the pod should not mount its token (set automountServiceAccountToken: false)`,
    });
  }
}

const SECRET_NAME =
  /(password|passwd|passphrase|secret|token|api_?key|access_?key|private_?key|credentials?|requirepass|masterauth)$/i;
const SECRET_FORMATS = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bAKIA[0-9A-Z]{16}\b/,
  /\bgh[pousr]_[A-Za-z0-9]{36}\b/,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/,
];

/** A value that only points at a secret (a file, a variable, a template) is not one. */
function isReference(value: string): boolean {
  const v = value.trim().replace(/^["']|["']$/g, '');
  // Flags such as MARIADB_RANDOM_ROOT_PASSWORD=yes name a password without holding one.
  return (
    v === '' ||
    v.startsWith('/') ||
    /\$\(|\$\{|\$__|\{\{|%\(|^(null|~|yes|no|true|false|on|off|[01])$/i.test(v)
  );
}

function secretLine(line: string): string | undefined {
  const m = /^\s*-?\s*["']?([A-Za-z0-9_.-]+)["']?\s*(?:[:=]|\s)\s*(\S.*)$/.exec(line);
  if (m && SECRET_NAME.test(m[1]) && !isReference(m[2])) return m[1];
  return SECRET_FORMATS.some((r) => r.test(line)) ? 'a private key or token' : undefined;
}

/** SEC-SECRETS: no secret values in env literals, ConfigMaps, Secret objects or kustomize literals. */
export function secSecrets(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (pt)
      for (const c of containers(pt))
        arr(c.container.env).forEach((e, i) => {
          const env = rec(e) ?? {};
          const name = str(env.name) ?? '';
          const value = str(env.value);
          if (
            value !== undefined &&
            SECRET_NAME.test(name) &&
            !/_(FILE|PATH)$/i.test(name) &&
            !isReference(value)
          )
            ctx.report({
              obj,
              rule: 'SEC-SECRETS',
              path: [...c.path, 'env', i, 'value'],
              message: `Forbidden: ${quote(name)} looks like a secret; take it from a Secret with valueFrom.secretKeyRef`,
            });
        });
    if (obj.kind === 'ConfigMap')
      for (const [key, value] of Object.entries(rec(obj.raw.data) ?? {})) {
        if (typeof value !== 'string') continue;
        if (!value.includes('\n') && SECRET_NAME.test(key) && !isReference(value)) {
          ctx.report({
            obj,
            rule: 'SEC-SECRETS',
            path: ['data', key],
            message: `Forbidden: key ${quote(key)} looks like a secret; a ConfigMap is not the place for it`,
          });
          continue;
        }
        value.split('\n').forEach((line, i) => {
          const what = secretLine(line);
          if (!what) return;
          const pos = embeddedPosition(obj, 'data', key, i + 1);
          ctx.report({
            obj,
            rule: 'SEC-SECRETS',
            path: ['data', key],
            line: pos.line,
            col: pos.col,
            message: `Forbidden: ${quote(what)} holds a literal secret in a ConfigMap`,
          });
        });
      }
    if (obj.kind === 'Secret')
      for (const field of ['data', 'stringData'])
        if (Object.keys(rec(obj.raw[field]) ?? {}).length > 0)
          ctx.report({
            obj,
            rule: 'SEC-SECRETS',
            path: [field],
            atKey: true,
            message:
              'Forbidden: a Secret with literal data must not be committed; use a secretGenerator fed by a git-ignored file, or an existing Secret',
          });
  }
  const k = ctx.kustomization;
  if (!k) return;
  arr(k.raw.secretGenerator).forEach((g, i) => {
    if (arr(rec(g)?.literals).length === 0) return;
    const pos = locate(k.doc, k.lineCounter, ['secretGenerator', i, 'literals']);
    ctx.report({
      obj: {
        file: k.file,
        folder: k.folder,
        docIndex: 0,
        source: '',
        doc: k.doc,
        lineCounter: k.lineCounter,
        apiVersion: '',
        kind: 'Kustomization',
        name: 'kustomization',
        namespace: '',
        raw: k.raw,
      },
      rule: 'SEC-SECRETS',
      path: ['secretGenerator', i, 'literals'],
      line: pos.line,
      col: pos.col,
      message:
        'Forbidden: secretGenerator literals write secret values into the repository; use envs with a git-ignored file',
    });
  });
}

const DANGEROUS_RESOURCES = new Set(['pods/exec', 'pods/attach', 'pods/portforward', 'nodes/proxy']);
const DANGEROUS_VERBS = new Set(['escalate', 'bind', 'impersonate']);

/** SEC-RBAC: no wildcards, no cluster-admin, no exec, and secrets only with a reviewed exemption. */
export function secRbac(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    if (obj.kind === 'Role' || obj.kind === 'ClusterRole') {
      arr(obj.raw.rules).forEach((r, i) => {
        const rule = rec(r) ?? {};
        for (const field of ['verbs', 'resources', 'apiGroups'])
          arr(rule[field]).forEach((v, j) => {
            if (v === '*')
              ctx.report({
                obj,
                rule: 'SEC-RBAC',
                path: ['rules', i, field, j],
                message: `Forbidden: wildcard ${field} grant more than the workload needs; list them`,
              });
          });
        arr(rule.resources).forEach((v, j) => {
          const res = String(v);
          if (DANGEROUS_RESOURCES.has(res))
            ctx.report({
              obj,
              rule: 'SEC-RBAC',
              path: ['rules', i, 'resources', j],
              message: `Forbidden: ${quote(res)} allows running commands in or reaching into other pods`,
            });
          if (res === 'secrets')
            ctx.report({
              obj,
              rule: 'SEC-RBAC',
              path: ['rules', i, 'resources', j],
              message: 'Forbidden: access to secrets needs a reviewed exemption naming why',
            });
        });
        arr(rule.verbs).forEach((v, j) => {
          if (DANGEROUS_VERBS.has(String(v)))
            ctx.report({
              obj,
              rule: 'SEC-RBAC',
              path: ['rules', i, 'verbs', j],
              message: `Forbidden: verb ${quote(v)} allows privilege escalation`,
            });
        });
      });
    }
    if (
      (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') &&
      get(obj.raw, 'roleRef', 'name') === 'cluster-admin'
    )
      ctx.report({
        obj,
        rule: 'SEC-RBAC',
        path: ['roleRef', 'name'],
        message: 'Forbidden: binding cluster-admin gives full control of the cluster',
      });
  }
}
