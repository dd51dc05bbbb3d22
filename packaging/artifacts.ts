import * as fs from 'fs';
import * as path from 'path';
import { buildArtifacts, DIGEST_FILE } from './build';
import { inputsDigest } from './inputs';
import { JAVA_LAYOUT } from './java';
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
  /** Go: the memostack module, for a `replace` directive (no Go module host serves it yet). */
  readonly goModule: string;
  /** Go: the cdk8s and cdk8s-plus-27 modules generated beside it, by Go module path. */
  readonly goDependencies: Record<string, string>;
  /** Maven: the jar, in a file repository that `mavenSettings` names (with the generated cdk8s bindings). */
  readonly jar: string;
  readonly mavenSettings: string;
}

export function artifactPaths(): Artifacts {
  const version = libraryVersion();
  return {
    tarball: path.join(ARTIFACTS_DIR, 'js', `memostack@${version}.jsii.tgz`),
    wheel: path.join(ARTIFACTS_DIR, 'python', `memostack-${version}-py3-none-any.whl`),
    sdist: path.join(ARTIFACTS_DIR, 'python', `memostack-${version}.tar.gz`),
    goModule: path.join(ARTIFACTS_DIR, 'go', 'memostack'),
    goDependencies: {
      'github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2': path.join(ARTIFACTS_DIR, 'go', 'cdk8s'),
      'github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2': path.join(ARTIFACTS_DIR, 'go', 'cdk8splus27'),
    },
    jar: path.join(
      JAVA_LAYOUT.repository,
      'io',
      'memostack',
      'memostack',
      version,
      `memostack-${version}.jar`,
    ),
    mavenSettings: JAVA_LAYOUT.settings,
  };
}

function isFresh(): boolean {
  if (!fs.existsSync(DIGEST_FILE)) return false;
  if (fs.readFileSync(DIGEST_FILE, 'utf8').trim() !== inputsDigest()) return false;
  const { goDependencies, ...files } = artifactPaths();
  return [...Object.values(files), ...Object.values(goDependencies)].every((file) => fs.existsSync(file));
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
