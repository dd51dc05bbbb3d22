import { spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import { buildShop } from '../../examples/typescript/shop-chart';
import { buildProfile } from '../../main';
import { KIND } from '../../charts/profiles';
import { Artifacts, freshArtifacts } from '../../packaging/artifacts';

/** CI (or REQUIRE_SERVICES=1) turns a missing tool into a failure instead of a skip. */
export const STRICT = process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

export const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

/**
 * A describe block whose tests need a tool of the machine (`missing` names it, or is undefined
 * when everything is there). Under CI a missing tool is a failing test; elsewhere the block is
 * skipped with a warning.
 */
export function describeWhenAvailable(title: string, missing: string | undefined, body: () => void): void {
  if (missing === undefined) {
    describe(title, body);
  } else if (STRICT) {
    describe(title, () => {
      it('when the install test runs in CI, then the tools it needs are installed', () => {
        throw new Error(missing);
      });
    });
  } else {
    console.warn(`SKIPPED "${title}": ${missing}`);
    describe.skip(title, body);
  }
}

/** The jsii libraries a user installs beside memostack, at the versions it is tested with. */
export const PEERS = ['cdk8s', 'cdk8s-plus-27', 'constructs'];

/**
 * A copy of examples/<language> in a scratch folder outside the repository, as a user's project
 * would be, and the artifacts of the current sources to install into it (built when stale).
 * Each test file removes its folder with `fs.rmSync` in afterAll.
 */
export function exampleProject(language: 'typescript' | 'python' | 'go' | 'java'): {
  artifacts: Artifacts;
  project: string;
} {
  const artifacts = freshArtifacts();
  const project = fs.mkdtempSync(path.join(os.tmpdir(), `memostack-${language}-`));
  fs.cpSync(path.join(EXAMPLES, language), project, { recursive: true });
  return { artifacts, project };
}

export interface RunResult {
  readonly status: number | null;
  readonly output: string;
}

/** Runs a command; `expectSuccess` throws with its output when it fails. */
export function run(command: string, args: string[], options: SpawnSyncOptions = {}): RunResult {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`;
  return { status: result.status, output };
}

export function expectSuccess(result: RunResult, what: string): void {
  if (result.status !== 0) throw new Error(`${what} exited with ${result.status}:\n${result.output}`);
}

/** File name to text of every manifest a synth wrote into `dir`. */
function readManifests(dir: string): Map<string, string> {
  return new Map(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.k8s.yaml'))
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]),
  );
}

/**
 * `dir` holds, file for file and byte for byte, what the TypeScript build writes to dist/kind:
 * main.ts's own buildProfile, the function `npm run synth` calls, held in memory (dist/ may lag
 * behind an uncommitted change). A failure lists the files that differ or are missing.
 */
export function expectTheKindManifestsOfTheTypeScriptBuild(dir: string): void {
  const expected = buildProfile(KIND).manifests;
  const actual = readManifests(dir);
  const names = [...new Set([...actual.keys(), ...expected.keys()])].sort();
  expect(actual.size).toBe(expected.size);
  expect(names.filter((name) => actual.get(name) !== expected.get(name))).toEqual([]);
}

/**
 * `file` is, byte for byte, the manifest of the README's chart of a user's own
 * (examples/typescript/shop-chart.ts) as the TypeScript build synthesizes it from the sources.
 */
export function expectTheShopChartOfTheTypeScriptBuild(file: string): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'memostack-shop-'));
  try {
    const app = new App({ outdir });
    buildShop(app);
    app.synth();
    const expected = fs.readFileSync(path.join(outdir, 'shop.k8s.yaml'), 'utf8');
    expect(expected.split(/^---$/m).filter((doc) => doc.trim() !== '')).toHaveLength(44);
    expect(fs.readFileSync(file, 'utf8') === expected).toBe(true);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
