import type { RuleContext } from '../context';
import { arr, get, quote, rec, str } from '../json';
import { containers, podTemplate } from '../model';
import type { FieldPath, K8sObject } from '../types';

type Keys = ReadonlySet<string> | undefined;

/** What the folder defines, including what its kustomization.yaml will generate. */
function definitions(ctx: RuleContext): Map<string, Keys> {
  const defs = new Map<string, Keys>();
  for (const o of ctx.objects) {
    const fields =
      o.kind === 'Secret' ? ['data', 'stringData'] : o.kind === 'ConfigMap' ? ['data', 'binaryData'] : [];
    const keys = new Set(fields.flatMap((f) => Object.keys(rec(o.raw[f]) ?? {})));
    defs.set(`${o.kind}|${o.namespace}|${o.name}`, fields.length > 0 ? keys : undefined);
  }
  const k = ctx.kustomization;
  if (k) {
    // Generated objects land in the kustomization's namespace, or in whatever namespace the referrer has.
    const ns = str(k.raw.namespace) ?? '*';
    for (const [name, keys] of k.generatedSecrets) defs.set(`Secret|${ns}|${name}`, keys);
    for (const [name, keys] of k.generatedConfigMaps) defs.set(`ConfigMap|${ns}|${name}`, keys);
  }
  return defs;
}

interface Ref {
  readonly kind: 'Secret' | 'ConfigMap' | 'PersistentVolumeClaim' | 'ServiceAccount' | 'Role';
  readonly name: string;
  readonly namePath: FieldPath;
  readonly keys: ReadonlyArray<{ key: string; path: FieldPath }>;
  readonly optional: boolean;
  /** When the reference names its namespace (binding subjects); otherwise the referrer's. */
  readonly namespace?: string;
}

function podRefs(obj: K8sObject): Ref[] {
  const pt = podTemplate(obj);
  if (!pt) return [];
  const refs: Ref[] = [];
  const sp = pt.specPath;
  const sa = str(pt.spec.serviceAccountName) ?? str(pt.spec.serviceAccount);
  if (sa && sa !== 'default')
    refs.push({
      kind: 'ServiceAccount',
      name: sa,
      namePath: [...sp, pt.spec.serviceAccountName ? 'serviceAccountName' : 'serviceAccount'],
      keys: [],
      optional: false,
    });
  arr(pt.spec.imagePullSecrets).forEach((s, i) => {
    const name = str(rec(s)?.name);
    if (name)
      refs.push({
        kind: 'Secret',
        name,
        namePath: [...sp, 'imagePullSecrets', i, 'name'],
        keys: [],
        optional: false,
      });
  });
  const itemKeys = (items: unknown, base: FieldPath) =>
    arr(items).flatMap((it, j) => {
      const key = str(rec(it)?.key);
      return key ? [{ key, path: [...base, 'items', j, 'key'] }] : [];
    });
  arr(pt.spec.volumes).forEach((v, i) => {
    const vol = rec(v) ?? {};
    const at = [...sp, 'volumes', i];
    const cm = rec(vol.configMap);
    if (cm && str(cm.name))
      refs.push({
        kind: 'ConfigMap',
        name: str(cm.name) ?? '',
        namePath: [...at, 'configMap', 'name'],
        keys: itemKeys(cm.items, [...at, 'configMap']),
        optional: cm.optional === true,
      });
    const secret = rec(vol.secret);
    if (secret && str(secret.secretName))
      refs.push({
        kind: 'Secret',
        name: str(secret.secretName) ?? '',
        namePath: [...at, 'secret', 'secretName'],
        keys: itemKeys(secret.items, [...at, 'secret']),
        optional: secret.optional === true,
      });
    const claim = str(get(vol, 'persistentVolumeClaim', 'claimName'));
    if (claim)
      refs.push({
        kind: 'PersistentVolumeClaim',
        name: claim,
        namePath: [...at, 'persistentVolumeClaim', 'claimName'],
        keys: [],
        optional: false,
      });
    arr(get(vol, 'projected', 'sources')).forEach((s, j) => {
      for (const kind of ['configMap', 'secret'] as const) {
        const src = rec(rec(s)?.[kind]);
        const name = str(src?.name);
        if (!src || !name) continue;
        const base = [...at, 'projected', 'sources', j, kind];
        refs.push({
          kind: kind === 'secret' ? 'Secret' : 'ConfigMap',
          name,
          namePath: [...base, 'name'],
          keys: itemKeys(src.items, base),
          optional: src.optional === true,
        });
      }
    });
  });
  for (const c of containers(pt)) {
    arr(c.container.env).forEach((e, i) => {
      for (const [field, kind] of [
        ['secretKeyRef', 'Secret'],
        ['configMapKeyRef', 'ConfigMap'],
      ] as const) {
        const ref = rec(get(e, 'valueFrom', field));
        const name = str(ref?.name);
        if (!ref || !name) continue;
        const base = [...c.path, 'env', i, 'valueFrom', field];
        const key = str(ref.key);
        refs.push({
          kind,
          name,
          namePath: [...base, 'name'],
          keys: key ? [{ key, path: [...base, 'key'] }] : [],
          optional: ref.optional === true,
        });
      }
    });
    arr(c.container.envFrom).forEach((e, i) => {
      for (const [field, kind] of [
        ['secretRef', 'Secret'],
        ['configMapRef', 'ConfigMap'],
      ] as const) {
        const ref = rec(rec(e)?.[field]);
        const name = str(ref?.name);
        if (ref && name)
          refs.push({
            kind,
            name,
            namePath: [...c.path, 'envFrom', i, field, 'name'],
            keys: [],
            optional: ref.optional === true,
          });
      }
    });
  }
  return refs;
}

