import type { RuleContext } from '../context';
import { arr, quote, rec, str } from '../json';
import { labelValue, qualifiedName } from '../../charts/common/k8s-syntax';
import type { FieldPath, K8sObject } from '../types';

const TOTAL_ANNOTATION_BYTES = 256 * 1024;

function checkLabelMap(ctx: RuleContext, obj: K8sObject, map: unknown, p: FieldPath): void {
  for (const [k, v] of Object.entries(rec(map) ?? {})) {
    for (const e of qualifiedName(k))
      ctx.report({
        obj,
        rule: 'API-LABELS',
        path: [...p, k],
        atKey: true,
        message: `Invalid value: ${quote(k)}: ${e}`,
      });
    if (typeof v === 'string')
      for (const e of labelValue(v))
        ctx.report({ obj, rule: 'API-LABELS', path: [...p, k], message: `Invalid value: ${quote(v)}: ${e}` });
  }
}

function checkExpressions(ctx: RuleContext, obj: K8sObject, list: unknown, p: FieldPath): void {
  arr(list).forEach((e, i) => {
    const expr = rec(e) ?? {};
    const op = str(expr.operator);
    const values = arr(expr.values);
    const at = [...p, i];
    for (const err of qualifiedName(str(expr.key) ?? ''))
      ctx.report({
        obj,
        rule: 'API-LABELS',
        path: [...at, 'key'],
        message: `Invalid value: ${quote(expr.key)}: ${err}`,
      });
    if ((op === 'In' || op === 'NotIn') && values.length === 0)
      ctx.report({
        obj,
        rule: 'API-LABELS',
        path: [...at, 'values'],
        message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
      });
    else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
      ctx.report({
        obj,
        rule: 'API-LABELS',
        path: [...at, 'values'],
        message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      });
    else if (op !== undefined && !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(op))
      ctx.report({
        obj,
        rule: 'API-LABELS',
        path: [...at, 'operator'],
        message: `Unsupported value: ${quote(op)}: supported values: "In", "NotIn", "Exists", "DoesNotExist"`,
      });
    values.forEach((v, j) => {
      if (typeof v === 'string')
        for (const err of labelValue(v))
          ctx.report({
            obj,
            rule: 'API-LABELS',
            path: [...at, 'values', j],
            message: `Invalid value: ${quote(v)}: ${err}`,
          });
    });
  });
}

/**
 * API-LABELS: every `metadata` (object, pod template, claim template) and every selector in the
 * object, wherever it sits, so new kinds are covered without a list of paths.
 */
export function apiLabels(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const walk = (node: unknown, p: FieldPath, parentKey?: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => walk(n, [...p, i]));
        return;
      }
      const r = rec(node);
      if (!r) return;
      if (parentKey === 'metadata') {
        checkLabelMap(ctx, obj, r.labels, [...p, 'labels']);
        const annotations = rec(r.annotations) ?? {};
        let bytes = 0;
        for (const [k, v] of Object.entries(annotations)) {
          bytes += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
          for (const e of qualifiedName(k))
            ctx.report({
              obj,
              rule: 'API-LABELS',
              path: [...p, 'annotations', k],
              atKey: true,
              message: `Invalid value: ${quote(k)}: ${e}`,
            });
        }
        if (bytes > TOTAL_ANNOTATION_BYTES)
          ctx.report({
            obj,
            rule: 'API-LABELS',
            path: [...p, 'annotations'],
            message: `Too long: must have at most ${TOTAL_ANNOTATION_BYTES} bytes`,
          });
      }
      for (const [k, v] of Object.entries(r)) {
        if (k === 'matchLabels') checkLabelMap(ctx, obj, v, [...p, k]);
        else if (k === 'matchExpressions') checkExpressions(ctx, obj, v, [...p, k]);
        else if (k === 'selector' && obj.kind === 'Service' && p.length === 1)
          checkLabelMap(ctx, obj, v, [...p, k]);
        else if (k !== 'data' && k !== 'stringData' && k !== 'binaryData') walk(v, [...p, k], k);
      }
    };
    walk(obj.raw, []);
  }
}
