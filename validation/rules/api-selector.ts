import type { RuleContext } from '../context';
import { get, rec } from '../json';
import { isEmptySelector, podTemplate, selectorMatches } from '../model';

const SELECTOR_REQUIRED = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** API-SELECTOR: a workload whose selector is missing, empty or blind to its own pods is rejected (or orphans them). */
export function apiSelector(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    const selector = get(obj.raw, 'spec', 'selector');
    if (!SELECTOR_REQUIRED.has(obj.kind) && selector === undefined) continue;
    if (selector === undefined || !rec(selector)) {
      ctx.report({ obj, rule: 'API-SELECTOR', path: ['spec', 'selector'], message: 'Required value' });
    } else if (isEmptySelector(selector)) {
      ctx.report({
        obj,
        rule: 'API-SELECTOR',
        path: ['spec', 'selector'],
        message: `Invalid value: ${JSON.stringify(selector)}: empty selector is invalid for ${obj.kind.toLowerCase()}`,
      });
    } else if (!selectorMatches(selector, pt.labels)) {
      ctx.report({
        obj,
        rule: 'API-SELECTOR',
        path: pt.labelsPath,
        message: `Invalid value: ${JSON.stringify(pt.labels)}: \`selector\` does not match template \`labels\``,
      });
    }
  }
}
