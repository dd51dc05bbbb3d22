import * as fs from 'fs';
import * as path from 'path';
import { buildArtifacts, DIGEST_FILE } from './build';
import { inputsDigest } from './inputs';
import { ARTIFACTS_DIR } from './layout';
import { libraryVersion } from './repo-manifest';

/** The files a user of each language installs. */
export interface Artifacts {
  /** npm: `npm install <tarball>`. */
  readonly tarball: string;
  /** Python: `pip install <wheel>`. */
  readonly wheel: string;
  /** Python source distribution. */
  readonly sdist: string;
}

export function artifactPaths(): Artifacts {
  const version = libraryVersion();
  return {
    tarball: path.join(ARTIFACTS_DIR, 'js', `memostack@${version}.jsii.tgz`),
    wheel: path.join(ARTIFACTS_DIR, 'python', `memostack-${version}-py3-none-any.whl`),
    sdist: path.join(ARTIFACTS_DIR, 'python', `memostack-${version}.tar.gz`),
  };
}

function isFresh(): boolean {
  if (!fs.existsSync(DIGEST_FILE)) return false;
  if (fs.readFileSync(DIGEST_FILE, 'utf8').trim() !== inputsDigest()) return false;
  return Object.values(artifactPaths()).every((file) => fs.existsSync(file));
}

/**
 * The artifacts of the current sources: built when missing or built from other sources, so an
 * install test never tests a stale package and `npm test` needs no separate packaging step.
 */
export function freshArtifacts(): Artifacts & { readonly built: boolean } {
  const built = !isFresh();
  if (built) buildArtifacts();
  return { ...artifactPaths(), built };
}
