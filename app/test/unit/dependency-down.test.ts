import { toProblem } from '../../src/http/middleware';
import { MemoError, memoErrorStatus } from '../../src/memos/errors';

/** An error shaped as mysql2 makes them: a message, maybe a code, and fatal when the connection is dead. */
function mysqlError(message: string, props: { code?: string; errno?: number; fatal?: boolean }): Error {
  return Object.assign(new Error(message), props);
}

describe('toProblem for database errors', () => {
  it.each([
    [
      'a ROLLBACK on a connection the stopped database closed',
      mysqlError("ROLLBACK - Can't add new command when connection is in closed state", { fatal: true }),
    ],
    [
      'a query whose connection the server closed',
      mysqlError('Connection lost: The server closed the connection.', {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }),
    ],
    [
      'a new session during the database shutdown',
      mysqlError('Server shutdown in progress', { code: 'ER_SERVER_SHUTDOWN', errno: 1053 }),
    ],
    [
      'a session the shutdown killed',
      mysqlError('Connection was killed', { code: 'ER_CONNECTION_KILLED', errno: 1927 }),
    ],
    [
      'a refused connection',
      mysqlError('connect ECONNREFUSED 127.0.0.1:3306', { code: 'ECONNREFUSED', fatal: true }),
    ],
  ])('when the error is %s, then it is a 503 with Retry-After', (_, err) => {
    const problem = toProblem(err, '/api/memos/1', []);
    expect(problem.status).toBe(503);
    expect(problem.headers).toEqual({ 'Retry-After': '5' });
    expect(problem.body).toMatchObject({ title: 'Service Unavailable', status: 503 });
  });

  it('when the database rejects a statement on a healthy connection, then it stays a 500', () => {
    const err = mysqlError('You have an error in your SQL syntax', {
      code: 'ER_PARSE_ERROR',
      errno: 1064,
      fatal: false,
    });
    expect(toProblem(err, '/api/memos', []).status).toBe(500);
  });
});

describe('toProblem for the abuse limits', () => {
  it('when MariaDB aborted a statement at max_statement_time (1969), then it is a 503 with Retry-After naming the limit', () => {
    const err = mysqlError('SELECT ... - Query execution was interrupted (max_statement_time exceeded)', {
      errno: 1969,
    });
    const problem = toProblem(err, '/api/memos', []);
    expect(problem.status).toBe(503);
    expect(problem.headers).toEqual({ 'Retry-After': '5' });
    expect(problem.body.detail).toContain('statement time limit');
  });

  it.each([
    ['a search that examined too many rows', MemoError.searchTooBroad(200_000), 'Search too broad'],
    ['a memo with too many index terms', MemoError.indexTooLarge(21_000, 8000), 'Memo too large to index'],
  ])('when the error is %s, then it is a 422 problem', (_what, err, title) => {
    const problem = toProblem(err, '/api/memos', [memoErrorStatus]);
    expect(problem.status).toBe(422);
    expect(problem.body).toMatchObject({ status: 422, title });
  });
});
