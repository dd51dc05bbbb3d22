/** Grafana's files: the dashboard JSON of each monitored component, and the standalone Grafana's provisioning. */
import { buildGrafanaDashboard, dashboardUid } from './grafana-dashboard';
import { IMonitoringContribution } from '../endpoints';
import { seriesSelectorOf } from './scrape-job';
import { toYaml } from './yaml';

/** The folder the standalone Grafana loads dashboard files from. */
export const DASHBOARDS_PATH = '/etc/grafana/dashboards';

/** Dashboard JSON per component, keyed by `<component>.json`. */
export function renderDashboards(
  contributions: readonly IMonitoringContribution[],
  datasourceUid: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of contributions) {
    out[`${c.component}.json`] =
      JSON.stringify(
        buildGrafanaDashboard({
          uid: dashboardUid(c.component),
          title: c.dashboardTitle,
          panels: c.dashboardPanels(seriesSelectorOf(c)),
          datasourceUid,
          tags: ['memostack', c.component],
        }),
        undefined,
        2,
      ) + '\n';
  }
  return out;
}

/** datasources.yaml: the stack's Prometheus, under the uid every dashboard queries. */
export function renderDatasources(datasourceUid: string, prometheusUrl: string): string {
  return toYaml({
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        uid: datasourceUid,
        type: 'prometheus',
        access: 'proxy',
        url: prometheusUrl,
        isDefault: true,
        editable: false,
      },
    ],
  });
}

/** providers.yaml: the dashboard files under DASHBOARDS_PATH, read-only in the UI. */
export function renderDashboardProviders(): string {
  return toYaml({
    apiVersion: 1,
    providers: [
      {
        name: 'memostack',
        folder: 'memostack',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: DASHBOARDS_PATH },
      },
    ],
  });
}
