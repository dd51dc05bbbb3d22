import { MAX_BIGRAMS, MAX_TOKEN_LENGTH, planSearch, tokenize } from '../../src/search/tokenizer';

describe('tokenize', () => {
  it('when text is English, then it yields distinct lower-cased words', () => {
    expect(tokenize('Hello, hello WORLD! memo-2024 x')).toEqual(['hello', 'world', 'memo', '2024', 'x']);
  });

  it('when text is Korean, then each run yields its bigrams and its last character', () => {
    expect(tokenize('메모를 저장')).toEqual(['메모', '모를', '를', '저장', '장']);
  });

  it('when Latin and Hangul are glued together, then each script forms its own run', () => {
    expect(tokenize('API를')).toEqual(['api', '를']);
  });

  it('when a word is longer than the token column, then it is cut to the column size', () => {
    const [token] = tokenize('a'.repeat(100));
    expect([...token]).toHaveLength(MAX_TOKEN_LENGTH);
  });

  it('when text uses full-width forms, then NFKC folds them to the plain word', () => {
    expect(tokenize('ＭＥＭＯ')).toEqual(['memo']);
  });
});

describe('planSearch', () => {
  it('when the query is an English word, then it becomes a prefix term', () => {
    expect(planSearch('Meet')).toEqual({ terms: [{ kind: 'prefix', prefix: 'meet' }], substrings: [] });
  });

  it('when the query is one letter, then it must match exactly (no huge prefix range)', () => {
    expect(planSearch('a').terms).toEqual([{ kind: 'exact', token: 'a' }]);
  });

  it('when the query is a two-syllable Korean word, then its one bigram suffices without verification', () => {
    expect(planSearch('메모')).toEqual({ terms: [{ kind: 'exact', token: '메모' }], substrings: [] });
  });

  it('when the query is a longer Korean run, then all bigrams are required and the run is verified', () => {
    expect(planSearch('메모를')).toEqual({
      terms: [
        { kind: 'exact', token: '메모' },
        { kind: 'exact', token: '모를' },
      ],
      substrings: ['메모를'],
    });
  });

  it('when the query is one Hangul syllable, then it matches tokens starting with it', () => {
    expect(planSearch('메').terms).toEqual([{ kind: 'prefix', prefix: '메' }]);
  });

  it('when a Korean run is very long, then at most MAX_BIGRAMS lookups are made', () => {
    const plan = planSearch('가나다라마바사아자차카타파하거너더러머버서');
    expect(plan.terms.length).toBe(MAX_BIGRAMS);
    expect(plan.substrings).toHaveLength(1);
  });

  it('when the query has only punctuation, then the plan is empty', () => {
    expect(planSearch('!!! ...')).toEqual({ terms: [], substrings: [] });
  });

  it('when every substring of an indexed Korean text is searched, then its terms are all among the tokens', () => {
    const text = '오늘 회의 메모를 정리했습니다';
    const tokens = new Set(tokenize(text));
    for (const word of text.split(' ')) {
      const chars = [...word];
      for (let i = 0; i < chars.length; i++) {
        for (let j = i + 1; j <= chars.length; j++) {
          for (const term of planSearch(chars.slice(i, j).join('')).terms) {
            const hit =
              term.kind === 'exact'
                ? tokens.has(term.token)
                : [...tokens].some((t) => t.startsWith(term.prefix));
            expect(hit).toBe(true);
          }
        }
      }
    }
  });
});
