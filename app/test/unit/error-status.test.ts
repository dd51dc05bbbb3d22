import { toProblem } from '../../src/http/middleware';
import { MemoError, memoErrorStatus } from '../../src/memos/errors';

describe('memo errors as problems (memos/errors.ts)', () => {
  it.each([
    [MemoError.validation([{ field: 'title', message: 'is required' }]), 400, 'Validation failed'],
    [MemoError.notFound(7), 404, 'Not Found'],
    [MemoError.forbidden(7, 'it belongs to another user'), 403, 'Forbidden'],
    [MemoError.versionMismatch(7, 3), 412, 'Precondition Failed'],
    [MemoError.versionRequired(), 428, 'Precondition Required'],
    [MemoError.searchTooBroad(200_000), 422, 'Search too broad'],
    [MemoError.indexTooLarge(9000, 8000), 422, 'Memo too large to index'],
  ])('when the service throws %s, then the client gets %i "%s"', (err, status, title) => {
    const problem = toProblem(err, '/api/memos/7', [memoErrorStatus]);
    expect(problem.status).toBe(status);
    expect(problem.headers).toEqual({});
    expect(problem.body).toMatchObject({ status, title, detail: err.message, instance: '/api/memos/7' });
    expect(problem.body.errors).toEqual(err.fieldErrors.length > 0 ? err.fieldErrors : undefined);
  });

  it('when a validation error names fields, then they are the problem\'s "errors" and its type is the title\'s slug', () => {
    const err = MemoError.validation([{ field: 'priority', message: 'must be an integer from 1 to 5' }]);
    expect(toProblem(err, '/api/memos', [memoErrorStatus]).body).toEqual({
      type: 'https://memostack.dev/problems/validation-failed',
      title: 'Validation failed',
      status: 400,
      detail: 'Invalid priority',
      instance: '/api/memos',
      errors: [{ field: 'priority', message: 'must be an integer from 1 to 5' }],
    });
  });

  it("when the error middleware is not given the memo feature's map, then a memo error is a bare 500", () => {
    const problem = toProblem(MemoError.notFound(7), '/api/memos/7', []);
    expect(problem.status).toBe(500);
    expect(problem.body.detail).not.toContain('Memo 7');
  });

  it('when an error is not a memo error, then the memo map leaves it to the others', () => {
    expect(memoErrorStatus.problemOf(new Error('Memo 7 does not exist'))).toBeUndefined();
    expect(memoErrorStatus.problemOf({ kind: 'not_found', message: 'x' })).toBeUndefined();
  });
});
