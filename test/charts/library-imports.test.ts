import * as path from 'path';
import { importGraph, NODE_BUILTINS, ROOT } from '../../packaging/import-graph';

/*
 * The construct library validates against the service's own environment contract
 * (app/src/config/contract.ts), so it imports from app/. It must reach nothing there that loads
 * the service's runtime (Koa, knex, ioredis, kafkajs...): a cdk8s app has none of those installed.
 */

const APP = path.join(ROOT, 'app') + path.sep;

describe('the construct library', () => {
  test('when it imports from the service, then it reaches only files that need nothing but Node built-ins', () => {
    const graph = importGraph([path.join(ROOT, 'charts', 'index.ts'), path.join(ROOT, 'main.ts')]);
    const appFiles = [...graph.keys()].filter((f) => f.startsWith(APP));
    expect(appFiles.map((f) => path.relative(ROOT, f))).toContain(
      path.join('app', 'src', 'config', 'contract.ts'),
    );
    const runtime = appFiles.flatMap((f) =>
      (graph.get(f) ?? []).filter((m) => !NODE_BUILTINS.has(m)).map((m) => `${path.relative(ROOT, f)}: ${m}`),
    );
    expect(runtime).toEqual([]);
  });
});

describe('the manifest validator', () => {
  test('when it reads the Kubernetes syntax rules from charts/common, then it reaches neither cdk8s nor the generated types', () => {
    const graph = importGraph([
      path.join(ROOT, 'validation', 'cli.ts'),
      path.join(ROOT, 'validation', 'index.ts'),
    ]);
    const files = [...graph.keys()].map((f) => path.relative(ROOT, f));
    expect(files).toContain(path.join('charts', 'common', 'k8s-syntax.ts'));
    expect(files.filter((f) => f.startsWith('imports'))).toEqual([]);
    const bare = [...graph.values()].flat();
    expect(bare.filter((m) => ['cdk8s', 'constructs', 'cdk8s-plus-27'].includes(m))).toEqual([]);
  });
});
