import { Testing } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { MemoStack } from '../../charts/memo-stack';
import { MonitoringMode } from '../../charts/monitoring/monitoring-mode';
import { CLOUD, KIND, Profile } from '../../charts/profiles';
import {
  ProgramCheckError,
  TWO_STACKS_TESTS_DIR,
  alertRules,
  alertTestCoverage,
  checkPrometheusConfig,
  checkPrometheusRules,
  kubernetesSdProblems,
  prometheusConfigs,
  ruleFiles,
  ruleTestFiles,
  testPrometheusRules,
  type DistProfile,
  type Obj,
  type RuleFile,
} from '../../validation/programs';
import { describeWithPrograms, distinctBy, profile, record } from './support';

function onlyConfig(dist: DistProfile): string {
  const configs = prometheusConfigs(dist);
  expect(configs.map((c) => `${c.configMap}/${c.key}`)).toEqual(['memo-prometheus-config/prometheus.yml']);
  return configs[0].content;
}

function namespaces(dist: DistProfile): Set<string> {
  return new Set(
    dist.resources.map((r) => (r.kind === 'Namespace' ? r.name : r.namespace)).filter((n) => n !== ''),
  );
}

const rulesText = (dist: DistProfile): string =>
  ruleFiles(dist)
    .map((f) => f.content)
    .join('\n---\n');

/** The PrometheusRule a stack of `profile` in `namespace` emits in operator mode, as a rule file. */
function operatorRules(namespace: string, profile: Profile): RuleFile {
  const stack = new MemoStack(Testing.app(), 'memo', {
    profile: { ...profile, namespace },
    monitoringMode: MonitoringMode.operator(),
  });
  const rules = (Testing.synth(stack) as Obj[]).filter((m) => m.kind === 'PrometheusRule');
  expect(rules).toHaveLength(1);
  return {
    source: `PrometheusRule ${namespace}/memo-rules (${profile.name} sizes)`,
    fileName: `${namespace}.yaml`,
    content: stringify(rules[0].spec),
  };
}

/** One stack small, one large, so alert descriptions ("Fewer than 1"/"2") tell whose rule fired. */
const twoStacks = (): RuleFile[] => [operatorRules('memo-a', KIND), operatorRules('memo-b', CLOUD)];

