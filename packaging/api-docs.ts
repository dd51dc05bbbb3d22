import { spawnSync } from 'child_process';
import * as path from 'path';
import { ROOT } from './import-graph';
import { compileStagingPackage } from './build';
import { STAGING_DIR } from './layout';

/*
 * `npm run api-docs`: API.md, written by jsii-docgen from the assembly of the current sources,
 * so it lists exactly what the packages publish, with each doc comment and @default. CI
 * regenerates it and fails when the committed file differs.
 */
compileStagingPackage();
const docgen = spawnSync(
  path.join(ROOT, 'node_modules', '.bin', 'jsii-docgen'),
  // The root module only: the `k8s` namespace is the generated Kubernetes API (3 MB of it), whose
  // reference is Kubernetes' own.
  ['--output', path.join(ROOT, 'API.md'), '--submodule', 'root'],
  { cwd: STAGING_DIR, encoding: 'utf8', stdio: 'inherit' },
);
if (docgen.status !== 0) throw new Error(`jsii-docgen exited with ${docgen.status}`);
