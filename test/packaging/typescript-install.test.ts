import * as fs from 'fs';
import * as path from 'path';
import { Artifacts } from '../../packaging/artifacts';
import { versionOf } from '../../packaging/repo-manifest';
import {
  EXAMPLES,
  exampleProject,
  expectSuccess,
  expectTheKindManifestsOfTheTypeScriptBuild,
  expectTheShopChartOfTheTypeScriptBuild,
  PEERS,
  run,
} from './support';

/*
 * What a TypeScript user installs: the packed tarball (not the sources) plus cdk8s, cdk8s-plus-27
 * and constructs from the npm registry, in a project outside the repository. The example
 * compiles with strict against the tarball's .d.ts, a wrong prop does not, and the kind
 * profile's MemoStack synthesizes to the same bytes as the TypeScript build.
 */

describe('the npm package, installed in a project of its own', () => {
  let artifacts: Artifacts;
  let project: string;
  let install: { status: number | null; output: string };

  beforeAll(() => {
    ({ artifacts, project } = exampleProject('typescript'));
    const manifest = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    manifest.dependencies.memostack = `file:${artifacts.tarball}`;
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify(manifest, null, 2));
    install = run('npm', ['install', '--no-audit', '--no-fund'], { cwd: project });
  }, 600_000);

  afterAll(() => {
    if (project !== undefined) fs.rmSync(project, { recursive: true, force: true });
  });

  test('when the example pins cdk8s, cdk8s-plus-27 and constructs, then at the versions the library is tested with', () => {
    const example = JSON.parse(
      fs.readFileSync(path.join(EXAMPLES, 'typescript', 'package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>;
    };
    expect(PEERS.map((p) => example.dependencies[p])).toEqual(PEERS.map(versionOf));
  });

  test('when npm installs the tarball, then memostack comes from it with yaml bundled', () => {
    expectSuccess(install, 'npm install');
    const installed = path.join(project, 'node_modules', 'memostack');
    expect(fs.existsSync(path.join(installed, 'lib', 'charts', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'node_modules', 'yaml', 'package.json'))).toBe(true);
    // Users get the compiled library, not its TypeScript sources.
    expect(fs.existsSync(path.join(installed, 'charts'))).toBe(false);
  });

  test('when the example chart is compiled with strict and synthesized, then it builds the 44 objects of the README', () => {
    expectSuccess(run('npx', ['tsc', '-p', '.'], { cwd: project }), 'tsc');
    expectSuccess(run('node', ['lib/shop.js'], { cwd: project }), 'node lib/shop.js');
    const yaml = fs.readFileSync(path.join(project, 'dist', 'shop.k8s.yaml'), 'utf8');
    expect(yaml.split(/^---$/m).filter((doc) => doc.trim() !== '')).toHaveLength(44);
    expectTheShopChartOfTheTypeScriptBuild(path.join(project, 'dist', 'shop.k8s.yaml'));
  });

  test('when a prop has the wrong type, then tsc refuses the file against the package .d.ts', () => {
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'wrong-prop.ts'), path.join(project, 'wrong-prop.ts'));
    const compiled = run('npx', ['tsc', '-p', '.', '--noEmit'], { cwd: project });
    fs.rmSync(path.join(project, 'wrong-prop.ts'));
    expect(compiled.status).not.toBe(0);
    // Exactly one error, at `replicas` (line 6, column 57): the rest of the file is valid.
    expect(compiled.output.split('\n').filter((line) => line.includes('error TS'))).toEqual([
      "wrong-prop.ts(6,57): error TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
  });

  test('when the kind profile is synthesized from the package, then every manifest equals the TypeScript build byte for byte', () => {
    const out = path.join(project, 'out');
    expectSuccess(run('node', ['lib/kind-stack.js', out], { cwd: project }), 'node lib/kind-stack.js');
    expectTheKindManifestsOfTheTypeScriptBuild(out);
  });
});
