import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger';
import { HttpProblem } from './errors';
import { toProblem } from './middleware';

/** What Node's parser says was wrong with the bytes, as the status its own default would send. */
const PARSER_STATUS: Record<string, { status: number; title: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    title: 'Request Header Fields Too Large',
    detail: 'The request headers are larger than the server accepts.',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    title: 'Payload Too Large',
    detail: 'The chunk extensions of the request body are larger than the server accepts.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request Timeout',
    detail: 'The request was not received in full in time.',
  },
};

const MALFORMED = {
  status: 400,
  title: 'Bad Request',
  detail: 'The request is not valid HTTP/1.1 (request line, headers, framing or body encoding).',
};

/** Serialises a problem as a whole HTTP/1.1 response that closes the connection. */
function rawProblemResponse(status: number, title: string, detail: string): string {
  // Only HttpProblems here, before any route ran: no feature's error map applies.
  const { body } = toProblem(new HttpProblem(status, title, detail), '', []);
  // No request was parsed, so there is no path to name.
  delete body.instance;
  const json = JSON.stringify(body);
  return (
    `HTTP/1.1 ${status} ${title}\r\n` +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(json)}\r\n` +
    'Connection: close\r\n' +
    '\r\n' +
    json
  );
}

type ParserError = Error & { code?: string };

/**
 * Node's HTTP parser answers bytes it cannot parse (a malformed request line or header, a lying
 * Content-Length, headers over the size limit, a request that arrived too slowly) on its own,
 * before Koa sees a request, with a bare 400/431/408 and no body. API clients then get the one
 * error that is not problem+json. This listener sends the same statuses as problems instead.
 *
 * It keeps Node's own safety rule: write only when no response to this connection has started,
 * since bytes after a partly written response would corrupt what the client reads; otherwise
 * the connection is only closed, as Node does.
 */
export function answerClientErrors(server: http.Server, logger: Logger): void {
  server.on('clientError', (err: ParserError, socket: Duplex) => {
    const code = err.code ?? 'unknown';
    // A client that hung up left nothing to answer and nothing to log above debug.
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      socket.destroy();
      return;
    }
    logger.warn('client sent an unparsable request', { code, error: err.message });
    // Node's own `socketOnError` reads the same private field for the same reason.
    const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (!socket.writable || (pending != null && pending.headersSent === true)) {
      socket.destroy();
      return;
    }
    const { status, title, detail } = PARSER_STATUS[code] ?? MALFORMED;
    // Closed once the answer is flushed; a client that never reads does not keep the socket.
    socket.end(rawProblemResponse(status, title, detail), () => socket.destroy());
    setTimeout(() => socket.destroy(), 5_000).unref();
  });

  // Node answers an Expect other than 100-continue with a bare 417 unless this event is handled.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const problem = toProblem(
      new HttpProblem(
        417,
        'Expectation Failed',
        `Expect: ${req.headers.expect ?? ''} is not supported; only 100-continue is`,
      ),
      (req.url ?? '').split('?')[0],
      [],
    );
    const json = JSON.stringify(problem.body);
    res.writeHead(417, {
      'Content-Type': 'application/problem+json',
      'Content-Length': Buffer.byteLength(json),
      Connection: 'close',
    });
    res.end(json);
  });
}
