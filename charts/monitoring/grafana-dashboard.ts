import { DashboardPanel } from '../endpoints';

/** What one Grafana dashboard is built from. */
export interface GrafanaDashboardSpec {
  /** Dashboard uid: stable, so links and provisioning updates keep pointing at the same dashboard. */
  readonly uid: string;
  /** The dashboard title. */
  readonly title: string;
  /** The panels, two per row in this order. */
  readonly panels: DashboardPanel[];
  /** uid of the Prometheus datasource every panel queries. */
  readonly datasourceUid: string;
  /**
   * Dashboard tags.
   * @default - none
   */
  readonly tags?: string[];
}

const PANEL_WIDTH = 12;
const PANEL_HEIGHT = 8;
const COLUMNS = 24 / PANEL_WIDTH;
/** Grafana 10/11 migrates older models on load; a current version avoids a spurious "changed" state. */
const SCHEMA_VERSION = 39;
/** Grafana rejects dashboard uids longer than 40 characters. */
const MAX_UID_LENGTH = 40;

/**
 * Builds a dashboard in Grafana's JSON model. Panel ids and positions derive only from the
 * panel order (two per row), so the same contributions always give byte-identical JSON.
 * @see https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
 */
export function buildGrafanaDashboard(spec: GrafanaDashboardSpec): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(spec.uid) || spec.uid.length > MAX_UID_LENGTH) {
    throw new Error(`buildGrafanaDashboard: uid must be 1-40 letters, digits, - or _, got "${spec.uid}"`);
  }
  const datasource = { type: 'prometheus', uid: spec.datasourceUid };
  return {
    uid: spec.uid,
    title: spec.title,
    tags: [...(spec.tags ?? [])],
    timezone: 'browser',
    editable: false,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: { list: [] },
    annotations: { list: [] },
    panels: spec.panels.map((panel, index) => ({
      id: index + 1,
      title: panel.title,
      type: panel.type,
      datasource,
      gridPos: {
        h: PANEL_HEIGHT,
        w: PANEL_WIDTH,
        x: (index % COLUMNS) * PANEL_WIDTH,
        y: Math.floor(index / COLUMNS) * PANEL_HEIGHT,
      },
      fieldConfig: { defaults: panel.unit === undefined ? {} : { unit: panel.unit }, overrides: [] },
      options: {},
      targets: panel.targets.map((target, t) => ({
        refId: String.fromCharCode('A'.charCodeAt(0) + t),
        datasource,
        expr: target.expr,
        ...(target.legendFormat === undefined ? {} : { legendFormat: target.legendFormat }),
      })),
    })),
  };
}

/** A dashboard uid from a component name, cut to Grafana's limit. */
export function dashboardUid(component: string): string {
  return `memostack-${component}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, MAX_UID_LENGTH);
}
