import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/*
 * http/ is the transport: problems, bodies, addresses, limits. It may import its own files and
 * the service's shared top-level modules (logger, metrics, db, redis), never a feature folder
 * (memos/, search/, events/, auth/ ...): a feature hands http/ what it needs (its error map,
 * its routes) through the composition root, app.ts.
 */

const SRC = path.join(__dirname, '..', '..', 'src');
const HTTP = path.join(SRC, 'http');

/** The app/src folders (other than http/) that the relative imports of `source`, a file of http/, reach. */
function featureImports(source: string, file: string): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.relative(SRC, path.resolve(path.dirname(file), specifier)))
    .filter((target) => target.includes(path.sep) && target.split(path.sep)[0] !== 'http');
}

describe('the import graph of app/src/http', () => {
  test('when an http/ file imports a feature, then the check names it', () => {
    const source = [
      "import type { Logger } from '../logger';",
      "import { HttpProblem } from './errors';",
      "import { MemoError } from '../memos/errors';",
      "export { planDriver } from '../search/planner';",
    ].join('\n');
    expect(featureImports(source, path.join(HTTP, 'middleware.ts'))).toEqual([
      path.join('memos', 'errors'),
      path.join('search', 'planner'),
    ]);
  });

  test('when the http/ files are read, then none imports from memos/, search/ or any other feature folder', () => {
    const files = fs.readdirSync(HTTP).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('middleware.ts');
    const found = files.flatMap((f) => {
      const file = path.join(HTTP, f);
      return featureImports(fs.readFileSync(file, 'utf8'), file).map((target) => `http/${f} -> ${target}`);
    });
    expect(found).toEqual([]);
  });
});
