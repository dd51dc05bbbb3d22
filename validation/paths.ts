import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { FieldPath } from './types';

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** Formats a path the way the API server prints field errors: `spec.ports[0].name`, `data[app.conf]`. */
/** Fields whose keys are user data, which the API server prints in brackets (`data[app.conf]`). */
const MAP_FIELDS = new Set([
  'data',
  'binaryData',
  'stringData',
  'labels',
  'annotations',
  'matchLabels',
  'nodeSelector',
]);

export function formatPath(path: FieldPath): string {
  let out = '';
  path.forEach((seg, i) => {
    const parent = path[i - 1];
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg) && !(typeof parent === 'string' && MAP_FIELDS.has(parent)))
      out += out === '' ? seg : `.${seg}`;
    else out += `[${seg}]`;
  });
  return out;
}

/** Turns an ajv instancePath (`/spec/ports/0`) into segments, numbers for array indexes. */
export function fromJsonPointer(pointer: string, root: unknown): Array<string | number> {
  if (pointer === '') return [];
  const out: Array<string | number> = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

export interface Position {
  readonly line: number;
  readonly col: number;
}

/**
 * Finds where a field lives in the source. Scalars point at their value, collections and
 * (with `atKey`) unknown fields at their key; a path that does not exist points at its deepest
 * existing parent, which is where a missing field would have to be added.
 */
export function locate(doc: Document, lc: LineCounter, path: FieldPath, atKey = false): Position {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const keyOffset = isScalar(pair.key) ? (pair.key.range?.[0] ?? offset) : offset;
      node = pair.value;
      const valueOffset = (pair.value as Node | null)?.range?.[0];
      offset = isScalar(node) && !(last && atKey) && valueOffset !== undefined ? valueOffset : keyOffset;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else break;
  }
  const pos = lc.linePos(offset);
  return { line: pos.line, col: pos.col };
}
