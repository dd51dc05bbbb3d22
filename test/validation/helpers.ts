import * as path from 'path';
import { ManifestSet } from '../../validation/manifest-set';
import type { Finding, ValidationOptions, ValidationResult } from '../../validation/types';

export const FIXTURES = path.join('test', 'validation', 'fixtures');
export const HAND_WRITTEN = path.join(FIXTURES, 'hand-written');

/** Two versions keep rule tests fast; the schema and performance tests use all of them. */
export const FAST: ValidationOptions = { k8sVersions: ['1.27', '1.36'], requireSchemas: true };

export function baseline(): ManifestSet {
  return ManifestSet.fromDirectory(HAND_WRITTEN);
}

export function file(base: string): string {
  return path.join(HAND_WRITTEN, base);
}

export function ofRule(result: ValidationResult, rule: string): Finding[] {
  return result.findings.filter((f) => f.rule === rule);
}

/** The 1-based line of the n-th line containing `needle`, so expectations follow the text, not magic numbers. */
export function lineOf(text: string, needle: string, nth = 1): number {
  let seen = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (lines[i].includes(needle) && ++seen === nth) return i + 1;
  throw new Error(`${JSON.stringify(needle)} not found ${nth} time(s)`);
}

/** A source file named inside a folder, for validateDocuments tests. */
export function src(name: string, text: string, folder = 'inline'): { file: string; text: string } {
  return { file: path.join(folder, name), text };
}
