import * as fs from 'fs';
import * as path from 'path';
import { toFinding, type InternalFinding, type ReportArgs, type RuleContext } from './context';
import { get, rec, str } from './json';
import { loadSources, readSourceFiles, type LoadedSet } from './load';
import { fromJsonPointer } from './paths';
import { RULES } from './rules';
import { availableVersions, loadVersion, resolveSchemasDir } from './schema';
import type { Exemption, Finding, K8sObject, SourceFile, ValidationOptions, ValidationResult } from './types';

function versionList(versions: readonly string[]): string {
  const minors = versions.map((v) => Number(v.split('.')[1]));
  const runs: string[] = [];
  let start = 0;
  for (let i = 1; i <= minors.length; i++) {
    if (i === minors.length || minors[i] !== minors[i - 1] + 1) {
      runs.push(i - 1 === start ? versions[start] : `${versions[start]}-${versions[i - 1]}`);
      start = i;
    }
  }
  return runs.join(', ');
}

/** Kinds a CustomResourceDefinition in the folder defines; the built-in schemas cannot know them. */
function customKinds(objects: readonly K8sObject[]): Set<string> {
  const out = new Set<string>();
  for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
    const group = str(get(crd.raw, 'spec', 'group'));
    const kind = str(get(crd.raw, 'spec', 'names', 'kind'));
    for (const v of (get(crd.raw, 'spec', 'versions') as unknown[] | undefined) ?? [])
      if (group && kind) out.add(`${group}/${str(rec(v)?.name) ?? ''}|${kind}`);
  }
  return out;
}

function schemaFindings(
  set: LoadedSet,
  options: ValidationOptions,
  push: (f: InternalFinding) => void,
): string[] {
  const dir = resolveSchemasDir(options.schemasDir);
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (!dir) {
    const message =
      'Not found: no Kubernetes schemas (set K8S_SCHEMAS_DIR, or provide ../shared/k8s-schemas next to the project)';
    if (options.requireSchemas ?? process.env.CI === 'true') {
      push({
        rule: 'SCHEMA-STRICT',
        severity: 'error',
        file: '<schemas>',
        line: 1,
        col: 1,
        object: '',
        path: '',
        message,
      });
    } else log(`warning: ${message}; strict schema checks skipped`);
    return [];
  }
  const available = availableVersions(dir);
  const versions = [...(options.k8sVersions ?? available)];
  const missing = versions.filter((v) => !available.includes(v));
  if (missing.length > 0)
    throw new Error(
      `unknown Kubernetes version ${missing.join(', ')} (schemas in ${dir}: ${available.join(', ')})`,
    );
  const custom = customKinds(set.objects);
  // The same defect usually shows in every version; report it once and name the versions when it does not.
  const merged = new Map<string, { args: ReportArgs; versions: string[] }>();
  for (const version of versions) {
    const schemas = loadVersion(dir, version);
    for (const obj of set.objects) {
      if (custom.has(`${obj.apiVersion}|${obj.kind}`)) continue;
      const errors = schemas.validate(obj.apiVersion, obj.kind, obj.raw);
      const list: ReportArgs[] =
        errors === undefined
          ? [
              {
                obj,
                rule: 'SCHEMA-STRICT',
                path: ['apiVersion'],
                message: `Invalid value: "${obj.apiVersion}": no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`,
              },
            ]
          : errors.map((e) => ({
              obj,
              rule: 'SCHEMA-STRICT',
              path: fromJsonPointer(e.pointer, obj.raw),
              message: e.message,
              atKey: e.key !== undefined,
            }));
      for (const args of list) {
        const key = `${obj.file}#${obj.docIndex}#${args.path.join('.')}#${args.message}`;
        const entry = merged.get(key) ?? { args, versions: [] };
        entry.versions.push(version);
        merged.set(key, entry);
      }
    }
  }
  for (const { args, versions: vs } of merged.values()) {
    const suffix = vs.length === versions.length ? '' : ` (Kubernetes ${versionList(vs)})`;
    push(toFinding({ ...args, message: `${args.message}${suffix}` }));
  }
  return versions;
}

