import * as fs from 'fs';
import * as path from 'path';
import { EXEMPTIONS, formatFinding, validateDirectories } from '../../validation';

/**
 * The golden run: every synthesized profile against every Kubernetes version we target.
 * dist/ is committed and CI fails on drift, so this checks exactly what users apply.
 */
const ROOT = path.resolve(__dirname, '../..');
const PROFILES = ['kind', 'k3d', 'cloud'];

describe('dist/ golden validation', () => {
  it.each(PROFILES)(
    'when dist/%s is validated against Kubernetes 1.27 to 1.36, then it has 0 errors',
    (profile) => {
      const dir = path.join(ROOT, 'dist', profile);
      expect(fs.existsSync(dir)).toBe(true);
      const result = validateDirectories([dir], { exemptions: EXEMPTIONS, requireSchemas: true });
      const errors = result.findings.filter((f) => f.severity === 'error' && f.rule !== 'EXEMPTION-STALE');
      const warnings = result.findings.filter((f) => f.severity === 'warning');
      console.log(
        `dist/${profile}: ${result.objectsChecked} objects x ${result.versionsChecked.length} versions ` +
          `(${result.versionsChecked[0]}-${result.versionsChecked.at(-1)}) checked: ${errors.length} errors, ${warnings.length} warnings`,
      );
      expect(result.versionsChecked).toEqual([
        '1.27',
        '1.28',
        '1.29',
        '1.30',
        '1.31',
        '1.32',
        '1.33',
        '1.34',
        '1.35',
        '1.36',
      ]);
      expect(result.objectsChecked).toBeGreaterThan(40);
      expect(errors.map(formatFinding)).toEqual([]);
    },
  );

  it('when all profiles are validated together with the reviewed exemptions, then no exemption is stale', () => {
    const result = validateDirectories(
      PROFILES.map((p) => path.join(ROOT, 'dist', p)),
      { exemptions: EXEMPTIONS, requireSchemas: true, k8sVersions: ['1.30'] },
    );
    expect(result.findings.filter((f) => f.rule === 'EXEMPTION-STALE').map(formatFinding)).toEqual([]);
  });
});
