import type { Middleware } from 'koa';
import { HttpProblem } from '../http/errors';
import type { RequestState } from '../http/middleware';
import { KeysUnavailableError } from './key-set';
import type { Principal } from './principal';
import { InvalidTokenError, TokenVerifier } from './verifier';

/** The realm named in every challenge. */
export const AUTH_REALM = 'memo-api';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** RFC 6750 2.1: `Bearer` (any case), one space or more, a token68. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
/** Seconds a client should wait before retrying while the issuer's keys are not loaded. */
const KEYS_RETRY_AFTER_SECONDS = 5;

export interface AuthenticatedState extends RequestState {
  /** The verified caller; set on every request that needed a token, absent when auth is off. */
  principal?: Principal;
}

export interface AuthenticateOptions {
  readonly verify: TokenVerifier;
  /** Reads (GET, HEAD) need a token too. */
  readonly requiredForReads: boolean;
}

/** Longest error_description sent; the reasons are one short line, but some quote the token. */
const MAX_DESCRIPTION_CHARS = 200;

/**
 * A quoted-string for a challenge parameter. RFC 6750 3 allows %x20-21 / %x23-5B / %x5D-7E in
 * error_description: anything else (a quote, a backslash, a control or non-ASCII character from
 * a token's header) becomes '?', so that no client-chosen text can break or split the header.
 */
const quoted = (text: string): string =>
  `"${text.slice(0, MAX_DESCRIPTION_CHARS).replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?')}"`;

function challenge(error?: { code: 'invalid_token' | 'invalid_request'; description: string }): string {
  const params = [`realm=${quoted(AUTH_REALM)}`];
  if (error) params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
  return `Bearer ${params.join(', ')}`;
}

/**
 * Requires a valid bearer token on writes (and on reads when configured) and puts the caller in
 * `ctx.state.principal`. Answers per RFC 6750: no credentials, a 401 whose challenge carries no
 * error code (3.1: the client may simply not know it needs one); a malformed Authorization header,
 * 400 invalid_request; a bad token, 401 invalid_token with the reason. Public reads never look at
 * the header: a read's answer does not depend on who asks, and cached reads stay free of crypto.
 */
export function authenticate(options: AuthenticateOptions): Middleware<AuthenticatedState> {
  const { verify, requiredForReads } = options;
  return async (ctx, next) => {
    // A CORS preflight carries no credentials by definition (Fetch standard, 4.8).
    if (ctx.method === 'OPTIONS') return next();
    if (!requiredForReads && !WRITE_METHODS.has(ctx.method)) return next();
    const header = ctx.get('Authorization');
    if (header === '' || !/^bearer(\s|$)/i.test(header)) {
      throw new HttpProblem(
        401,
        'Unauthorized',
        'This request needs a bearer access token from the configured issuer',
        [],
        {
          'WWW-Authenticate': challenge(),
        },
      );
    }
    const match = BEARER.exec(header);
    if (match === null) {
      const description = 'the Authorization header must be "Bearer <token>"';
      throw new HttpProblem(400, 'Bad Request', description, [], {
        'WWW-Authenticate': challenge({ code: 'invalid_request', description }),
      });
    }
    try {
      ctx.state.principal = await verify(match[1]);
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        throw new HttpProblem(401, 'Unauthorized', `Invalid access token: ${err.message}`, [], {
          'WWW-Authenticate': challenge({ code: 'invalid_token', description: err.message }),
        });
      }
      if (err instanceof KeysUnavailableError) {
        ctx.state.logger.warn('token not checked: issuer keys unavailable', { error: err.message });
        throw new HttpProblem(
          503,
          'Service Unavailable',
          "The identity provider's signing keys are not loaded yet, so tokens cannot be checked; retry shortly.",
          [],
          { 'Retry-After': String(KEYS_RETRY_AFTER_SECONDS) },
        );
      }
      throw err;
    }
    return next();
  };
}
