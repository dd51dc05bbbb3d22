import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { importGraph, NODE_BUILTINS, ROOT } from './import-graph';
import { publishedManifest, PACKAGE_FILES_IGNORED } from './manifest';
import { versionOf } from './repo-manifest';

/*
 * The construct library as the jsii compiler sees it: a package of charts/ and imports/, plus
 * the files of app/ the library reaches (the service's environment contract), with the jsii
 * libraries it imports as peer dependencies and any other package bundled. Built from the
 * current sources, so neither the jsii test nor `npm run package` ever lags behind them.
 */

/** What went into the scratch package, for the report and for the next step (packaging). */
export interface JsiiProject {
  readonly dir: string;
  /** Files outside charts/ and imports/ the library reaches, relative to the repository root. */
  readonly reachedFiles: string[];
  /** jsii libraries imported by the library: peer dependencies of the package. */
  readonly peerDependencies: Record<string, string>;
  /** Other packages imported by the library, which a jsii package must bundle. */
  readonly bundledDependencies: Record<string, string>;
}

/** The part of a jsii assembly's type the tests read. */
export interface AssemblyType {
  readonly kind: string;
  /** A struct (data only), as opposed to a behaviour interface. */
  readonly datatype?: boolean;
  readonly properties?: ReadonlyArray<{
    readonly name: string;
    readonly optional?: boolean;
    readonly docs?: { readonly default?: string };
  }>;
}

export interface JsiiResult {
  readonly status: number | null;
  /** Every diagnostic of category error, one line each, without colours. */
  readonly errors: string[];
  readonly output: string;
  /** The assembly, when jsii wrote one. */
  readonly assembly?: { readonly types: Record<string, AssemblyType> };
}

const COPIED_FOLDERS = ['charts', 'imports'];

function filesUnder(folder: string): string[] {
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(folder, f))
    .filter((f) => f.endsWith('.ts') && fs.statSync(f).isFile());
}

/** `@scope/name/sub` and `name/sub` to the package name. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** What the package is made of, read from the current sources. */
export interface JsiiProjectPlan extends Omit<JsiiProject, 'dir'> {
  /** Every source file that goes into the package, absolute, sorted. */
  readonly sourceFiles: string[];
}

export function planJsiiProject(): JsiiProjectPlan {
  const entries = COPIED_FOLDERS.flatMap((folder) => filesUnder(path.join(ROOT, folder)));
  const graph = importGraph(entries);
  const inCopiedFolder = (file: string) =>
    COPIED_FOLDERS.some((folder) => file.startsWith(path.join(ROOT, folder) + path.sep));
  // labels.ts reads the version from ../package.json: the scratch package's own stands in.
  const reached = [...graph.keys()]
    .filter((f) => !inCopiedFolder(f) && f !== path.join(ROOT, 'package.json'))
    .map((f) => path.relative(ROOT, f))
    .sort();
  const packages = [
    ...new Set(
      [...graph.values()]
        .flat()
        .filter((m) => !NODE_BUILTINS.has(m))
        .map(packageOf),
    ),
  ].sort();
  const isJsii = (name: string) => fs.existsSync(path.join(ROOT, 'node_modules', name, '.jsii'));
  const peerDependencies = Object.fromEntries(packages.filter(isJsii).map((p) => [p, versionOf(p)]));
  const bundledDependencies = Object.fromEntries(
    packages.filter((p) => !isJsii(p)).map((p) => [p, versionOf(p)]),
  );
  return {
    sourceFiles: [...entries, ...reached.map((f) => path.join(ROOT, f))].sort(),
    reachedFiles: reached,
    peerDependencies,
    bundledDependencies,
  };
}

/** Writes the scratch package into `dir` (empty or absent). */
export function buildJsiiProject(dir: string): JsiiProject {
  const { reachedFiles: reached, peerDependencies, bundledDependencies } = planJsiiProject();
  fs.mkdirSync(dir, { recursive: true });
  for (const folder of COPIED_FOLDERS) {
    fs.cpSync(path.join(ROOT, folder), path.join(dir, folder), { recursive: true });
  }
  for (const file of reached) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const manifest = publishedManifest(peerDependencies, bundledDependencies);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, '.npmignore'), PACKAGE_FILES_IGNORED.join('\n') + '\n');
  fs.copyFileSync(path.join(ROOT, 'README.md'), path.join(dir, 'README.md'));
  return { dir, reachedFiles: reached, peerDependencies, bundledDependencies };
}

/** Runs the jsii compiler of node_modules on the package in `dir`. */
export function runJsii(dir: string): JsiiResult {
  const run = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'jsii'),
    // Python and Go keywords as member names (`for`, `type`) are renamed by the code generators.
    ['--silence-warnings=reserved-word'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } },
  );
  const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const errors = output.split('\n').filter((line) => / - error (JSII|TS)\d+: /.test(line));
  const assemblyFile = path.join(dir, '.jsii');
  const assembly = fs.existsSync(assemblyFile)
    ? (JSON.parse(fs.readFileSync(assemblyFile, 'utf8')) as JsiiResult['assembly'])
    : undefined;
  return { status: run.status, errors, output, assembly };
}

if (require.main === module) {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: jsii-project.ts <empty scratch folder>');
  const project = buildJsiiProject(dir);
  console.log(JSON.stringify({ ...project, dir: undefined }, null, 2));
  const result = runJsii(dir);
  console.log(result.errors.join('\n'));
  console.log(`status ${result.status}, ${result.errors.length} errors`);
}
