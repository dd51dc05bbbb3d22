import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { describe, findConfigs, isObj, listAt, objAt, strAt, type DistProfile, type Obj } from './manifests';
import { ProgramCheckError, ROOT_DIR, removeScratch, requireProgram, run, scratchDir } from './process';
import type { CheckReport } from './report';

/** Unit tests for the alert rules, kept in the repo: one firing and one quiet case per alert. */
export const PROMETHEUS_TESTS_DIR = path.join(ROOT_DIR, 'validation', 'programs', 'prometheus-tests');
/**
 * Unit tests of two stacks' rules loaded together, as one Prometheus shared by stacks in the
 * namespaces memo-a and memo-b loads them; not run per profile (ruleTestFiles does not descend).
 */
export const TWO_STACKS_TESTS_DIR = path.join(PROMETHEUS_TESTS_DIR, 'two-stacks');

/** A file of Prometheus alerting/recording rules, as Prometheus would load it. */
export interface RuleFile {
  /** Where it comes from: `ConfigMap memo-prometheus-rules key memostack.yaml (dist/kind)`. */
  readonly source: string;
  /** A file name for it (the ConfigMap key, or `<PrometheusRule name>.yaml`). */
  readonly fileName: string;
  readonly content: string;
}

function parseYamlObj(text: string): Obj | undefined {
  try {
    const value: unknown = parse(text);
    return isObj(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isRulesFile(content: string): boolean {
  const doc = parseYamlObj(content);
  return doc !== undefined && Array.isArray(doc.groups) && doc.groups.every((g) => isObj(g) && 'rules' in g);
}

/** prometheus.yml files embedded in ConfigMaps. */
export function prometheusConfigs(dist: DistProfile) {
  return findConfigs(dist, /^prometheus\.ya?ml$/);
}

/** Rule files: ConfigMap entries shaped like one, and PrometheusRule objects (operator mode). */
export function ruleFiles(dist: DistProfile): RuleFile[] {
  const out: RuleFile[] = findConfigs(dist, /\.ya?ml$/, isRulesFile).map((c) => ({
    source: describe(c, dist),
    fileName: c.key,
    content: c.content,
  }));
  for (const r of dist.resources.filter((x) => x.kind === 'PrometheusRule')) {
    out.push({
      source: `PrometheusRule ${r.namespace}/${r.name} (${path.relative(ROOT_DIR, r.file)})`,
      fileName: `${r.name}.yaml`,
      content: stringify(objAt(r.raw.spec)),
    });
  }
  return out;
}

export interface AlertRuleInfo {
  readonly alert: string;
  readonly group: string;
  readonly source: string;
  readonly raw: Obj;
}

export function alertRules(files: readonly RuleFile[]): AlertRuleInfo[] {
  const out: AlertRuleInfo[] = [];
  for (const f of files) {
    for (const g of listAt(parseYamlObj(f.content)?.groups).filter(isObj)) {
      for (const r of listAt(g.rules).filter(isObj)) {
        const alert = strAt(r.alert);
        if (alert !== undefined) out.push({ alert, group: strAt(g.name) ?? '', source: f.source, raw: r });
      }
    }
  }
  return out;
}

/** Roles Prometheus' Kubernetes service discovery accepts. */
const SD_ROLES = new Set(['pod', 'service', 'endpoints', 'endpointslice', 'node', 'ingress']);
/** Roles whose objects live in namespaces (so `namespaces` is meaningful). */
const NAMESPACED_ROLES = new Set(['pod', 'service', 'endpoints', 'endpointslice', 'ingress']);
const SD_KEYS = new Set([
  'role',
  'api_server',
  'kubeconfig_file',
  'namespaces',
  'selectors',
  'attach_metadata',
  // HTTP client settings Prometheus allows on the block.
  'basic_auth',
  'authorization',
  'oauth2',
  'tls_config',
  'proxy_url',
  'no_proxy',
  'proxy_from_environment',
  'proxy_connect_header',
  'follow_redirects',
  'enable_http2',
]);
const LABEL_SELECTOR =
  /^(!?[A-Za-z0-9./_-]+(\s*(==?|!=)\s*[A-Za-z0-9._-]*|\s+(in|notin)\s+\([A-Za-z0-9._, -]*\))?)(,\s*!?[A-Za-z0-9./_-]+(\s*(==?|!=)\s*[A-Za-z0-9._-]*|\s+(in|notin)\s+\([A-Za-z0-9._, -]*\))?)*$/;

/**
 * The shape of every kubernetes_sd_configs block (the part promtool cannot check here): a known
 * role, only known keys, `namespaces.names` a list of namespaces that exist in the manifests
 * (a typo there silently discovers nothing), selectors with a role and a valid label selector.
 */
export function kubernetesSdProblems(config: Obj, knownNamespaces: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const blocks: Array<[string, unknown]> = [];
  listAt(config.scrape_configs).forEach((sc, i) => {
    const job = strAt(objAt(sc).job_name) ?? `#${i}`;
    listAt(objAt(sc).kubernetes_sd_configs).forEach((b, j) =>
      blocks.push([`scrape_configs[${job}].kubernetes_sd_configs[${j}]`, b]),
    );
  });
  listAt(objAt(config.alerting).alertmanagers).forEach((am, i) =>
    listAt(objAt(am).kubernetes_sd_configs).forEach((b, j) =>
      blocks.push([`alerting.alertmanagers[${i}].kubernetes_sd_configs[${j}]`, b]),
    ),
  );
  for (const [where, block] of blocks) {
    if (!isObj(block)) {
      problems.push(`${where}: Invalid value: expected a mapping`);
      continue;
    }
    for (const key of Object.keys(block)) {
      if (!SD_KEYS.has(key)) problems.push(`${where}.${key}: Forbidden: unknown field`);
    }
    const role = strAt(block.role);
    if (role === undefined || !SD_ROLES.has(role)) {
      problems.push(
        `${where}.role: Unsupported value: "${String(block.role)}": supported values: ${[...SD_ROLES].join(', ')}`,
      );
    }
    if (block.namespaces !== undefined) {
      const ns = objAt(block.namespaces);
      for (const key of Object.keys(ns)) {
        if (key !== 'names' && key !== 'own_namespace')
          problems.push(`${where}.namespaces.${key}: Forbidden: unknown field`);
      }
      if (
        ns.names !== undefined &&
        (!Array.isArray(ns.names) || !ns.names.every((n) => typeof n === 'string'))
      ) {
        problems.push(`${where}.namespaces.names: Invalid value: expected a list of namespace names`);
      }
      for (const n of listAt(ns.names)) {
        if (typeof n === 'string' && !knownNamespaces.has(n)) {
          problems.push(
            `${where}.namespaces.names: Not found: "${n}" (no object of the manifests lives there)`,
          );
        }
      }
      if (role === 'node') problems.push(`${where}.namespaces: Invalid value: role "node" is not namespaced`);
    } else if (role !== undefined && NAMESPACED_ROLES.has(role)) {
      problems.push(
        `${where}.namespaces: Required value: without it Prometheus watches every namespace (cluster-wide RBAC)`,
      );
    }
    listAt(block.selectors).forEach((s, k) => {
      const sel = objAt(s);
      const at = `${where}.selectors[${k}]`;
      const selRole = strAt(sel.role);
      if (selRole === undefined || !SD_ROLES.has(selRole))
        problems.push(`${at}.role: Unsupported value: "${String(sel.role)}"`);
      for (const key of ['label', 'field']) {
        const v = sel[key];
        if (v !== undefined && (typeof v !== 'string' || !LABEL_SELECTOR.test(v))) {
          problems.push(`${at}.${key}: Invalid value: "${String(v)}": not a selector`);
        }
      }
    });
  }
  return problems;
}

/**
 * A copy of prometheus.yml with every kubernetes_sd_configs block replaced by a placeholder
 * static target: Debian's promtool is built without Kubernetes discovery and rejects the block.
 */
export function withoutKubernetesSd(config: Obj): Obj {
  const placeholder = [{ targets: ['127.0.0.1:9'] }];
  const swap = (entry: unknown): unknown => {
    if (!isObj(entry) || entry.kubernetes_sd_configs === undefined) return entry;
    const rest: Obj = { ...entry };
    delete rest.kubernetes_sd_configs;
    return { ...rest, static_configs: [...listAt(rest.static_configs), ...placeholder] };
  };
  const alerting = objAt(config.alerting);
  return {
    ...config,
    scrape_configs: listAt(config.scrape_configs).map(swap),
    ...(config.alerting === undefined
      ? {}
      : { alerting: { ...alerting, alertmanagers: listAt(alerting.alertmanagers).map(swap) } }),
  };
}

function promtool(): string {
  return requireProgram('promtool');
}

/**
 * `promtool check config --syntax-only` on the Kubernetes-SD-free copy, plus the SD block shape
 * check. --syntax-only because rule_files and credentials files name paths inside the pod.
 */
export async function checkPrometheusConfig(
  text: string,
  knownNamespaces: ReadonlySet<string>,
): Promise<CheckReport> {
  const started = Date.now();
  const tool = promtool();
  let config: Obj;
  try {
    const value: unknown = parse(text);
    if (!isObj(value)) throw new Error('not a mapping');
    config = value;
  } catch (err) {
    throw new ProgramCheckError('prometheus.yml', `does not parse: ${(err as Error).message}`, text);
  }
  const problems = kubernetesSdProblems(config, knownNamespaces);
  if (problems.length > 0) {
    throw new ProgramCheckError(
      'prometheus.yml kubernetes_sd_configs',
      `${problems.length} problem(s)`,
      problems.join('\n'),
    );
  }
  const dir = scratchDir('promtool');
  try {
    const file = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(file, stringify(withoutKubernetesSd(config)));
    const result = await run(tool, ['check', 'config', '--syntax-only', file], { timeoutMs: 30_000 });
    if (result.code !== 0)
      throw new ProgramCheckError('promtool check config', `exit ${String(result.code)}`, result.output);
    return {
      program: 'promtool check config',
      ms: Date.now() - started,
      overrides: ['kubernetes_sd_configs -> static_configs placeholder'],
      output: result.output,
    };
  } finally {
    removeScratch(dir);
  }
}

function writeRuleFiles(dir: string, files: readonly RuleFile[]): string[] {
  const used = new Set<string>();
  return files.map((f, i) => {
    const name = used.has(f.fileName) ? `${i}-${f.fileName}` : f.fileName;
    used.add(name);
    const file = path.join(dir, name);
    fs.writeFileSync(file, f.content);
    return file;
  });
}

/** `promtool check rules --lint=all --lint-fatal` on every rule file. */
export async function checkPrometheusRules(files: readonly RuleFile[]): Promise<CheckReport> {
  const started = Date.now();
  const tool = promtool();
  if (files.length === 0) throw new ProgramCheckError('promtool check rules', 'no rule files found', '');
  const dir = scratchDir('promtool-rules');
  try {
    const paths = writeRuleFiles(dir, files);
    const result = await run(tool, ['check', 'rules', '--lint=all', '--lint-fatal', ...paths], {
      timeoutMs: 30_000,
    });
    if (result.code !== 0) {
      throw new ProgramCheckError(
        'promtool check rules',
        `exit ${String(result.code)} for ${files.map((f) => f.source).join(', ')}`,
        result.output,
      );
    }
    return {
      program: 'promtool check rules',
      ms: Date.now() - started,
      overrides: [],
      output: result.output,
    };
  } finally {
    removeScratch(dir);
  }
}

export interface AlertTestCoverage {
  /** Alerts without a test case that expects them to fire. */
  readonly missingFiring: readonly string[];
  /** Alerts without a test case that expects them to stay quiet. */
  readonly missingQuiet: readonly string[];
  /** Test cases naming an alert the rules do not define (a renamed or removed alert). */
  readonly unknown: readonly string[];
}

/**
 * Optional top-level key of a unit test file: the profiles whose rules it tests (thresholds and
 * alerts differ with replica counts). Files without it apply to every profile. The key is
 * removed before promtool, which rejects unknown fields.
 */
export const TEST_PROFILES_KEY = 'x-memostack-profiles';

/** Test files (*.yml / *.yaml) of a unit test folder that apply to the profile, in name order. */
export function ruleTestFiles(profile?: string, dir: string = PROMETHEUS_TESTS_DIR): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => {
      const profiles = parseYamlObj(fs.readFileSync(f, 'utf8'))?.[TEST_PROFILES_KEY];
      return profile === undefined || profiles === undefined || listAt(profiles).includes(profile);
    });
}

/** Which alerts the unit tests cover, by reading their alert_rule_test cases. */
export function alertTestCoverage(
  alerts: readonly string[],
  testFiles: readonly string[],
): AlertTestCoverage {
  const firing = new Set<string>();
  const quiet = new Set<string>();
  for (const file of testFiles) {
    for (const t of listAt(parseYamlObj(fs.readFileSync(file, 'utf8'))?.tests).filter(isObj)) {
      for (const c of listAt(t.alert_rule_test).filter(isObj)) {
        const name = strAt(c.alertname);
        if (name === undefined) continue;
        (listAt(c.exp_alerts).length > 0 ? firing : quiet).add(name);
      }
    }
  }
  const known = new Set(alerts);
  return {
    missingFiring: alerts.filter((a) => !firing.has(a)),
    missingQuiet: alerts.filter((a) => !quiet.has(a)),
    unknown: [...new Set([...firing, ...quiet])].filter((a) => !known.has(a)).sort(),
  };
}

/**
 * `promtool test rules` on the repo's unit tests, run against the rule files of one profile: each
 * test file is copied next to them with its `rule_files` pointed at them, so one set of tests
 * serves every profile.
 */
export async function testPrometheusRules(
  files: readonly RuleFile[],
  testFiles: readonly string[],
): Promise<CheckReport> {
  const started = Date.now();
  const tool = promtool();
  if (testFiles.length === 0) throw new ProgramCheckError('promtool test rules', 'no unit test files', '');
  const dir = scratchDir('promtool-test');
  try {
    const rulePaths = writeRuleFiles(dir, files).map((p) => path.basename(p));
    const copies = testFiles.map((t) => {
      const doc = parseYamlObj(fs.readFileSync(t, 'utf8')) ?? {};
      delete doc[TEST_PROFILES_KEY];
      const copy = path.join(dir, `test-${path.basename(t)}`);
      fs.writeFileSync(copy, stringify({ ...doc, rule_files: rulePaths }));
      return copy;
    });
    const result = await run(tool, ['test', 'rules', ...copies], { timeoutMs: 60_000, cwd: dir });
    if (result.code !== 0)
      throw new ProgramCheckError('promtool test rules', `exit ${String(result.code)}`, result.output);
    return {
      program: 'promtool test rules',
      ms: Date.now() - started,
      overrides: ['rule_files -> this profile'],
      output: result.output,
    };
  } finally {
    removeScratch(dir);
  }
}
