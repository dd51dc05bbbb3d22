import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../../packaging/import-graph';
import { buildJsiiProject, JsiiProject, JsiiResult, runJsii } from '../../packaging/jsii-project';

/*
 * The public API compiles with jsii, the compiler that publishes cdk8s construct libraries to
 * Python, Java and Go: no unions or intersections, no anonymous object types, structs that hold
 * data only, behaviour interfaces named I... The real compiler decides, on a package built from
 * the current sources (test/charts/jsii-project.ts).
 */

describe('the construct library, compiled by jsii', () => {
  let scratch: string;
  let project: JsiiProject;
  let result: JsiiResult;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'memostack-jsii-'));
    project = buildJsiiProject(path.join(scratch, 'memostack'));
    result = runJsii(project.dir);
  }, 120_000);

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('when jsii compiles the package, then it reports no error', () => {
    expect(result.errors).toEqual([]);
    // An error jsii words differently from "file:line:col - error CODE:" still fails here.
    if (result.status !== 0) throw new Error(`jsii exited with ${result.status}:\n${result.output}`);
  });

  test('when the package is built, then it holds the environment contract and bundles what is not a jsii library', () => {
    expect(project.reachedFiles).toContain(path.join('app', 'src', 'config', 'contract.ts'));
    expect(Object.keys(project.peerDependencies)).toEqual(['cdk8s', 'cdk8s-plus-27', 'constructs']);
    expect(Object.keys(project.bundledDependencies)).toEqual(['yaml']);
  });

  test('when the assembly is read, then the fixed choices are enums and the endpoints behaviour interfaces', () => {
    const kinds = Object.fromEntries(
      Object.entries(result.assembly?.types ?? {}).map(([fqn, type]) => [
        fqn.replace(/^memostack\./, ''),
        type.kind,
      ]),
    );
    expect(kinds).toMatchObject({
      LogLevel: 'enum',
      EvictionPolicy: 'enum',
      Protocol: 'enum',
      AlertSeverity: 'enum',
      SecretSource: 'enum',
      IDatabaseEndpoint: 'interface',
      ICacheEndpoint: 'interface',
      IEventsEndpoint: 'interface',
      INetworkPeer: 'interface',
      NetworkPeer: 'class',
      ProfileApiSettings: 'interface',
      // jsii publishes no constants: the built-in profiles reach Python, Java and Go through this class.
      Profiles: 'class',
    });
  });

  /** The library's own types: the k8s namespace is the generated Kubernetes API, documented by Kubernetes. */
  const rootTypes = () =>
    Object.entries(result.assembly?.types ?? {}).filter(([fqn]) => fqn.split('.').length === 2);

  test('when a struct has an optional property, then its doc comment says the @default', () => {
    const undocumented = rootTypes().flatMap(([fqn, type]) =>
      type.datatype === true
        ? (type.properties ?? [])
            .filter((p) => p.optional === true && p.docs?.default === undefined)
            .map((p) => `${fqn}.${p.name}`)
        : [],
    );
    expect(undocumented).toEqual([]);
  });

  test('when API.md is read, then it documents every type and property of the assembly with its @default', () => {
    const apiMd = fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8');
    const missing: string[] = [];
    for (const [fqn, type] of rootTypes()) {
      if (!apiMd.includes(`id="${fqn}"`)) missing.push(fqn);
      for (const property of type.properties ?? []) {
        const at = apiMd.indexOf(`id="${fqn}.property.${property.name}"></a>`);
        const section = at < 0 ? '' : apiMd.slice(at, apiMd.indexOf('\n---', at));
        // jsii-docgen drops the "- " that marks a default described in words.
        const defaultLine = `- *Default:* ${(property.docs?.default ?? '').replace(/^- /, '')}`;
        if (at < 0) missing.push(`${fqn}.${property.name}`);
        else if (property.docs?.default !== undefined && !section.includes(defaultLine)) {
          missing.push(`${fqn}.${property.name} (${defaultLine})`);
        }
      }
    }
    expect(rootTypes().length).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});
