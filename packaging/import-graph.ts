import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import * as ts from 'typescript';

/** The repository root. */
export const ROOT = path.join(__dirname, '..');
export const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function resolveRelative(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  const found = [base, `${base}.ts`, path.join(base, 'index.ts')].find(
    (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
  );
  if (found === undefined) throw new Error(`${from}: cannot resolve ${specifier}`);
  return found;
}

/** Every file of the repository the entry files reach through relative imports, with its bare imports. */
export function importGraph(entries: string[]): Map<string, string[]> {
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
