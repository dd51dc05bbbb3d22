import { MemoError } from '../../src/memos/errors';
import {
  encodeCursor,
  parseId,
  parseListQuery,
  parseMemoInput,
  parseMemoPatch,
  parseEntityTags,
  parseIfMatch,
  ifNoneMatchHolds,
  parseTagQuery,
  encodeTagCursor,
  LIMITS,
} from '../../src/memos/schema';

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof MemoError && err.kind === 'validation') return err.fieldErrors.map((e) => e.field);
    throw err;
  }
  throw new Error('expected a validation error');
}

describe('parseMemoInput', () => {
  it('when only a title is given, then the other fields take their defaults', () => {
    expect(parseMemoInput({ title: '  Groceries ' })).toEqual({
      title: 'Groceries',
      content: '',
      tags: [],
      priority: 2,
      category: null,
      author: null,
    });
  });

  it('when tags repeat, then they are kept once in their first order', () => {
    expect(parseMemoInput({ title: 't', tags: ['b', 'a', 'b'] }).tags).toEqual(['b', 'a']);
  });

  it('when content is exactly 64 KiB of multi-byte text, then it is accepted', () => {
    const content = '가'.repeat(Math.floor(65536 / 3)); // 3 bytes each in UTF-8
    expect(parseMemoInput({ title: 't', content }).content).toBe(content);
  });

  it.each([
    [{}, ['title']],
    [{ title: '' }, ['title']],
    [{ title: '   ' }, ['title']],
    [{ title: 'x'.repeat(201) }, ['title']],
    [{ title: 7 }, ['title']],
    [{ title: 'a\u0000b' }, ['title']],
    [{ title: 't', content: 5 }, ['content']],
    [{ title: 't', content: 'x'.repeat(65537) }, ['content']],
    [{ title: 't', tags: 'a' }, ['tags']],
    [{ title: 't', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, ['tags']],
    [{ title: 't', tags: ['ok', ''] }, ['tags[1]']],
    [{ title: 't', tags: ['x'.repeat(51)] }, ['tags[0]']],
    [{ title: 't', tags: [3] }, ['tags[0]']],
    [{ title: 't', priority: 0 }, ['priority']],
    [{ title: 't', priority: 5 }, ['priority']],
    [{ title: 't', priority: 2.5 }, ['priority']],
    [{ title: 't', priority: '2' }, ['priority']],
    [{ title: 't', category: 'x'.repeat(51) }, ['category']],
    [{ title: 't', category: 1 }, ['category']],
    [{ title: 't', author: 'x'.repeat(101) }, ['author']],
    [{ title: 't', colour: 'red' }, ['colour']],
    [{ title: '', priority: 9, extra: 1 }, ['extra', 'title', 'priority']],
  ])('when the body is %j, then the error names %j', (body, fields) => {
    expect(fieldsOf(() => parseMemoInput(body))).toEqual(fields);
  });

  it.each([null, [], 'memo', 3])(
    'when the body is %j (not an object), then the error names the body',
    (body) => {
      expect(fieldsOf(() => parseMemoInput(body))).toEqual(['body']);
    },
  );
});

describe('parseMemoPatch', () => {
  it('when null is given for category, then the patch clears it', () => {
    expect(parseMemoPatch({ category: null })).toEqual({ category: null });
  });

  it('when the body is empty, then it is rejected naming the body', () => {
    expect(fieldsOf(() => parseMemoPatch({}))).toEqual(['body']);
  });

  it('when title is null, then it is rejected (a memo always has a title)', () => {
    expect(fieldsOf(() => parseMemoPatch({ title: null }))).toEqual(['title']);
  });
});

describe('parseListQuery', () => {
  it('when no parameter is given, then the page size is 20', () => {
    expect(parseListQuery({})).toEqual({ limit: 20 });
  });

  it('when a cursor this service issued is given, then the page starts after its id', () => {
    expect(parseListQuery({ cursor: encodeCursor(42), limit: '5', q: ' 메모 ' })).toEqual({
      limit: 5,
      after: 42,
      q: '메모',
    });
  });

  it.each([
    [{ limit: '0' }, ['limit']],
    [{ limit: '101' }, ['limit']],
    [{ limit: 'ten' }, ['limit']],
    [{ priority: '7' }, ['priority']],
    [{ cursor: 'garbage' }, ['cursor']],
    [{ cursor: Buffer.from('{"v":1,"after":-3}').toString('base64url') }, ['cursor']],
    [{ q: 'x'.repeat(201) }, ['q']],
    [{ q: '' }, ['q']],
    [{ tag: 'x'.repeat(51) }, ['tag']],
    [{ sort: 'title' }, ['sort']],
    [{ tag: ['a', 'b'] }, ['tag']],
  ])('when the query is %j, then the error names %j', (query, fields) => {
    expect(fieldsOf(() => parseListQuery(query))).toEqual(fields);
  });
});

describe('parseId', () => {
  it.each(['0', '-1', 'abc', '1.5', '01', '99999999999999999999'])(
    'when the id is "%s", then it is rejected',
    (raw) => {
      expect(fieldsOf(() => parseId(raw))).toEqual(['id']);
    },
  );

  it('when the id is a safe positive integer, then it is returned as a number', () => {
    expect(parseId('9007199254740991')).toBe(9007199254740991);
  });
});

describe('conditional request headers (RFC 9110 13.1.1, 13.1.2)', () => {
  it.each([
    ['"3"', [{ weak: false, opaque: '3' }]],
    ['W/"3"', [{ weak: true, opaque: '3' }]],
    [
      '"1", W/"2" ,"x"',
      [
        { weak: false, opaque: '1' },
        { weak: true, opaque: '2' },
        { weak: false, opaque: 'x' },
      ],
    ],
    [' , "1",, ', [{ weak: false, opaque: '1' }]],
    ['""', [{ weak: false, opaque: '' }]],
    ['*', '*'],
  ])('when the header is %j, then its entity-tags are %j', (header, tags) => {
    expect(parseEntityTags(header)).toEqual(tags);
  });

  it.each(['3', '"3', '3"', 'W/3', 'w/"3"', '"a b"', '"a"b"', '"1" "2"', '*, "1"', ','])(
    'when the header is %j, then it is not an entity-tag list',
    (header) => {
      expect(parseEntityTags(header)).toBeUndefined();
    },
  );

  it.each([
    ['"3"', [3]],
    ['"1", "7"', [1, 7]],
    ['W/"3"', []],
    ['"abc"', []],
    ['"03"', []],
    ['W/"3", "4"', [4]],
    ['*', '*'],
    ['', undefined],
  ])('when If-Match is %j, then the versions it matches are %j (strong comparison)', (header, expected) => {
    expect(parseIfMatch(header)).toEqual(expected);
  });

  it.each(['3', 'W/3', '"3" junk'])(
    'when If-Match is %j (malformed), then the error names the header',
    (h) => {
      expect(fieldsOf(() => parseIfMatch(h))).toEqual(['If-Match']);
    },
  );

  it.each([
    ['"3"', true],
    ['W/"3"', true],
    ['"2", W/"3"', true],
    ['*', true],
    ['"2"', false],
    ['"abc"', false],
    ['3', false],
    ['', false],
  ])(
    'when If-None-Match is %j and the version is 3, then it holds: %j (weak comparison)',
    (header, holds) => {
      expect(ifNoneMatchHolds(header, 3)).toBe(holds);
    },
  );
});

describe('parseTagQuery', () => {
  it('when nothing is given, then the default page size applies', () => {
    expect(parseTagQuery({})).toEqual({ limit: LIMITS.tagPageDefault });
  });

  it('when a cursor this service issued is given, then the page starts after its tag', () => {
    expect(parseTagQuery({ limit: '5', cursor: encodeTagCursor('작업') })).toEqual({
      limit: 5,
      after: '작업',
    });
  });

  it.each([
    [{ limit: '0' }, ['limit']],
    [{ limit: String(LIMITS.tagPageMax + 1) }, ['limit']],
    [{ cursor: 'nope' }, ['cursor']],
    [{ cursor: encodeCursor(3) }, ['cursor']],
    [{ sort: 'count' }, ['sort']],
    [{ limit: ['1', '2'] }, ['limit']],
  ])('when the query is %j, then the error names %j', (query, fields) => {
    expect(fieldsOf(() => parseTagQuery(query))).toEqual(fields);
  });
});

describe('the search term limit', () => {
  it('when q is 200 characters of two-letter words (67 prefix terms), then it is refused naming the limit', () => {
    const q = Array.from(
      { length: 67 },
      (_, i) => String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + Math.floor(i / 26)),
    ).join(' ');
    expect(q.length).toBeLessThanOrEqual(LIMITS.queryChars);
    let message = '';
    try {
      parseListQuery({ q });
    } catch (err) {
      message = (err as MemoError).fieldErrors.map((e) => e.message).join();
    }
    expect(message).toContain(`yields 67 search terms; at most ${LIMITS.searchTerms}`);
  });

  it('when q has exactly the limit of terms, then it is accepted', () => {
    const words = Array.from({ length: LIMITS.searchTerms }, (_, i) => `w${String.fromCharCode(97 + i)}`);
    expect(parseListQuery({ q: words.join(' ') }).q).toBe(words.join(' '));
    expect(fieldsOf(() => parseListQuery({ q: [...words, 'zz'].join(' ') }))).toEqual(['q']);
  });
});
