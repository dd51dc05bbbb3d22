import type { RuleContext } from '../context';
import { arr, get, quote, rec, str } from '../json';
import {
  dns1035Label,
  dns1123Label,
  dns1123Subdomain,
  pathSegmentName,
} from '../../charts/common/k8s-syntax';
import { containers, podTemplate } from '../model';

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** API-NAMES: object, namespace, container, volume and Service port names as the API server checks them. */
export function apiNames(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const report = (p: Array<string | number>, value: string, errs: string[]): void => {
      for (const e of errs)
        ctx.report({ obj, rule: 'API-NAMES', path: p, message: `Invalid value: ${quote(value)}: ${e}` });
    };
    const name = str(get(obj.raw, 'metadata', 'name'));
    if (name === undefined && str(get(obj.raw, 'metadata', 'generateName')) === undefined) {
      ctx.report({
        obj,
        rule: 'API-NAMES',
        path: ['metadata', 'name'],
        message: 'Required value: name or generateName is required',
      });
    } else if (name !== undefined) {
      let errs: string[];
      if (obj.kind === 'Service') errs = dns1035Label(name);
      else if (obj.kind === 'Namespace') errs = dns1123Label(name);
      else if (obj.kind === 'StatefulSet') {
        // Pods get a `controller-revision-hash` label of name + '-' + 10 chars, which must fit in 63.
        errs = [...dns1123Label(name), ...(name.length > 52 ? ['must be no more than 52 characters'] : [])];
        errs = [...new Set(errs)];
      } else if (RBAC_KINDS.has(obj.kind)) errs = pathSegmentName(name);
      else errs = dns1123Subdomain(name);
      report(['metadata', 'name'], name, errs);
    }
    const ns = str(get(obj.raw, 'metadata', 'namespace'));
    if (ns !== undefined) report(['metadata', 'namespace'], ns, dns1123Label(ns));
    const pt = podTemplate(obj);
    if (pt) {
      for (const c of containers(pt)) report([...c.path, 'name'], c.name, dns1123Label(c.name));
      arr(pt.spec.volumes).forEach((v, i) => {
        const vn = str(rec(v)?.name) ?? '';
        report([...pt.specPath, 'volumes', i, 'name'], vn, dns1123Label(vn));
      });
    }
    if (obj.kind === 'Service') {
      arr(get(obj.raw, 'spec', 'ports')).forEach((p, i) => {
        const pn = str(rec(p)?.name);
        if (pn !== undefined) report(['spec', 'ports', i, 'name'], pn, dns1123Label(pn));
      });
    }
  }
}
