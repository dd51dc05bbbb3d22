import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { isStatementTimeout } from '../db';
import { DomainProblem, ErrorStatusMap, HttpProblem } from './errors';

export interface RequestState {
  requestId: string;
  logger: Logger;
}

export interface Problem {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string>>;
}

const PROBLEM_BASE = 'https://memostack.dev/problems/';

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/**
 * Maps anything thrown to an RFC 9457 problem: a feature's error by its own map (`statusMaps`),
 * transport and dependency failures here; unknown errors become a bare 500.
 */
export function toProblem(err: unknown, instance: string, statusMaps: readonly ErrorStatusMap[]): Problem {
  let status = 500;
  let title = 'Internal Server Error';
  let detail = 'The server failed to handle this request; it has been logged.';
  let errors: readonly { field: string; message: string }[] = [];
  let headers: Readonly<Record<string, string>> = {};
  const domain = domainProblem(err, statusMaps);
  if (domain !== undefined) {
    ({ status, title, detail, fieldErrors: errors } = domain);
  } else if (err instanceof HttpProblem) {
    ({ status, title, fieldErrors: errors, headers } = err);
    detail = err.message;
  } else if (isStatementTimeout(err)) {
    // The server aborted a statement at max_statement_time: a capacity problem of this moment
    // (the bounded search plans keep a single request well below it), not the client's fault.
    status = 503;
    title = 'Service Unavailable';
    detail = 'The database did not finish this request within its statement time limit; retry shortly.';
    headers = { 'Retry-After': '5' };
  } else if (isDependencyDown(err)) {
    status = 503;
    title = 'Service Unavailable';
    detail = 'The database is unreachable; retry shortly.';
    headers = { 'Retry-After': '5' };
  } else if (isClientHttpError(err)) {
    // Errors thrown by Koa and the router (405, 501 ...) with a message meant for clients.
    status = err.status;
    title = err.message;
    detail = err.message;
    headers = err.headers ?? {};
  }
  const body: Record<string, unknown> = {
    type: `${PROBLEM_BASE}${slug(title)}`,
    title,
    status,
    detail,
    instance,
  };
  if (errors.length > 0) body.errors = errors;
  return { status, body, headers };
}

function domainProblem(err: unknown, statusMaps: readonly ErrorStatusMap[]): DomainProblem | undefined {
  for (const map of statusMaps) {
    const problem = map.problemOf(err);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  // A MariaDB shutting down refuses new sessions and kills the running ones with these.
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
]);

/** The database being away is not the server's bug: 503 tells clients and gateways to retry. */
function isDependencyDown(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; fatal?: unknown };
  // mysql2 marks fatal every error after which the connection is unusable. A transaction whose
  // connection died mid-way (the database stopped or crashed) fails with the ROLLBACK's error,
  // "Can't add new command when connection is in closed state", which has no code at all:
  // without this it was a 500.
  return (
    e?.name === 'KnexTimeoutError' ||
    e?.fatal === true ||
    (typeof e?.code === 'string' && CONNECTION_CODES.has(e.code))
  );
}

function isClientHttpError(
  err: unknown,
): err is { status: number; message: string; headers?: Record<string, string> } {
  const e = err as { status?: unknown; expose?: unknown };
  return typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The first middleware: gives the request an id (the caller's X-Request-Id if it is sane)
 * and turns every error below it into application/problem+json, the features' errors by
 * their `statusMaps`. Nothing else writes errors.
 */
export function errorMiddleware(
  logger: Logger,
  statusMaps: readonly ErrorStatusMap[],
): Middleware<RequestState> {
  return async (ctx, next) => {
    const given = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.logger = logger.child({ request_id: requestId });
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpProblem(404, 'Not Found', `No route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const problem = toProblem(err, ctx.path, statusMaps);
      if (problem.status >= 500) {
        ctx.state.logger.error('request failed', { error: err, method: ctx.method, path: ctx.path });
      }
      ctx.status = problem.status;
      ctx.set(problem.headers);
      ctx.type = 'application/problem+json';
      ctx.body = problem.body;
    }
  };
}

/**
 * Access log and request metrics, labelled by the matched route template to bound cardinality.
 * It runs inside errorMiddleware and sees errors before they become problems, so it needs the
 * same `statusMaps` to log and count the status the client gets.
 */
export function observeMiddleware(
  metrics: Metrics,
  statusMaps: readonly ErrorStatusMap[],
): Middleware<RequestState> {
  return async (ctx: Context, next: Next) => {
    const start = process.hrtime.bigint();
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } catch (err) {
      status = toProblem(err, ctx.path, statusMaps).status;
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : 'unmatched';
      const labels = { method: ctx.method, route, status: String(status) };
      metrics.httpRequestsTotal.inc(labels);
      metrics.httpRequestDuration.observe(labels, seconds);
      const log = (ctx.state as RequestState).logger;
      // Probes arrive every few seconds; at info they would drown the real traffic.
      const quiet = ctx.path.startsWith('/health');
      log[quiet ? 'debug' : 'info']('request', {
        method: ctx.method,
        path: ctx.path,
        route,
        status,
        duration_ms: Math.round(seconds * 1000 * 10) / 10,
      });
    }
  };
}
