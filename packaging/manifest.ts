import { libraryVersion, versionOf } from './repo-manifest';

/*
 * The package.json of the published library: what npm, PyPI, Maven and Go users install. The
 * repository's own package.json stays private (it is the workspace of the library, the service
 * and their tests); its version is the library's, so both carry one number.
 */

/** The jsii targets: each language's package name, as a user of that language expects it. */
export const JSII_TARGETS = {
  python: { distName: 'memostack', module: 'memostack' },
  java: { package: 'io.memostack', maven: { groupId: 'io.memostack', artifactId: 'memostack' } },
  go: { moduleName: 'github.com/memostack/memostack-go', packageName: 'memostack' },
};

/** Sources and build files left out of the tarball: users get lib/ (JavaScript, .d.ts) and .jsii. */
export const PACKAGE_FILES_IGNORED = ['*.ts', '!*.d.ts', 'tsconfig.json', '*.tsbuildinfo', 'dist/'];

/**
 * `peerDependencies` are the jsii libraries the constructs take and return (cdk8s, constructs,
 * cdk8s-plus-27): the user's app holds the one copy of each, from the tested version up to the
 * next major. Anything else (yaml) is bundled, as jsii requires.
 */
export function publishedManifest(
  peerDependencies: Record<string, string>,
  bundledDependencies: Record<string, string>,
): Record<string, unknown> {
  return {
    name: 'memostack',
    version: libraryVersion(),
    description: 'cdk8s constructs of the memo service, its backing services and its monitoring',
    license: 'Apache-2.0',
    author: { name: 'memostack', organization: true },
    repository: { type: 'git', url: 'https://example.com/memostack.git' },
    keywords: ['cdk8s', 'kubernetes', 'constructs', 'mariadb', 'redis', 'kafka', 'prometheus'],
    main: 'lib/charts/index.js',
    types: 'lib/charts/index.d.ts',
    dependencies: bundledDependencies,
    bundledDependencies: Object.keys(bundledDependencies),
    peerDependencies: Object.fromEntries(
      Object.entries(peerDependencies).map(([name, version]) => [name, `^${version}`]),
    ),
    devDependencies: {
      ...peerDependencies,
      '@types/node': versionOf('@types/node'),
      jsii: versionOf('jsii'),
    },
    jsii: {
      outdir: 'dist',
      targets: JSII_TARGETS,
      tsc: { outDir: 'lib', rootDir: '.' },
      excludeTypescript: [],
    },
  };
}
