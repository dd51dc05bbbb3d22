import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './import-graph';
import { planJsiiProject } from './jsii-project';

/*
 * One digest of everything the artifacts are built from: the library's sources, the manifests
 * (versions of the library, its peers and the build tools), the README the packages carry and
 * the packaging code itself. Equal digests mean the artifacts on disk are those of this tree.
 */
export function inputsDigest(): string {
  const packaging = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(__dirname, f));
  const files = [
    ...planJsiiProject().sourceFiles,
    ...packaging,
    ...['package.json', 'package-lock.json', 'README.md'].map((f) => path.join(ROOT, f)),
  ];
  const hash = createHash('sha256');
  for (const file of [...new Set(files)].sort()) {
    hash.update(`${path.relative(ROOT, file)}\0`);
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}