describeWithPrograms('Prometheus config and rules (promtool)', ['promtool'], () => {
  for (const { names, dist } of distinctBy(onlyConfig)) {
    it(`when promtool checks the ${names} prometheus.yml (Kubernetes SD swapped for a static target), then it is valid`, async () => {
      const report = await checkPrometheusConfig(onlyConfig(dist), namespaces(dist));
      record(`prometheus.yml ${names}`, report);
      expect(report.output).toMatch(/SUCCESS/);
    }, 60_000);
  }

  for (const { names, dist } of distinctBy(rulesText)) {
    it(`when promtool lints the ${names} rule files (--lint=all --lint-fatal), then they pass`, async () => {
      const report = await checkPrometheusRules(ruleFiles(dist));
      record(`rules ${names}`, report);
      expect(report.output).toMatch(/SUCCESS: \d+ rules found/);
    }, 60_000);
  }

  // Per profile, not per distinct rules text: which unit test files apply is a profile matter.
  for (const dist of distinctBy((d) => d.profile).map((g) => g.dist)) {
    it(`when the ${dist.profile} rules define alerts, then each has a firing and a quiet unit test`, () => {
      const alerts = alertRules(ruleFiles(dist)).map((a) => a.alert);
      expect(alerts.length).toBeGreaterThan(0);
      expect(alertTestCoverage(alerts, ruleTestFiles(dist.profile))).toEqual({
        missingFiring: [],
        missingQuiet: [],
        unknown: [],
      });
    });

    it(`when promtool runs the unit tests on the ${dist.profile} rules, then every case passes`, async () => {
      const report = await testPrometheusRules(ruleFiles(dist), ruleTestFiles(dist.profile));
      record(`rule unit tests ${dist.profile}`, report);
      expect(report.output).not.toMatch(/FAILED/);
    }, 60_000);
  }

  it('when two stacks in memo-a and memo-b share one Prometheus, then each alerts on its own series only', async () => {
    const tests = ruleTestFiles(undefined, TWO_STACKS_TESTS_DIR);
    expect(tests.map((t) => t.slice(TWO_STACKS_TESTS_DIR.length + 1))).toEqual([
      'kafka.yml',
      'mariadb.yml',
      'memo-api.yml',
      'redis.yml',
    ]);
    const report = await testPrometheusRules(twoStacks(), tests);
    record('rule unit tests, two stacks in one Prometheus', report);
    expect(report.output).not.toMatch(/FAILED/);
  }, 60_000);

  it("when the two stacks' rules lose their job and namespace matchers, then every component's two-stack tests fail", async () => {
    // Unscoped, each stack's counts and maxima read both stacks' series.
    const unscoped = twoStacks().map((f) => ({
      ...f,
      content: f.content.replace(/\{job="[^"]*",namespace="[^"]*"\}|job="[^"]*",namespace="[^"]*",/g, ''),
    }));
    expect(unscoped.map((f) => f.content).join('')).not.toMatch(/namespace=/);
    const error: unknown = await testPrometheusRules(
      unscoped,
      ruleTestFiles(undefined, TWO_STACKS_TESTS_DIR),
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ProgramCheckError);
    // promtool names each failed case; the other stack's healthy series mask the first four,
    // its broken ones fire the other stack's alert too in the last four.
    for (const failedCase of [
      "memo-a's only server is down while memo-b's two are up",
      "memo-a's Redis is down while memo-b's is up",
      "memo-a's only broker and its exporter are gone while memo-b reports three",
      "memo-a's API replica is down while memo-b's is up",
      "memo-a's server uses 90 % of its connections, memo-b's server of the same name 10 %",
      "memo-a's Redis is at 98 % of maxmemory, memo-b's at half",
      "memo-a's search-indexer is 5000 messages behind, memo-b's keeps up",
      "memo-b's API answers half its requests with 5xx, memo-a's none",
    ]) {
      expect((error as Error).message).toContain(`name: ${failedCase},`);
    }
  }, 60_000);

  it('when prometheus.yml has an invalid duration, then promtool rejects it', async () => {
    const broken = onlyConfig(profile('kind')).replace(/scrape_interval: \S+/, 'scrape_interval: 30 parsecs');
    const failure = checkPrometheusConfig(broken, namespaces(profile('kind')));
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(/not a valid duration string/);
  }, 60_000);

  it('when a kubernetes_sd_configs block has an unknown role and namespace, then the shape check names both', () => {
    const config = parse(onlyConfig(profile('kind'))) as Obj;
    const withSd = (config.scrape_configs as Obj[]).find((s) => s.kubernetes_sd_configs !== undefined);
    expect(withSd).toBeDefined();
    (withSd?.kubernetes_sd_configs as Obj[])[0] = { role: 'pods', namespaces: { names: ['meom'] } };
    const problems = kubernetesSdProblems(config, namespaces(profile('kind')));
    expect(problems).toEqual([
      expect.stringMatching(/\.role: Unsupported value: "pods"/),
      expect.stringMatching(/\.namespaces\.names: Not found: "meom"/),
    ]);
  });

  it('when a rule expression does not parse, then promtool check rules rejects it', async () => {
    const [first] = ruleFiles(profile('kind'));
    const doc = parse(first.content) as { groups: Array<{ rules: Obj[] }> };
    doc.groups[0].rules[0].expr = 'sum(rate(http_requests_total[5m]) >';
    const failure = checkPrometheusRules([{ ...first, content: stringify(doc) }]);
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(/parse error/);
  }, 60_000);

  it('when an alert threshold changes so a firing case no longer fires, then promtool test rules fails', async () => {
    const files = ruleFiles(profile('kind'));
    const broken = files.map((f) => ({ ...f, content: f.content.replace(/\) < 1\n/, ') < 0\n') }));
    expect(broken.map((f) => f.content)).not.toEqual(files.map((f) => f.content));
    const failure = testPrometheusRules(broken, ruleTestFiles('kind'));
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(/FAILED/);
  }, 60_000);
});
