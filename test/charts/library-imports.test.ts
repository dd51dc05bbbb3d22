import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import * as ts from 'typescript';

/*
 * The construct library validates against the service's own environment contract
 * (app/src/config/contract.ts), so it imports from app/. It must reach nothing there that loads
 * the service's runtime (Koa, knex, ioredis, kafkajs...): a cdk8s app has none of those installed.
 */

const ROOT = path.join(__dirname, '..', '..');
const APP = path.join(ROOT, 'app') + path.sep;
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function resolveRelative(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  const found = [base, `${base}.ts`, path.join(base, 'index.ts')].find(
    (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
  );
  if (found === undefined) throw new Error(`${from}: cannot resolve ${specifier}`);
  return found;
}

/** Every file of the repository the entry files reach through relative imports, with its bare imports. */
function importGraph(entries: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [...entries];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (graph.has(file)) continue;
    // Data (package.json) imports nothing.
    if (!file.endsWith('.ts')) {
      graph.set(file, []);
      continue;
    }
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const bare: string[] = [];
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) pending.push(resolveRelative(file, fileName));
      else bare.push(fileName);
    }
    graph.set(file, bare);
  }
  return graph;
}

describe('the construct library', () => {
  test('when it imports from the service, then it reaches only files that need nothing but Node built-ins', () => {
    const graph = importGraph([path.join(ROOT, 'charts', 'index.ts'), path.join(ROOT, 'main.ts')]);
    const appFiles = [...graph.keys()].filter((f) => f.startsWith(APP));
    expect(appFiles.map((f) => path.relative(ROOT, f))).toContain(
      path.join('app', 'src', 'config', 'contract.ts'),
    );
    const runtime = appFiles.flatMap((f) =>
      (graph.get(f) ?? []).filter((m) => !NODE_BUILTINS.has(m)).map((m) => `${path.relative(ROOT, f)}: ${m}`),
    );
    expect(runtime).toEqual([]);
  });
});

describe('the manifest validator', () => {
  test('when it reads the Kubernetes syntax rules from charts/common, then it reaches neither cdk8s nor the generated types', () => {
    const graph = importGraph([
      path.join(ROOT, 'validation', 'cli.ts'),
      path.join(ROOT, 'validation', 'index.ts'),
    ]);
    const files = [...graph.keys()].map((f) => path.relative(ROOT, f));
    expect(files).toContain(path.join('charts', 'common', 'k8s-syntax.ts'));
    expect(files.filter((f) => f.startsWith('imports'))).toEqual([]);
    const bare = [...graph.values()].flat();
    expect(bare.filter((m) => ['cdk8s', 'constructs', 'cdk8s-plus-27'].includes(m))).toEqual([]);
  });
});
