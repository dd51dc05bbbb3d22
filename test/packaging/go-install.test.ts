import * as fs from 'fs';
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
 * What a Go user builds: examples/go, a module of its own, with the built memostack module
 * (`replace`, as no Go module host serves it yet) and jsii-runtime-go and constructs-go from the
 * Go module proxy. cdk8s and cdk8s-plus-27 are the Go bindings `npm run package` generates from
 * their npm packages' jsii assemblies, since the proxy refuses their published modules here
 * (packaging/build.ts). The kind profile's MemoStack, synthesized from Go through the jsii
 * runtime, must equal the TypeScript build byte for byte.
 */

const GO = process.env.GO ?? 'go';

function goMissing(): string | undefined {
  const probe = run(GO, ['version']);
  return probe.status === 0
    ? undefined
    : `the go command is needed (Go 1.25 or later): ${probe.output.trim()}`;
}

/** The `require` lines of examples/go/go.mod, by module path. */
function requiredVersions(project: string): Map<string, string> {
  const text = fs.readFileSync(path.join(project, 'go.mod'), 'utf8');
  return new Map([...text.matchAll(/^\s+(\S+) (v\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describeWhenAvailable('the Go module, built into a program of its own', goMissing(), () => {
  let artifacts: Artifacts;
  let project: string;
  let build: { status: number | null; output: string };

  beforeAll(() => {
    ({ artifacts, project } = exampleProject('go'));
    const replaces = [
      `github.com/memostack/memostack-go/memostack=${artifacts.goModule}`,
      ...Object.entries(artifacts.goDependencies).map(([module, dir]) => `${module}=${dir}`),
    ];
    expectSuccess(
      run(GO, ['mod', 'edit', ...replaces.map((r) => `-replace=${r}`)], { cwd: project }),
      'go mod edit',
    );
    const tidy = run(GO, ['mod', 'tidy'], { cwd: project });
    build = tidy.status === 0 ? run(GO, ['build', '-o', 'kindstack', '.'], { cwd: project }) : tidy;
    if (build.status === 0) build = run(GO, ['build', '-o', 'shop-chart', './shop'], { cwd: project });
  }, 600_000);

  afterAll(() => {
    if (project !== undefined) fs.rmSync(project, { recursive: true, force: true });
  });

  test('when the example requires cdk8s, then at the version the library is tested with on npm', () => {
    const required = requiredVersions(project);
    expect(required.get('github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2')).toBe(`v${versionOf('cdk8s')}`);
    expect(required.get('github.com/memostack/memostack-go/memostack')).toBe('v1.0.0');
  });

  test('when go builds the example against the built module, then it compiles', () => {
    expectSuccess(build, 'go mod tidy && go build');
  });

  test('when the kind profile is synthesized from Go, then every manifest equals the TypeScript build byte for byte', () => {
    expectSuccess(build, 'go build');
    const out = path.join(project, 'out');
    expectSuccess(run(path.join(project, 'kindstack'), [out], { cwd: project }), './kindstack');
    expectTheKindManifestsOfTheTypeScriptBuild(out);
  });

  test("when the README's chart of a user's own is written in Go, then it synthesizes the TypeScript chart's manifest byte for byte", () => {
    expectSuccess(build, 'go build');
    const out = path.join(project, 'shop-out');
    expectSuccess(run(path.join(project, 'shop-chart'), [out], { cwd: project }), './shop-chart');
    expectTheShopChartOfTheTypeScriptBuild(path.join(out, 'shop.k8s.yaml'));
  });
});
