import * as fs from 'fs';
import * as path from 'path';
import type { RuleContext } from '../context';
import { arr, rec, str } from '../json';
import { locate } from '../paths';
import type { K8sObject, Kustomization } from '../types';

/** kustomization.yaml is not an object; reporting against it needs a stand-in with its location data. */
function asObject(k: Kustomization): K8sObject {
  return {
    file: k.file,
    folder: k.folder,
    docIndex: 0,
    source: '',
    doc: k.doc,
    lineCounter: k.lineCounter,
    apiVersion: str(k.raw.apiVersion) ?? 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    name: path.basename(k.folder),
    namespace: '',
    raw: k.raw,
  };
}

/**
 * KUSTOMIZATION: what `kubectl apply -k` would fail on, or silently leave out: a listed file that
 * does not exist, or a manifest in the folder that is not listed.
 */
export function kustomizationRule(ctx: RuleContext): void {
  const k = ctx.kustomization;
  if (!k) return;
  const obj = asObject(k);
  const listed = new Set<string>();
  const check = (entry: string, p: Array<string | number>): void => {
    const full = path.join(k.folder, entry);
    listed.add(path.normalize(full));
    // Remote bases and directories are resolved by kustomize; only local files can be checked here.
    if (/^[a-z]+:\/\//.test(entry) || entry.includes('?ref=')) return;
    if (!ctx.files.includes(full) && !fs.existsSync(full))
      ctx.report({
        obj,
        rule: 'KUSTOMIZATION',
        path: p,
        message: `Not found: ${JSON.stringify(entry)}: no such file in ${k.folder}`,
      });
  };
  for (const field of ['resources', 'patchesStrategicMerge', 'components']) {
    arr(k.raw[field]).forEach((e, i) => {
      const s = str(e);
      if (s) check(s, [field, i]);
    });
  }
  arr(k.raw.patches).forEach((p, i) => {
    const s = str(rec(p)?.path);
    if (s) check(s, ['patches', i, 'path']);
  });
  for (const file of ctx.files) {
    if (file === k.file || listed.has(path.normalize(file))) continue;
    const pos = locate(k.doc, k.lineCounter, ['resources']);
    ctx.report({
      obj,
      rule: 'KUSTOMIZATION',
      path: ['resources'],
      line: pos.line,
      col: pos.col,
      message: `Required value: ${JSON.stringify(path.relative(k.folder, file))} is in the folder but not listed, so \`kubectl apply -k\` would leave it out`,
    });
  }
}
