import { LineCounter, parseDocument } from 'yaml';
import type { RuleContext } from '../context';
import { embeddedPosition } from '../embedded';
import { arr, get, quote, rec, str } from '../json';
import { formatPath, locate } from '../paths';
import type { FieldPath } from '../types';

interface Problem {
  readonly path: FieldPath;
  readonly message: string;
}

/** Checks a Prometheus rule file's groups; paths are relative to the document holding `groups`. */
export function ruleProblems(groups: unknown, base: FieldPath = []): Problem[] {
  const out: Problem[] = [];
  const names = new Set<string>();
  arr(groups).forEach((g, i) => {
    const group = rec(g) ?? {};
    const gp = [...base, 'groups', i];
    const name = str(group.name);
    if (!name) out.push({ path: [...gp, 'name'], message: 'Required value: rule groups need a name' });
    else if (names.has(name)) out.push({ path: [...gp, 'name'], message: `Duplicate value: ${quote(name)}` });
    if (name) names.add(name);
    arr(group.rules).forEach((r, j) => {
      const rule = rec(r) ?? {};
      const rp = [...gp, 'rules', j];
      const alert = str(rule.alert);
      if (str(rule.expr) === undefined && typeof rule.expr !== 'number')
        out.push({ path: [...rp, 'expr'], message: 'Required value' });
      if (!alert) return;
      const what = `alert ${quote(alert)}`;
      const forValue = str(rule.for);
      if (!forValue || /^0+[smhdwy]?$/.test(forValue))
        out.push({
          path: [...rp, 'for'],
          message: `Required value: ${what} needs a non-zero \`for\` so one bad scrape does not page`,
        });
      if (!str(get(rule, 'labels', 'severity')))
        out.push({
          path: [...rp, 'labels', 'severity'],
          message: `Required value: ${what} needs a severity label for routing`,
        });
      for (const a of ['summary', 'description'])
        if (!str(get(rule, 'annotations', a)))
          out.push({
            path: [...rp, 'annotations', a],
            message: `Required value: ${what} needs a ${a} annotation`,
          });
    });
  });
  return out;
}

/** MON-RULES: alerting rules embedded in ConfigMaps (or PrometheusRule objects) are complete enough to act on. */
export function monRules(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    if (obj.kind === 'PrometheusRule') {
      for (const p of ruleProblems(get(obj.raw, 'spec', 'groups'), ['spec']))
        ctx.report({ obj, rule: 'MON-RULES', path: p.path, message: p.message });
      continue;
    }
    if (obj.kind !== 'ConfigMap') continue;
    for (const [key, text] of Object.entries(rec(obj.raw.data) ?? {})) {
      if (typeof text !== 'string' || !/^\s*groups\s*:/m.test(text)) continue;
      const lc = new LineCounter();
      const doc = parseDocument(text, { lineCounter: lc });
      if (doc.errors.length > 0) {
        ctx.report({
          obj,
          rule: 'MON-RULES',
          path: ['data', key],
          message: `Invalid value: embedded rules do not parse: ${doc.errors[0].message.split('\n')[0]}`,
        });
        continue;
      }
      const groups = get(doc.toJS(), 'groups');
      if (!Array.isArray(groups)) continue;
      for (const p of ruleProblems(groups)) {
        const inner = locate(doc, lc, p.path);
        const pos = embeddedPosition(obj, 'data', key, inner.line);
        ctx.report({
          obj,
          rule: 'MON-RULES',
          path: ['data', key],
          line: pos.line,
          col: pos.col,
          message: `${formatPath(p.path)}: ${p.message}`,
        });
      }
    }
  }
}
