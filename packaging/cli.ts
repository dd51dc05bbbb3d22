import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './import-graph';
import { artifactPaths } from './artifacts';
import { buildArtifacts } from './build';

/** Bytes of a file, or of every file under a folder (a Go module). */
function sizeOf(target: string): number {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(target).reduce((sum, entry) => sum + sizeOf(path.join(target, entry)), 0);
}

/** `npm run package`: always a clean build, then one line per artifact with its size. */
const started = Date.now();
buildArtifacts();
const { goDependencies, ...artifacts } = artifactPaths();
for (const target of [...Object.values(artifacts), ...Object.values(goDependencies)]) {
  console.log(`${path.relative(ROOT, target)}  ${(sizeOf(target) / 1024).toFixed(0)} KiB`);
}
console.log(`packaged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
