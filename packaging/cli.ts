import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './import-graph';
import { artifactPaths } from './artifacts';
import { buildArtifacts } from './build';

/** `npm run package`: always a clean build, then one line per artifact with its size. */
const started = Date.now();
buildArtifacts();
for (const file of Object.values(artifactPaths())) {
  const kib = fs.statSync(file).size / 1024;
  console.log(`${path.relative(ROOT, file)}  ${kib.toFixed(0)} KiB`);
}
console.log(`packaged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
