import { createLogger } from '../../src/logger';

describe('createLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, write: (line: string) => lines.push(line) };
  };

  it('when a message is logged, then it is one JSON line with level, time, msg and the fields', () => {
    const out = capture();
    createLogger({ level: 'info', write: out.write }).info('request', { status: 201 });
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0].endsWith('\n')).toBe(true);
    const entry = JSON.parse(out.lines[0]);
    expect(entry).toEqual({ level: 'info', time: expect.any(String), msg: 'request', status: 201 });
    expect(new Date(entry.time).toISOString()).toBe(entry.time);
  });

  it('when the level is warn, then debug and info are dropped', () => {
    const out = capture();
    const logger = createLogger({ level: 'warn', write: out.write });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(out.lines.map((l) => JSON.parse(l).msg)).toEqual(['w', 'e']);
  });

  it('when a child logger is used, then its bound fields (the request id) appear on every line', () => {
    const out = capture();
    const child = createLogger({ write: out.write }).child({ request_id: 'abc' });
    child.info('one');
    child.child({ memo_id: 7 }).info('two');
    expect(out.lines.map((l) => JSON.parse(l))).toMatchObject([
      { msg: 'one', request_id: 'abc' },
      { msg: 'two', request_id: 'abc', memo_id: 7 },
    ]);
  });

  it('when an Error is a field, then its name, message and stack are kept', () => {
    const out = capture();
    createLogger({ write: out.write }).error('failed', { error: new TypeError('boom') });
    expect(JSON.parse(out.lines[0]).error).toMatchObject({
      name: 'TypeError',
      message: 'boom',
      stack: expect.stringContaining('boom'),
    });
  });
});
