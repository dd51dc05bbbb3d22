import * as path from 'path';
import type { SourceFile } from '../../validation/types';
import { validateDocuments } from '../../validation/validate';
import { baseline } from './helpers';

/** Nine copies of the hand-written profile: 99 objects, the size of the real manifests. */
function hundredObjects(): SourceFile[] {
  const sources = baseline().sources;
  return Array.from({ length: 9 }, (_, i) =>
    sources.map((s) => ({ file: path.join(`profile-${i}`, path.basename(s.file)), text: s.text })),
  ).flat();
}

describe('validator at the size of the real manifests', () => {
  // Timing is printed, not asserted: speed targets belong in benchmarks, not in tests that flake on a busy machine.
  it('when ~100 objects are validated against all 10 versions twice, then both runs check everything and find nothing', () => {
    const sources = hundredObjects();
    const cold = Date.now();
    const first = validateDocuments(sources);
    const coldMs = Date.now() - cold;
    const warm = Date.now();
    const second = validateDocuments(sources);
    const warmMs = Date.now() - warm;
    process.stdout.write(
      `validated ${first.objectsChecked} objects x ${first.versionsChecked.length} versions: ${coldMs} ms cold (schemas parsed and compiled), ${warmMs} ms warm\n`,
    );
    expect(first.objectsChecked).toBe(99);
    expect(first.versionsChecked).toHaveLength(10);
    expect(first.findings).toEqual([]);
    // The warm run reuses compiled schemas; it must reach the same verdict.
    expect(second).toEqual(first);
  });
});