function exemptionMatches(ex: Exemption, f: InternalFinding): boolean {
  if (ex.rule !== f.rule) return false;
  if (ex.profiles && !ex.profiles.includes(path.basename(f.folder ?? path.dirname(f.file)))) return false;
  const same = (o: { kind?: string; namespace?: string; name?: string } | undefined): boolean =>
    o !== undefined && o.kind === ex.kind && (o.namespace ?? '') === ex.namespace && o.name === ex.name;
  return same(f) || same(f.subject);
}

function exemptionLine(file: string, ex: Exemption): number {
  try {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes(`'${ex.name}'`) || l.includes(`"${ex.name}"`));
    return i >= 0 ? i + 1 : 1;
  } catch {
    return 1;
  }
}

function applyExemptions(
  findings: InternalFinding[],
  options: ValidationOptions,
  folders: Set<string>,
): InternalFinding[] {
  const exemptions = options.exemptions ?? [];
  const used = new Set<number>();
  const kept = findings.filter((f) => {
    const i = exemptions.findIndex((ex) => exemptionMatches(ex, f));
    if (i >= 0) used.add(i);
    return i < 0;
  });
  const file = options.exemptionsFile ?? path.join('validation', 'exemptions.ts');
  exemptions.forEach((ex, i) => {
    if (used.has(i)) return;
    // An exemption for a profile that was not validated this time is not stale, just not exercised.
    if (ex.profiles && !ex.profiles.some((p) => folders.has(p))) return;
    kept.push({
      rule: 'EXEMPTION-STALE',
      severity: 'error',
      file,
      line: exemptionLine(file, ex),
      col: 1,
      object: `${ex.kind} ${ex.namespace ? `${ex.namespace}/` : ''}${ex.name}`,
      kind: ex.kind,
      namespace: ex.namespace,
      name: ex.name,
      path: '',
      message: `Invalid value: exemption from ${ex.rule} matches no finding; remove it (reason given: ${ex.reason})`,
    });
  });
  return kept;
}

/** Validates YAML held in memory. Files in the same folder form one set for cross-object checks. */
export function validateDocuments(
  sources: readonly SourceFile[],
  options: ValidationOptions = {},
): ValidationResult {
  const set = loadSources(sources);
  const findings: InternalFinding[] = [...set.findings];
  const push = (f: InternalFinding): void => {
    findings.push(f);
  };
  const folders = new Set([...set.filesByFolder.keys(), ...set.objects.map((o) => o.folder)]);
  for (const folder of [...folders].sort()) {
    const ctx: RuleContext = {
      folder,
      objects: set.objects.filter((o) => o.folder === folder),
      kustomization: set.kustomizations.find((k) => k.folder === folder),
      files: set.filesByFolder.get(folder) ?? [],
      report: (args) => push(toFinding(args)),
    };
    for (const rule of RULES) rule(ctx);
  }
  const versionsChecked = schemaFindings(set, options, push);
  const kept = applyExemptions(findings, options, new Set([...folders].map((f) => path.basename(f))));
  kept.sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.rule.localeCompare(b.rule),
  );
  const result: Finding[] = kept.map((f) => {
    const copy: Record<string, unknown> = { ...f };
    delete copy.subject;
    delete copy.folder;
    return copy as unknown as Finding;
  });
  return { findings: result, objectsChecked: set.objects.length, versionsChecked };
}

export function validateDirectories(
  dirs: readonly string[],
  options: ValidationOptions = {},
): ValidationResult {
  for (const dir of dirs) if (!fs.existsSync(dir)) throw new Error(`no such directory: ${dir}`);
  return validateDocuments(readSourceFiles(dirs), options);
}
