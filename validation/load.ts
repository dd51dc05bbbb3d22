import * as fs from 'fs';
import * as path from 'path';
import { LineCounter, isAlias, isNode, isScalar, parseAllDocuments, visit, type Document } from 'yaml';
import { arr, rec, str, type Json } from './json';
import type { Finding, K8sObject, Kustomization, SourceFile } from './types';

export const CONSTRUCT_PATH_ANNOTATION = 'memostack.dev/construct-path';

const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

export interface LoadedSet {
  readonly objects: K8sObject[];
  readonly kustomizations: Kustomization[];
  /** Every YAML file seen, by folder, so kustomization.yaml can be checked against them. */
  readonly filesByFolder: Map<string, string[]>;
  readonly findings: Finding[];
}

/** Reads every *.yaml / *.yml under the folders (recursively), in a stable order. */
export function readSourceFiles(dirs: readonly string[]): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) out.push({ file: full, text: fs.readFileSync(full, 'utf8') });
    }
  };
  for (const dir of dirs) walk(dir);
  return out;
}

function hygiene(file: string, lc: LineCounter, doc: Document, push: (f: Finding) => void): void {
  const at = (offset: number | undefined, message: string): void => {
    const pos = lc.linePos(offset ?? 0);
    push({
      rule: 'YAML-HYGIENE',
      severity: 'error',
      file,
      line: pos.line,
      col: pos.col,
      object: '',
      path: '',
      message,
    });
  };
  for (const err of doc.errors) {
    const message =
      err.code === 'DUPLICATE_KEY'
        ? `Duplicate value: ${err.message.split('\n')[0]}`
        : err.message.split('\n')[0];
    at(err.pos[0], message);
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    at(doc.range?.[0], 'Invalid value: empty document (a stray "---" or a blank file)');
    return;
  }
  // Aliases and custom tags are resolved differently (or not at all) by kubectl, kustomize and GitOps tools.
  visit(doc, (_key, node) => {
    if (isAlias(node))
      at(
        node.range?.[0],
        `Forbidden: YAML alias *${node.source} (expand it; not every tool resolves aliases)`,
      );
    else if (isNode(node)) {
      if (node.anchor) at(node.range?.[0], `Forbidden: YAML anchor &${node.anchor}`);
      if (node.tag && !node.tag.startsWith('tag:yaml.org,2002:'))
        at(node.range?.[0], `Forbidden: custom YAML tag ${node.tag}`);
    }
  });
}

function isKubernetesObject(value: unknown): value is Json {
  const r = rec(value);
  return r !== undefined && typeof r.apiVersion === 'string' && typeof r.kind === 'string';
}

/** Reads the keys a generator will produce; undefined when they cannot be known offline. */
function generatorKeys(
  folder: string,
  gen: Json,
  sources: Map<string, string>,
): ReadonlySet<string> | undefined {
  const keys = new Set<string>();
  for (const lit of arr(gen.literals)) {
    const s = str(lit);
    if (s) keys.add(s.split('=')[0]);
  }
  for (const f of arr(gen.files)) {
    const s = str(f);
    if (s) keys.add(s.includes('=') ? s.split('=')[0] : path.basename(s));
  }
  for (const e of arr(gen.envs).concat(gen.env === undefined ? [] : [gen.env])) {
    const s = str(e);
    if (!s) continue;
    // The env file itself is usually git-ignored; a committed `<file>.example` documents its keys.
    const candidates = [path.join(folder, s), path.join(folder, `${s}.example`)];
    const text =
      candidates.map((c) => sources.get(c)).find((t) => t !== undefined) ??
      candidates.filter((c) => fs.existsSync(c)).map((c) => fs.readFileSync(c, 'utf8'))[0];
    if (text === undefined) return undefined;
    for (const line of text.split('\n')) {
      const m = /^\s*([^#=\s][^=]*)=/.exec(line);
      if (m) keys.add(m[1].trim());
    }
  }
  return keys;
}

function generated(folder: string, list: unknown, sources: Map<string, string>) {
  const out = new Map<string, ReadonlySet<string> | undefined>();
  for (const g of arr(list)) {
    const gen = rec(g);
    const name = str(gen?.name);
    if (gen && name) out.set(name, generatorKeys(folder, gen, sources));
  }
  return out;
}

export function loadSources(sources: readonly SourceFile[]): LoadedSet {
  const set: LoadedSet = { objects: [], kustomizations: [], filesByFolder: new Map(), findings: [] };
  const byName = new Map(sources.map((s) => [s.file, s.text]));
  for (const source of sources) {
    const folder = path.dirname(source.file);
    const lc = new LineCounter();
    const docs = parseAllDocuments(source.text, { uniqueKeys: true, lineCounter: lc, prettyErrors: false });
    const documents = Array.isArray(docs) ? docs : [];
    const values = documents.map((d) =>
      d.errors.length === 0 ? (d.toJS({ maxAliasCount: 100 }) as unknown) : undefined,
    );
    const isKustomization =
      KUSTOMIZATION_FILES.has(path.basename(source.file)) ||
      values.some((v) => str(rec(v)?.apiVersion)?.startsWith('kustomize.config.k8s.io'));
    const looksKubernetes = values.some(isKubernetesObject) || documents.some((d) => d.errors.length > 0);
    // Files that are not Kubernetes objects (values files, CI configs) are none of our business.
    if (!isKustomization && !looksKubernetes && source.text.trim() !== '') continue;
    if (documents.length === 0)
      set.findings.push({
        rule: 'YAML-HYGIENE',
        severity: 'error',
        file: source.file,
        line: 1,
        col: 1,
        object: '',
        path: '',
        message: 'Invalid value: empty file',
      });
    const files = set.filesByFolder.get(folder) ?? [];
    files.push(source.file);
    set.filesByFolder.set(folder, files);
    documents.forEach((doc, i) => {
      hygiene(source.file, lc, doc, (f) => set.findings.push(f));
      const value = values[i];
      if (isKustomization) {
        const raw = rec(value) ?? {};
        set.kustomizations.push({
          file: source.file,
          folder,
          doc,
          lineCounter: lc,
          raw,
          generatedSecrets: generated(folder, raw.secretGenerator, byName),
          generatedConfigMaps: generated(folder, raw.configMapGenerator, byName),
        });
        return;
      }
      if (!isKubernetesObject(value)) return;
      const metadata = rec(value.metadata) ?? {};
      set.objects.push({
        file: source.file,
        folder,
        docIndex: i,
        source: source.text,
        doc,
        lineCounter: lc,
        apiVersion: value.apiVersion as string,
        kind: value.kind as string,
        name: str(metadata.name) ?? str(metadata.generateName) ?? '',
        namespace: str(metadata.namespace) ?? '',
        constructPath: str(rec(metadata.annotations)?.[CONSTRUCT_PATH_ANNOTATION]),
        raw: value,
      });
    });
  }
  return set;
}
