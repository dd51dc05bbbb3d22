import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { answerClientErrors } from '../../src/http/client-error';
import { createLogger } from '../../src/logger';

/*
 * The clientError listener on a bare node:http server (no services): what Node's parser
 * refuses is answered as problem+json, and a connection with a response already under way is
 * never written into.
 */

let server: http.Server;
let port: number;
const logLines: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 });
    // /partial: the answer is under way (headers and one byte sent) when the next bytes arrive.
    if (req.url === '/partial') {
      res.write('o');
      setTimeout(() => res.end('k'), 100);
    } else res.end('ok');
  });
  answerClientErrors(server, createLogger({ write: (line) => logLines.push(line) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Writes raw bytes and collects everything the server sends until it closes the connection. */
function exchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server did not close the connection within 5 s'));
    }, 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(raw, 'latin1');
  });
}

function parse(response: string): { status: number; headers: Record<string, string>; body: string } {
  const [head, body = ''] = response.split('\r\n\r\n');
  const [statusLine, ...fields] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('answerClientErrors', () => {
  it.each<[string, number, string]>([
    ['a target with a space', 400, 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a header line without a colon', 400, 'GET / HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n'],
    [
      'a Content-Length that is not a number',
      400,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n',
    ],
    ['headers over 16 KiB', 431, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`],
  ])(
    'when the parser refuses %s, then %i problem+json with a matching Content-Length and a close',
    async (_what, status, raw) => {
      const { status: got, headers, body } = parse(await exchange(raw));
      expect(got).toBe(status);
      expect(headers['content-type']).toBe('application/problem+json');
      expect(headers.connection).toBe('close');
      expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body));
      const problem = JSON.parse(body) as Record<string, unknown>;
      expect(problem).toMatchObject({ status, type: expect.stringMatching(/^https:\/\//) });
      expect(problem.title).toEqual(expect.any(String));
      expect(problem.detail).toEqual(expect.any(String));
      expect(problem).not.toHaveProperty('instance');
    },
  );

  it('when a malformed request arrives while the answer to the one before is under way, then nothing is written into that answer', async () => {
    const raw = 'GET /partial HTTP/1.1\r\nHost: x\r\n\r\nGET /a b HTTP/1.1\r\nHost: x\r\n\r\n';
    const response = await exchange(raw);
    // The connection is cut, as Node's default does (what was already flushed of the 200 may
    // arrive); a problem written after the 'o' would be read as the rest of the 200's body.
    const statusLines = response.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    expect(statusLines.filter((line) => line !== 'HTTP/1.1 200')).toEqual([]);
    expect(response).not.toMatch(/problem/);
  });

  it('when the parser refuses a request, then it is logged as a warning with the parser code', async () => {
    logLines.length = 0;
    await exchange('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n');
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'client sent an unparsable request',
        code: expect.stringMatching(/^HPE_/),
      }),
    );
  });

  it('when Expect is not 100-continue, then 417 problem+json naming the expectation', async () => {
    const { status, headers, body } = parse(
      await exchange('GET /x?q=1 HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n'),
    );
    expect(status).toBe(417);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(body)).toMatchObject({
      status: 417,
      instance: '/x',
      detail: expect.stringMatching(/teapot/),
    });
  });
});
