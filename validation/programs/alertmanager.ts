import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { findConfigs, isObj, listAt, objAt, strAt, type DistProfile, type Obj } from './manifests';
import { ProgramCheckError, removeScratch, requireProgram, run, scratchDir } from './process';
import type { CheckReport } from './report';

/** alertmanager.yml files embedded in ConfigMaps. */
export function alertmanagerConfigs(dist: DistProfile) {
  return findConfigs(dist, /^alertmanager\.ya?ml$/);
}

/** A label set and the receivers Alertmanager must pick for it. */
export interface RouteCase {
  readonly labels: Readonly<Record<string, string>>;
  readonly receivers: readonly string[];
  /** Which route the case exercises, for messages. */
  readonly route: string;
}

/** Equality matchers of a route (`matchers: ['a="b"']` and the older `match: {a: b}`). */
function equalityMatchers(route: Obj): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(objAt(route.match))) out[k] = String(v);
  for (const m of listAt(route.matchers)) {
    const s = strAt(m);
    if (s === undefined) continue;
    const eq = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?([^"]*)"?\s*$/.exec(s);
    if (!eq) return undefined; // a regex or negative matcher: no single label set stands for it
    out[eq[1]] = eq[2];
  }
  return out;
}

/**
 * One case per child route with plain equality matchers, expecting that route's receiver (or
 * the inherited one): amtool then proves the tree really sends such an alert there, which fails
 * when an earlier sibling shadows the route or a matcher is malformed.
 */
export function routeCases(config: Obj): RouteCase[] {
  const cases: RouteCase[] = [];
  const walk = (route: Obj, inherited: string, labels: Record<string, string>, where: string): void => {
    const receiver = strAt(route.receiver) ?? inherited;
    listAt(route.routes)
      .filter(isObj)
      .forEach((child, i) => {
        const m = equalityMatchers(child);
        if (m === undefined) return;
        const childLabels = { ...labels, ...m };
        const at = `${where}.routes[${i}]`;
        const childReceiver = strAt(child.receiver) ?? receiver;
        if (listAt(child.routes).length === 0)
          cases.push({ labels: childLabels, receivers: [childReceiver], route: at });
        walk(child, receiver, childLabels, at);
      });
  };
  walk(objAt(config.route), '', {}, 'route');
  return cases;
}

function amtool(): string {
  return requireProgram('amtool');
}

/** `amtool check-config`: the config parses and every receiver a route names exists. */
export async function checkAlertmanagerConfig(text: string): Promise<CheckReport> {
  const started = Date.now();
  const tool = amtool();
  const dir = scratchDir('amtool');
  try {
    const file = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(file, text);
    const result = await run(tool, ['check-config', file], { timeoutMs: 30_000 });
    if (result.code !== 0)
      throw new ProgramCheckError('amtool check-config', `exit ${String(result.code)}`, result.output);
    return { program: 'amtool check-config', ms: Date.now() - started, overrides: [], output: result.output };
  } finally {
    removeScratch(dir);
  }
}

/** `amtool config routes test --verify.receivers` for each case; every mismatch is reported. */
export async function testAlertmanagerRoutes(
  text: string,
  cases: readonly RouteCase[],
): Promise<CheckReport> {
  const started = Date.now();
  const tool = amtool();
  if (cases.length === 0) throw new ProgramCheckError('amtool config routes test', 'no route cases', '');
  const dir = scratchDir('amtool-routes');
  try {
    const file = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(file, text);
    const failures: string[] = [];
    let output = '';
    for (const c of cases) {
      const labels = Object.entries(c.labels).map(([k, v]) => `${k}=${v}`);
      const result = await run(
        tool,
        [
          'config',
          'routes',
          'test',
          `--config.file=${file}`,
          `--verify.receivers=${c.receivers.join(',')}`,
          ...labels,
        ],
        { timeoutMs: 30_000 },
      );
      output += `${labels.join(' ')} -> ${result.output.trim()}\n`;
      if (result.code !== 0) {
        failures.push(
          `${c.route} {${labels.join(', ')}}: expected ${c.receivers.join(',')}, amtool: ${result.output.trim()}`,
        );
      }
    }
    if (failures.length > 0)
      throw new ProgramCheckError(
        'amtool config routes test',
        `${failures.length} route(s) failed`,
        failures.join('\n'),
      );
    return { program: 'amtool config routes test', ms: Date.now() - started, overrides: [], output };
  } finally {
    removeScratch(dir);
  }
}

export function parseAlertmanagerConfig(text: string): Obj {
  const value: unknown = parse(text);
  if (!isObj(value)) throw new Error('alertmanager.yml is not a mapping');
  return value;
}
