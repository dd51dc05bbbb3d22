import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ProgramCheckError, removeScratch, requireProgram, run, scratchDir } from './process';
import type { CheckReport } from './report';
import {
  describe,
  findConfigs,
  isObj,
  listAt,
  objAt,
  strAt,
  type DistProfile,
  type EmbeddedConfig,
  type Obj,
} from './manifests';

/** A datasource Grafana will have: provisioned by a ConfigMap in dist, or declared external. */
export interface ProvisionedDatasource {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
  readonly isDefault: boolean;
  readonly source: string;
}

function yamlObj(text: string): Obj | undefined {
  try {
    const v: unknown = parse(text);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Datasource provisioning files (`apiVersion: 1`, `datasources: [...]`) embedded in ConfigMaps. */
export function provisionedDatasources(dist: DistProfile): ProvisionedDatasource[] {
  const files = findConfigs(dist, /\.ya?ml$/, (c) => Array.isArray(yamlObj(c)?.datasources));
  return files.flatMap((f) =>
    listAt(yamlObj(f.content)?.datasources)
      .filter(isObj)
      .map((d) => ({
        name: strAt(d.name) ?? '',
        uid: strAt(d.uid) ?? '',
        type: strAt(d.type) ?? '',
        isDefault: d.isDefault === true,
        source: describe(f, dist),
      })),
  );
}

/** Dashboard JSON files (an object with `panels`) embedded in ConfigMaps. */
export function dashboards(dist: DistProfile): EmbeddedConfig[] {
  return findConfigs(dist, /\.json$/);
}

/** Every panel, rows' nested panels included. */
function allPanels(dashboard: Obj): Obj[] {
  const out: Obj[] = [];
  for (const p of listAt(dashboard.panels).filter(isObj)) {
    out.push(p);
    out.push(...listAt(p.panels).filter(isObj));
  }
  return out;
}

/**
 * Problems of one dashboard: it must parse, have panels, every non-row panel must have
 * targets with a query, and every datasource it references (panel, target or `datasource`
 * template variable; by uid or by name) must be one Grafana has.
 */
export function dashboardProblems(
  config: EmbeddedConfig,
  datasources: readonly ProvisionedDatasource[],
): string[] {
  const where = `ConfigMap ${config.configMap} key ${config.key}`;
  let dashboard: Obj;
  try {
    const v: unknown = JSON.parse(config.content);
    if (!isObj(v)) return [`${where}: Invalid value: not a JSON object`];
    dashboard = v;
  } catch (err) {
    return [`${where}: Invalid value: JSON does not parse: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  const uids = new Set(datasources.map((d) => d.uid).filter((u) => u !== ''));
  const names = new Set(datasources.map((d) => d.name));
  const variables = new Map<string, Obj>();
  for (const v of listAt(objAt(dashboard.templating).list).filter(isObj)) {
    const name = strAt(v.name);
    if (name !== undefined) variables.set(name, v);
  }
  const hasDefault = datasources.some((d) => d.isDefault) || datasources.length === 1;

  const checkRef = (ref: unknown, at: string): void => {
    if (ref === undefined || ref === null) {
      if (!hasDefault) problems.push(`${where} ${at}: Required value: no datasource and none is the default`);
      return;
    }
    const raw = typeof ref === 'string' ? ref : strAt(objAt(ref).uid);
    if (raw === undefined) {
      problems.push(`${where} ${at}.uid: Required value`);
      return;
    }
    const variable = /^\$\{?([A-Za-z0-9_]+)(:[a-z]+)?\}?$/.exec(raw)?.[1];
    if (variable !== undefined) {
      const v = variables.get(variable);
      if (v === undefined || v.type !== 'datasource') {
        problems.push(`${where} ${at}: Not found: datasource variable "${variable}"`);
      } else if (!datasources.some((d) => d.type === strAt(v.query))) {
        problems.push(`${where} ${at}: Not found: no provisioned datasource of type "${String(v.query)}"`);
      }
      return;
    }
    if (raw === '-- Grafana --' || raw === 'grafana') return;
    const wantedType = typeof ref === 'string' ? undefined : strAt(objAt(ref).type);
    const match = datasources.find((d) => d.uid === raw || d.name === raw);
    if (match !== undefined && wantedType !== undefined && match.type !== wantedType) {
      problems.push(
        `${where} ${at}.type: Invalid value: "${wantedType}": datasource "${raw}" is of type "${match.type}"`,
      );
    }
    if (!uids.has(raw) && !names.has(raw)) {
      problems.push(
        `${where} ${at}: Not found: datasource "${raw}" (provisioned: ${[...uids].join(', ') || 'none'})`,
      );
    }
  };

  const panels = allPanels(dashboard);
  if (panels.length === 0) problems.push(`${where} panels: Required value: the dashboard has no panels`);
  panels.forEach((p, i) => {
    const at = `panels[${i}] "${strAt(p.title) ?? ''}"`;
    if (p.type === 'row' || p.type === 'text') return;
    const targets = listAt(p.targets).filter(isObj);
    if (targets.length === 0)
      problems.push(`${where} ${at}.targets: Required value: the panel has no queries`);
    if (p.datasource !== undefined) checkRef(p.datasource, `${at}.datasource`);
    targets.forEach((t, j) => {
      const expr = strAt(t.expr);
      if (expr === undefined || expr.trim() === '') {
        problems.push(`${where} ${at}.targets[${j}].expr: Required value`);
      }
      checkRef(t.datasource ?? p.datasource, `${at}.targets[${j}].datasource`);
    });
  });
  return problems;
}

/** Grafana's interval variables, replaced by a duration so PromQL's parser accepts the query. */
const GRAFANA_INTERVALS =
  /\$(__rate_interval|__interval|__range|\{__rate_interval\}|\{__interval\}|\{__range\})/g;

/**
 * Every dashboard query as a recording rule, so `promtool check rules` parses each with the real
 * PromQL parser (a typo in a dashboard otherwise shows up only as an empty panel).
 */
export function dashboardQueriesAsRules(configs: readonly EmbeddedConfig[]): string {
  const rules: Array<{ record: string; expr: string }> = [];
  for (const c of configs) {
    let dashboard: unknown;
    try {
      dashboard = JSON.parse(c.content);
    } catch {
      continue; // dashboardProblems reports it
    }
    if (!isObj(dashboard)) continue;
    allPanels(dashboard).forEach((p, i) =>
      listAt(p.targets)
        .filter(isObj)
        .forEach((t, j) => {
          const expr = strAt(t.expr);
          if (expr === undefined || expr.trim() === '') return;
          rules.push({
            record: `dashboard:${c.key.replace(/[^A-Za-z0-9_]/g, '_')}:panel${i}_target${j}`,
            expr: expr.replace(GRAFANA_INTERVALS, '5m').replace(/\$\{?([A-Za-z0-9_]+)\}?/g, 'placeholder_$1'),
          });
        }),
    );
  }
  return JSON.stringify({ groups: [{ name: 'dashboard-queries', rules }] }, undefined, 2);
}

/** `promtool check rules` on the dashboards' queries (see dashboardQueriesAsRules). */
export async function checkDashboardQueries(configs: readonly EmbeddedConfig[]): Promise<CheckReport> {
  const started = Date.now();
  const tool = requireProgram('promtool');
  const dir = scratchDir('dashboard-queries');
  try {
    const file = path.join(dir, 'dashboard-queries.json');
    fs.writeFileSync(file, dashboardQueriesAsRules(configs));
    const result = await run(tool, ['check', 'rules', file], { timeoutMs: 30_000 });
    if (result.code !== 0) {
      throw new ProgramCheckError(
        'promtool check rules (dashboard queries)',
        `exit ${String(result.code)}`,
        result.output,
      );
    }
    return {
      program: 'promtool check rules (dashboard queries)',
      ms: Date.now() - started,
      overrides: [],
      output: result.output,
    };
  } finally {
    removeScratch(dir);
  }
}
