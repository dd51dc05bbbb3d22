import * as path from 'path';
import { Finding, ManifestSet } from '../../validation';
import { DIST, DIST_MUTATIONS, type ExpectedFinding } from './corpus/dist-mutations';

/**
 * Mutation tests: break one thing in the real synthesized manifests and expect exactly the
 * finding it should cause, at the right file, object and field path. A validator that stays
 * quiet, or that drowns the real defect in collateral findings, fails here.
 */
const VERSIONS = ['1.30'];

function errors(set: ManifestSet): Finding[] {
  return set
    .validate({ k8sVersions: VERSIONS, requireSchemas: true })
    .findings.filter((f) => f.severity === 'error');
}

function summary(f: Finding): ExpectedFinding {
  return { rule: f.rule, file: path.basename(f.file), object: f.object, path: f.path };
}

describe('mutations of the real manifests', () => {
  it('when the unmutated kind profile is validated, then it has no errors (the baseline of every case below)', () => {
    expect(errors(ManifestSet.fromDirectory(path.join(DIST, 'kind'))).map(summary)).toEqual([]);
  });

  it.each(DIST_MUTATIONS)('when $when ($profile), then exactly that finding is reported', (m) => {
    const set = ManifestSet.fromDirectory(path.join(DIST, m.profile));
    const expected = m.mutate(set);
    const found = errors(set).filter((f) => f.rule !== m.unrelatedRule?.rule || f.rule === expected.rule);
    expect(found.map(summary)).toEqual([expected]);
  });
});
