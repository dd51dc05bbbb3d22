import * as path from 'path';
import { ROOT } from './import-graph';

/*
 * Where packaging writes. Both folders are git-ignored: the staging package is rebuilt from the
 * sources on every `npm run package`, and the artifacts are what a release would upload. Not
 * dist/, which holds the synthesized manifests.
 */

/** The jsii package as it is compiled and published (package.json, lib/, .jsii). */
export const STAGING_DIR = path.join(ROOT, '.package', 'memostack');
/** jsii-pacmak's output: js/ (the npm tarball), python/ (wheel and sdist), go/ (the Go modules), java/ (a Maven file repository; see java.ts). */
export const ARTIFACTS_DIR = path.join(ROOT, 'artifacts');