function bindingRefs(obj: K8sObject): Ref[] {
  if (obj.kind !== 'RoleBinding' && obj.kind !== 'ClusterRoleBinding') return [];
  const refs: Ref[] = [];
  if (get(obj.raw, 'roleRef', 'kind') === 'Role')
    refs.push({
      kind: 'Role',
      name: str(get(obj.raw, 'roleRef', 'name')) ?? '',
      namePath: ['roleRef', 'name'],
      keys: [],
      optional: false,
    });
  arr(obj.raw.subjects).forEach((s, i) => {
    const subject = rec(s) ?? {};
    if (subject.kind === 'ServiceAccount' && str(subject.name) && str(subject.name) !== 'default')
      refs.push({
        kind: 'ServiceAccount',
        name: str(subject.name) ?? '',
        namePath: ['subjects', i, 'name'],
        keys: [],
        optional: false,
        namespace: str(subject.namespace),
      });
  });
  return refs;
}

/**
 * XREF-REFS: ConfigMaps, Secrets (and their keys), ServiceAccounts, PVCs and Roles exist in the
 * folder, are generated by its kustomization.yaml, or are declared external: an exemption
 * `{ rule: 'XREF-REFS', kind: 'Secret', namespace, name, reason }` names the referenced object,
 * and then every reference to it is accepted (its keys cannot be checked offline).
 */
export function xrefRefs(ctx: RuleContext): void {
  const defs = definitions(ctx);
  for (const obj of ctx.objects) {
    for (const ref of [...podRefs(obj), ...bindingRefs(obj)]) {
      if (ref.optional) continue;
      const ns = ref.namespace ?? obj.namespace;
      const id = `${ref.kind}|${ns}|${ref.name}`;
      const wildcard = `${ref.kind}|*|${ref.name}`;
      const found = defs.has(id) ? id : defs.has(wildcard) ? wildcard : undefined;
      const subject = { kind: ref.kind, namespace: ns, name: ref.name };
      if (found === undefined) {
        ctx.report({
          obj,
          rule: 'XREF-REFS',
          path: ref.namePath,
          subject,
          message: `Not found: ${quote(ref.name)}: no ${ref.kind} ${ns ? `${ns}/` : ''}${ref.name} in this folder, its kustomization.yaml generators, or the declared externals`,
        });
        continue;
      }
      const keys = defs.get(found);
      if (!keys) continue;
      for (const { key, path } of ref.keys)
        if (!keys.has(key))
          ctx.report({
            obj,
            rule: 'XREF-REFS',
            path,
            subject,
            message: `Not found: ${quote(key)}: ${ref.kind} ${ns ? `${ns}/` : ''}${ref.name} has no such key (keys: ${[...keys].sort().join(', ') || 'none'})`,
          });
    }
  }
}
