import { Finding, validateDocuments } from '../../validation';
import { ESCAPE_HATCHES, synthesized, type Patch } from './corpus/escape-hatches';

/**
 * The validator is the second line behind the constructs' props checks: each escape-hatch patch
 * writes a value the props would have refused, and the validator must name file, object, field.
 */
function findingsAfter(patch: Patch): Finding[] {
  return validateDocuments(synthesized(patch), { k8sVersions: ['1.30'], requireSchemas: true }).findings;
}

const shape = (f: Finding) => ({ rule: f.rule, file: f.file, object: f.object, path: f.path });

describe('escape hatches past the props checks', () => {
  const baseline = findingsAfter(() => undefined).map(shape);

  test.each(ESCAPE_HATCHES)(
    'when a patch writes %s, then the validator names file, object and field',
    (_label, patch, where, message) => {
      expect(baseline).not.toContainEqual(where);
      const hits = findingsAfter(patch).filter(
        (f) => f.rule === where.rule && f.file === where.file && f.path === where.path,
      );
      expect(hits.map(shape)).toEqual([where]);
      expect(hits[0].severity).toBe('error');
      expect(hits[0].message).toMatch(message);
    },
  );
});
