import { BadRequest, judge, RawResponse } from '../support/bad-requests';

/* The fuzz suite is only as strict as its judge: these are the answers it must refuse. */

const request: BadRequest = {
  category: 'malformed-json',
  label: 'POST /api/memos {',
  method: 'POST',
  target: '/api/memos',
  headers: [['Content-Type', 'application/json']],
  body: () => Buffer.from('{'),
  allowed: [400],
};

function response(status: number, body: unknown, contentType = 'application/problem+json'): RawResponse {
  const text = body === undefined ? '' : JSON.stringify(body);
  return { status, headers: text === '' ? {} : { 'content-type': contentType }, body: Buffer.from(text) };
}

const problem = (status: number): Record<string, unknown> => ({
  type: 'https://memostack.dev/problems/bad-request',
  title: 'Bad Request',
  status,
  detail: 'The body is not valid JSON',
});

describe('judge of the bad-input suite', () => {
  it('when the answer is an allowed status as a complete problem, then it passes', () => {
    expect(judge(request, response(400, problem(400)))).toBeUndefined();
  });

  it.each<[string, BadRequest, RawResponse, RegExp]>([
    ['a 500', request, response(500, problem(500)), /status 500/],
    ['a 503', request, response(503, problem(503)), /status 503/],
    ['a status the request does not allow', request, response(404, problem(404)), /not in \[400\]/],
    ['a bare 400 with no body', request, response(400, undefined), /not problem\+json/],
    [
      'a 400 that is JSON but not a problem',
      request,
      response(400, { error: 'x' }, 'application/json'),
      /not problem\+json/,
    ],
    [
      'a problem without a detail',
      request,
      response(400, { ...problem(400), detail: '' }),
      /incomplete problem/,
    ],
    ['a problem whose status disagrees', request, response(400, problem(422)), /incomplete problem/],
    [
      'no answer at all',
      request,
      { status: 0, headers: {}, body: Buffer.alloc(0), error: 'ECONNRESET' },
      /no response/,
    ],
    [
      'a timeout, even where a close is allowed',
      { ...request, closeAllowed: true },
      { status: 0, headers: {}, body: Buffer.alloc(0), error: 'timeout' },
      /timeout/,
    ],
    [
      'a parser status for a request the parser accepts',
      request,
      response(431, problem(431)),
      /not in \[400\]/,
    ],
    [
      'a Set-Cookie header',
      request,
      {
        ...response(400, problem(400)),
        headers: { 'content-type': 'application/problem+json', 'set-cookie': 'a=b' },
      },
      /injected/,
    ],
  ])('when the answer is %s, then it is refused', (_what, req, res, why) => {
    expect(judge(req, res)).toMatch(why);
  });

  it('when the parser may refuse the request, then its 431 passes only as a problem', () => {
    const parserRequest = { ...request, parserMayReject: true };
    expect(judge(parserRequest, response(431, problem(431)))).toBeUndefined();
    expect(judge(parserRequest, response(431, undefined))).toMatch(/not problem\+json/);
  });
});
