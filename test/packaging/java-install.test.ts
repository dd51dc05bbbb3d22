import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Artifacts } from '../../packaging/artifacts';
import { versionOf } from '../../packaging/repo-manifest';
import {
  describeWhenAvailable,
  exampleProject,
  expectSuccess,
  expectTheKindManifestsOfTheTypeScriptBuild,
  expectTheShopChartOfTheTypeScriptBuild,
  run,
} from './support';

/*
 * What a Java user builds: examples/java, a Maven project of its own, resolving
 * io.memostack:memostack from the file repository `npm run package` deploys it to (the
 * settings name it, as a user's would name a company repository) and everything else the usual
 * way. org.cdk8s:cdk8s and cdk8s-plus-27 are the bindings packaging generates from their npm
 * packages, since the Maven repository this build reaches does not serve the tested versions
 * (packaging/java.ts). The kind profile's MemoStack, synthesized from Java through the jsii
 * runtime, must equal the TypeScript build byte for byte.
 */

/**
 * The test's own Maven local repository, kept between runs for the plugins and jsii-runtime.
 * Maven never downloads a release it has cached again, so the artifacts under test (rebuilt
 * with the same version whenever the sources change) are removed from it before each run.
 */
const LOCAL_REPOSITORY = path.join(os.homedir(), '.cache', 'memostack', 'maven-user-repository');
const BUILT_HERE = [
  ['io', 'memostack', 'memostack'],
  ['org', 'cdk8s', 'cdk8s'],
  ['org', 'cdk8s', 'cdk8s-plus-27'],
];

function javaMissing(): string | undefined {
  const java = run('java', ['-version']);
  const mvn = run('mvn', ['-v']);
  if (java.status !== 0) return `java 17 or later is needed: ${java.output.trim()}`;
  if (mvn.status !== 0) return `Maven (mvn) is needed: ${mvn.output.trim()}`;
  return undefined;
}

describeWhenAvailable('the Maven artifact, used by a Java program of its own', javaMissing(), () => {
  let artifacts: Artifacts;
  let project: string;
  let build: { status: number | null; output: string };

  beforeAll(() => {
    ({ artifacts, project } = exampleProject('java'));
    for (const parts of BUILT_HERE)
      fs.rmSync(path.join(LOCAL_REPOSITORY, ...parts), { recursive: true, force: true });
    build = run(
      'mvn',
      [
        '-B',
        '-q',
        '-s',
        artifacts.mavenSettings,
        `-Dmaven.repo.local=${LOCAL_REPOSITORY}`,
        'compile',
        'dependency:build-classpath',
        '-Dmdep.outputFile=cp.txt',
      ],
      { cwd: project },
    );
  }, 600_000);

  afterAll(() => {
    if (project !== undefined) fs.rmSync(project, { recursive: true, force: true });
  });

  test('when the example depends on cdk8s, then at the version the library is tested with on npm', () => {
    const pom = fs.readFileSync(path.join(project, 'pom.xml'), 'utf8');
    expect(pom).toMatch(
      new RegExp(`<artifactId>cdk8s</artifactId>\\s*<version>${versionOf('cdk8s')}</version>`),
    );
  });

  test('when the artifact is deployed, then it has its jar, sources, javadoc and pom', () => {
    const dir = path.dirname(artifacts.jar);
    const base = path.basename(artifacts.jar, '.jar');
    for (const suffix of ['.jar', '-sources.jar', '-javadoc.jar', '.pom']) {
      expect(fs.existsSync(path.join(dir, `${base}${suffix}`))).toBe(true);
    }
  });

  test('when Maven compiles the example against the artifact, then it compiles', () => {
    expectSuccess(build, 'mvn compile');
  });

  /** The example's classes and its dependencies, as Maven resolved them. */
  function classpath(): string {
    const dependencies = fs.readFileSync(path.join(project, 'cp.txt'), 'utf8').trim();
    // The artifact under test, not a copy from anywhere else.
    expect(dependencies).toContain(path.join(LOCAL_REPOSITORY, 'io', 'memostack', 'memostack', '1.0.0'));
    return `${path.join(project, 'target', 'classes')}:${dependencies}`;
  }

  test('when the kind profile is synthesized from Java, then every manifest equals the TypeScript build byte for byte', () => {
    expectSuccess(build, 'mvn compile');
    const out = path.join(project, 'out');
    expectSuccess(
      run('java', ['-cp', classpath(), 'com.example.KindStack', out], { cwd: project }),
      'java KindStack',
    );
    expectTheKindManifestsOfTheTypeScriptBuild(out);
  });

  test("when the README's chart of a user's own is written in Java, then it synthesizes the TypeScript chart's manifest byte for byte", () => {
    expectSuccess(build, 'mvn compile');
    const out = path.join(project, 'shop-out');
    expectSuccess(run('java', ['-cp', classpath(), 'com.example.Shop', out], { cwd: project }), 'java Shop');
    expectTheShopChartOfTheTypeScriptBuild(path.join(out, 'shop.k8s.yaml'));
  });
});
