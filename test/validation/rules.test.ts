import type { ValidationResult } from '../../validation/types';
import { RULE_CASES as CASES } from './corpus/rule-fixtures';
import { baseline, FAST, file, lineOf, ofRule } from './helpers';

describe('validator rules on the hand-written folder', () => {
  let clean: ValidationResult;
  beforeAll(() => {
    clean = baseline().validate(FAST);
  });

  it('when the hand-written folder is validated, then there is no finding at all', () => {
    expect(clean.findings).toEqual([]);
    expect(clean.objectsChecked).toBe(11);
  });

  it.each([...new Set(CASES.map((c) => c.rule)), 'YAML-HYGIENE', 'API-LISTMAP'])(
    'when the clean folder is validated, then %s reports nothing',
    (rule) => {
      expect(ofRule(clean, rule)).toEqual([]);
    },
  );

  it.each(CASES)('when $when, then $rule reports $path', (c) => {
    const set = c.mutate(baseline());
    const result = set.validate(FAST);
    const hits = ofRule(result, c.rule).filter(
      (f) => f.path === c.path && f.file === file(c.file) && c.message.test(f.message),
    );
    expect({
      rule: c.rule,
      hits: hits.length,
      all: ofRule(result, c.rule).map((f) => `${f.path}: ${f.message}`),
    }).toMatchObject({
      hits: 1,
    });
    const hit = hits[0];
    expect(hit.object).toBe(c.object);
    expect(hit.severity).toBe(c.severity ?? 'error');
    expect(hit.line).toBe(lineOf(set.text(file(c.file)), c.line, c.nth));
  });
});
