import type { Context } from 'koa';
import { HttpProblem } from './errors';

/** Above the 64 KiB content limit plus the other fields and JSON escaping overhead. */
export const BODY_LIMIT_BYTES = 80 * 1024;

/**
 * Reads a JSON request body: media type first (415), then size while streaming (413, without
 * buffering more than the limit), then UTF-8 and JSON syntax (400). Small and explicit so each
 * failure maps to its own status and message.
 */
export async function readJsonBody(ctx: Context, limit = BODY_LIMIT_BYTES): Promise<unknown> {
  if (!ctx.request.is('application/json', 'application/*+json')) {
    const given = ctx.get('Content-Type') || 'none';
    throw new HttpProblem(415, 'Unsupported Media Type', `Send the body as application/json (got ${given})`);
  }
  const declared = Number(ctx.get('Content-Length') || '0');
  if (declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        // Stop reading: the remaining bytes are discarded by Node when the response ends.
        ctx.req.unpipe();
        ctx.set('Connection', 'close');
        throw tooLarge(limit);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    // The client hung up before sending the body it announced (Content-Length larger than what
    // came, a cut chunked stream). Node reports that as an "aborted" ECONNRESET, which the error
    // middleware would take for the database being away: a 503 logged as a server failure for
    // what is a broken request. Nobody is left to read this answer; it is for logs and metrics.
    throw new HttpProblem(400, 'Bad Request', 'The request body ended before it was complete');
  }
  if (size === 0) throw new HttpProblem(400, 'Bad Request', 'The request body is empty; send a JSON object');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpProblem(400, 'Bad Request', 'The request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpProblem(
      400,
      'Malformed JSON',
      `The request body is not valid JSON: ${(err as Error).message}`,
    );
  }
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, 'Payload Too Large', `The request body must be at most ${limit} bytes`);
}
