import { isScalar, Scalar, type Node } from 'yaml';
import { locate, type Position } from './paths';
import type { K8sObject } from './types';

/**
 * Where line `line` (1-based) of the text in `data[key]` sits in the file, so a finding inside an
 * embedded prometheus.yml or rules file points at the offending line, not at the key.
 */
export function embeddedPosition(obj: K8sObject, field: string, key: string, line: number): Position {
  const base = locate(obj.doc, obj.lineCounter, [field, key]);
  const node = obj.doc.getIn([field, key], true) as Node | undefined;
  if (!isScalar(node) || (node.type !== Scalar.BLOCK_LITERAL && node.type !== Scalar.BLOCK_FOLDED))
    return base;
  // A block scalar's content starts on the line after its `|` indicator.
  const target = base.line + line;
  const text = obj.source.split('\n')[target - 1] ?? '';
  return { line: target, col: text.length - text.trimStart().length + 1 };
}

/** The 1-based line of `offset` in `text`. */
export function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}
