import { readFileSync } from 'fs';
import * as path from 'path';
import { ManifestSet, RULE_ORIGINS } from '../../validation';
import { DIST, DIST_MUTATIONS } from './corpus/dist-mutations';
import { ESCAPE_HATCHES } from './corpus/escape-hatches';
import { RULE_CASES } from './corpus/rule-fixtures';

/** The rules validation/README.md documents, from the first column of its rule table. */
function documentedRules(): string[] {
  const readme = readFileSync(path.resolve(__dirname, '../../validation/README.md'), 'utf8');
  const table = readme.split('## Rules')[1].split('\n## ')[0];
  return table
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| Rule '))
    .flatMap((line) =>
      line
        .split('|')[1]
        .split(',')
        .map((r) => r.replace(/\(W\)/, '').trim()),
    );
}

describe('rule origins', () => {
  it('when the README documents the rules, then each has exactly one origin and no origin names an undocumented rule', () => {
    expect(documentedRules().sort()).toEqual(Object.keys(RULE_ORIGINS).sort());
  });

  it('when a corpus case names a rule, then that rule has an origin', () => {
    const named = [
      ...RULE_CASES.map((c) => c.rule),
      ...ESCAPE_HATCHES.map(([, , where]) => where.rule),
      ...DIST_MUTATIONS.map((m) => m.mutate(ManifestSet.fromDirectory(path.join(DIST, m.profile))).rule),
    ];
    expect(named.filter((r) => !(r in RULE_ORIGINS))).toEqual([]);
  });
});
