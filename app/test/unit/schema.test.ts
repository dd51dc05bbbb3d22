import { MemoError } from '../../src/memos/errors';
import {
  encodeCursor,
  parseId,
  parseListQuery,
  parseMemoInput,
  parseMemoPatch,
  parseVersionHeader,
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

describe('parseId and parseVersionHeader', () => {
  it.each(['0', '-1', 'abc', '1.5', '01', '99999999999999999999'])(
    'when the id is "%s", then it is rejected',
    (raw) => {
      expect(fieldsOf(() => parseId(raw))).toEqual(['id']);
    },
  );

  it('when the id is a safe positive integer, then it is returned as a number', () => {
    expect(parseId('9007199254740991')).toBe(9007199254740991);
  });

  it.each([
    ['"3"', 3],
    ['W/"3"', 3],
    ['*', '*'],
    ['', undefined],
  ])('when If-Match is %j, then the expected version is %j', (header, expected) => {
    expect(parseVersionHeader('If-Match', header)).toBe(expected);
  });

  it('when If-Match is not an ETag, then the error names the header', () => {
    expect(fieldsOf(() => parseVersionHeader('If-Match', '3'))).toEqual(['If-Match']);
  });
});
