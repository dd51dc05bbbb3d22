/**
 * The whole memo service for a kind cluster, one manifest per object, as `npm run synth` of the
 * memostack repository writes dist/kind (without the kustomization and secret files, which its
 * main.ts adds). Usage: node lib/kind-stack.js <output folder>
 */
import { App, YamlOutputType } from 'cdk8s';
import { MemoStack, Profiles } from 'memostack';

const app = new App({
  outdir: process.argv[2] ?? 'dist/kind',
  yamlOutputType: YamlOutputType.FILE_PER_RESOURCE,
  outputFileExtension: '.k8s.yaml',
});
new MemoStack(app, 'memo', { profile: Profiles.KIND });
app.synth();
