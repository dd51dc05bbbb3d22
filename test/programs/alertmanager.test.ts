import {
  ProgramCheckError,
  alertmanagerConfigs,
  checkAlertmanagerConfig,
  parseAlertmanagerConfig,
  routeCases,
  testAlertmanagerRoutes,
  type DistProfile,
  type RouteCase,
} from '../../validation/programs';
import { describeWithPrograms, distinctBy, profile, record } from './support';

function onlyConfig(dist: DistProfile): string {
  const configs = alertmanagerConfigs(dist);
  expect(configs.map((c) => `${c.configMap}/${c.key}`)).toEqual([
    'memo-alertmanager-config/alertmanager.yml',
  ]);
  return configs[0].content;
}

/** What the alert rules' severities must reach, independent of how the tree is written. */
const SEVERITY_CASES: readonly RouteCase[] = [
  {
    labels: { alertname: 'MemoApiDown', severity: 'critical', namespace: 'memo' },
    receivers: ['critical'],
    route: 'critical',
  },
  {
    labels: { alertname: 'RedisMemoryNearMax', severity: 'warning', namespace: 'memo' },
    receivers: ['default'],
    route: 'warning',
  },
  { labels: { alertname: 'Watchdog', namespace: 'memo' }, receivers: ['default'], route: 'no severity' },
];

describeWithPrograms('Alertmanager config (amtool)', ['amtool'], () => {
  for (const { names, dist } of distinctBy(onlyConfig)) {
    it(`when amtool checks the ${names} alertmanager.yml, then it is valid`, async () => {
      const report = await checkAlertmanagerConfig(onlyConfig(dist));
      record(`alertmanager.yml ${names}`, report);
      expect(report.output).toMatch(/SUCCESS/);
    }, 60_000);

    it(`when alerts of each severity and of each child route are routed by the ${names} config, then they reach the expected receivers`, async () => {
      const text = onlyConfig(dist);
      const derived = routeCases(parseAlertmanagerConfig(text));
      expect(derived.map((c) => c.labels.severity).sort()).toEqual(['critical', 'warning']);
      const report = await testAlertmanagerRoutes(text, [...SEVERITY_CASES, ...derived]);
      record(`alertmanager routes ${names}`, report);
    }, 60_000);
  }

  it('when a route names a receiver that does not exist, then amtool check-config rejects the config', async () => {
    const broken = onlyConfig(profile('kind')).replace('- receiver: critical', '- receiver: pager');
    const failure = checkAlertmanagerConfig(broken);
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(/undefined receiver "pager"/);
  }, 60_000);

  it('when the critical route is lost, then amtool config routes test reports the critical alert going elsewhere', async () => {
    const broken = onlyConfig(profile('kind')).replace('severity="critical"', 'severity="crit"');
    const failure = testAlertmanagerRoutes(broken, SEVERITY_CASES);
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(
      /critical \{alertname=MemoApiDown, severity=critical, namespace=memo\}: expected critical/,
    );
  }, 60_000);
});
