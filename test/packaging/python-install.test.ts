import * as fs from 'fs';
import * as path from 'path';
import { Artifacts } from '../../packaging/artifacts';
import { libraryVersion, versionOf } from '../../packaging/repo-manifest';
import {
  describeWhenAvailable,
  EXAMPLES,
  exampleProject,
  expectSuccess,
  expectTheKindManifestsOfTheTypeScriptBuild,
  expectTheShopChartOfTheTypeScriptBuild,
  PEERS,
  run,
} from './support';

/*
 * What a Python user installs: the built wheel (not the sources) into a fresh venv, with
 * cdk8s, cdk8s-plus-27 and constructs from PyPI at the versions examples/python pins (those
 * the library is tested with on npm). The kind profile's MemoStack, synthesized from Python
 * through the jsii runtime, must equal the TypeScript build byte for byte.
 */

const PYTHON = process.env.PYTHON ?? 'python3';

function pythonMissing(): string | undefined {
  const probe = run(PYTHON, ['-c', 'import venv, ensurepip, sys; assert sys.version_info >= (3, 10)']);
  return probe.status === 0
    ? undefined
    : `${PYTHON} 3.10 or later with venv and ensurepip is needed (Debian: apt-get install python3-venv): ${probe.output.trim()}`;
}

/** examples/python/requirements.txt without memostack, which comes from the wheel. */
function pinnedRequirements(): Map<string, string> {
  const lines = fs
    .readFileSync(path.join(EXAMPLES, 'python', 'requirements.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('=='));
  return new Map(lines.map((line) => line.split('==') as [string, string]));
}

describeWhenAvailable('the Python wheel, installed in a venv of its own', pythonMissing(), () => {
  let artifacts: Artifacts;
  let project: string;
  let python: string;
  let install: { status: number | null; output: string };

  beforeAll(() => {
    ({ artifacts, project } = exampleProject('python'));
    expectSuccess(run(PYTHON, ['-m', 'venv', path.join(project, 'venv')]), 'python3 -m venv');
    python = path.join(project, 'venv', 'bin', 'python');
    const pins = [...pinnedRequirements()].filter(([name]) => name !== 'memostack');
    const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', artifacts.wheel];
    install = run(python, [...pip, ...pins.map(([name, version]) => `${name}==${version}`)], {
      cwd: project,
    });
  }, 600_000);

  afterAll(() => {
    if (project !== undefined) fs.rmSync(project, { recursive: true, force: true });
  });

  test('when the example pins its packages, then at the versions the library is tested with on npm', () => {
    const pins = pinnedRequirements();
    expect(pins.get('memostack')).toBe(libraryVersion());
    expect(PEERS.map((p) => pins.get(p))).toEqual(PEERS.map(versionOf));
  });

  test('when pip installs the wheel, then memostack imports from the venv', () => {
    expectSuccess(install, 'pip install');
    const where = run(python, ['-c', 'import memostack; print(memostack.__file__)']);
    expectSuccess(where, 'import memostack');
    expect(where.output).toContain(path.join(project, 'venv'));
  });

  test('when the kind profile is synthesized from Python, then every manifest equals the TypeScript build byte for byte', () => {
    const out = path.join(project, 'out');
    expectSuccess(run(python, ['kind_stack.py', out], { cwd: project }), 'python kind_stack.py');
    expectTheKindManifestsOfTheTypeScriptBuild(out);
  });

  test("when the README's chart of a user's own is written in Python, then it synthesizes the TypeScript chart's manifest byte for byte", () => {
    const out = path.join(project, 'shop-out');
    expectSuccess(run(python, ['shop.py', out], { cwd: project }), 'python shop.py');
    expectTheShopChartOfTheTypeScriptBuild(path.join(out, 'shop.k8s.yaml'));
  });
});
