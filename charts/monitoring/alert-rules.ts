/**
 * The alert rules of the monitored components, one group per component: the rules file of the
 * standalone Prometheus and the spec of the operator's PrometheusRule.
 */
import { IMonitoringContribution } from '../endpoints';
import { seriesSelectorOf } from './scrape-job';
import { toYaml } from './yaml';

export function ruleGroups(contributions: readonly IMonitoringContribution[]) {
  return contributions
    .map((c) => ({ name: c.component, rules: c.alertRules(seriesSelectorOf(c)) }))
    .filter((group) => group.rules.length > 0)
    .map((group) => ({
      name: group.name,
      rules: group.rules.map((r) => ({
        alert: r.alert,
        expr: r.expr,
        for: r.for,
        labels: { severity: r.severity, ...r.labels },
        annotations: { summary: r.summary, description: r.description, ...r.annotations },
      })),
    }));
}

/** The rules file as Prometheus loads it in standalone mode. */
export function renderRules(contributions: readonly IMonitoringContribution[]): string {
  return toYaml({ groups: ruleGroups(contributions) });
}
