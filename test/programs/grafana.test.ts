import { parse } from 'yaml';
import {
  ProgramCheckError,
  checkDashboardQueries,
  dashboardProblems,
  dashboards,
  findConfigs,
  isObj,
  listAt,
  mountedConfigMapFiles,
  objAt,
  provisionedDatasources,
  requireResource,
  strAt,
  type DistProfile,
} from '../../validation/programs';
import { describeWithPrograms, distinctBy, profile, record } from './support';

const key = (dist: DistProfile): string =>
  JSON.stringify([
    provisionedDatasources(dist).map((d) => [d.name, d.uid, d.type]),
    dashboards(dist).map((d) => d.content),
  ]);

describeWithPrograms('Grafana dashboards and datasources', ['promtool'], () => {
  for (const { names, dist } of distinctBy(key)) {
    it(`when the ${names} dashboards are read, then they parse, every panel has queries and every datasource they name is provisioned`, () => {
      const datasources = provisionedDatasources(dist);
      const boards = dashboards(dist);
      expect(datasources.length).toBeGreaterThan(0);
      expect(boards.length).toBeGreaterThan(0);
      expect(boards.flatMap((b) => dashboardProblems(b, datasources))).toEqual([]);
    });

    it(`when promtool parses every query of the ${names} dashboards, then they are valid PromQL`, async () => {
      const report = await checkDashboardQueries(dashboards(dist));
      record(`dashboard queries ${names}`, report);
      expect(report.output).toMatch(/SUCCESS: [1-9]\d* rules found/);
    }, 60_000);

    it(`when Grafana reads the ${names} provisioning files, then the dashboard provider's path is where the dashboards are mounted`, () => {
      const grafana = requireResource(dist, 'Deployment', 'memo-grafana');
      const mounted = mountedConfigMapFiles(dist, grafana);
      const providers = findConfigs(dist, /\.ya?ml$/, (c) => Array.isArray(objAt(parse(c)).providers));
      expect(providers.length).toBe(1);
      const paths = listAt(objAt(parse(providers[0].content)).providers)
        .filter(isObj)
        .map((p) => strAt(objAt(p.options).path) ?? '');
      for (const board of dashboards(dist)) {
        const file = mounted.find((m) => m.configMap === board.configMap && m.key === board.key);
        expect(file).toBeDefined();
        expect(paths.some((p) => file?.path.startsWith(`${p}/`))).toBe(true);
      }
      // The provisioning files themselves must sit where Grafana looks for them.
      const provisioning = mounted
        .filter((m) => m.path.startsWith('/etc/grafana/provisioning/'))
        .map((m) => m.key);
      expect(provisioning).toEqual(expect.arrayContaining([providers[0].key, 'datasources.yaml']));
    });
  }

  it('when a panel names a datasource that is not provisioned, then the dashboard check reports it', () => {
    const dist = profile('kind');
    const [board] = dashboards(dist);
    const broken = {
      ...board,
      content: board.content.replace(/"uid": "memo-prometheus"/, '"uid": "thanos"'),
    };
    expect(broken.content).not.toEqual(board.content);
    expect(dashboardProblems(broken, provisionedDatasources(dist))).toEqual([
      expect.stringMatching(/Not found: datasource "thanos" \(provisioned: memo-prometheus\)/),
    ]);
  });

  it('when a dashboard query is not valid PromQL, then promtool rejects it', async () => {
    const [board] = dashboards(profile('kind'));
    const broken = { ...board, content: board.content.replace(/"expr": "/, '"expr": "sum by (pod ') };
    const failure = checkDashboardQueries([broken]);
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(/parse error/);
  }, 60_000);
});
