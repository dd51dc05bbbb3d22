import { hash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { RedisGate } from '../redis';
import { addressBucket, clientAddress, proxyRanges } from './addresses';
import { HttpProblem } from './errors';

export interface RateLimitOptions {
  readonly redis: RedisGate;
  readonly perMinute: number;
  /** Budget of searches (GET with ?q=) per minute, counted besides the general one; 0: none of its own. */
  readonly searchPerMinute?: number;
  /** CIDR ranges of the proxies whose X-Forwarded-For is believed (TRUSTED_PROXY_CIDRS). */
  readonly trustedProxyCidrs?: readonly string[];
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly windowMs?: number;
}

/**
 * Who a request is counted against. An authenticated caller (a principal with a subject on
 * ctx.state, set by the authentication middleware when there is one) by subject: many users
 * behind one NAT keep their own budgets and one user cannot multiply theirs by changing address.
 * Anyone else by address (IPv6 by /64). The subject is hashed: it is the issuer's string, of any
 * length and alphabet.
 */
function rateLimitSubject(ctx: Context, trusted: (address: string) => boolean): string {
  const principal = (ctx.state as { principal?: { subject?: unknown; issuer?: unknown } }).principal;
  const subject = principal?.subject;
  if (typeof subject === 'string' && subject !== '') {
    const issuer = typeof principal?.issuer === 'string' ? principal.issuer : '';
    return `sub:${hash('sha256', `${issuer}\n${subject}`, 'base64url')}`;
  }
  const address = clientAddress(ctx.req.socket.remoteAddress, ctx.get('X-Forwarded-For'), trusted);
  return `ip:${addressBucket(address)}`;
}

const isSearch = (ctx: Context): boolean =>
  ctx.method === 'GET' && ctx.path === '/api/memos' && ctx.query.q !== undefined;

/**
 * Fixed windows in Redis (INCR + PEXPIRE in one MULTI), so all replicas share one count: the
 * general budget, and for searches (the costly reads) a stricter one of their own. It fails
 * open: when Redis is down or slow the request goes through, because refusing all traffic for
 * a cache outage would be worse than briefly not limiting it.
 */
export function rateLimit(options: RateLimitOptions): Middleware {
  const { redis, perMinute, metrics, logger } = options;
  const searchPerMinute = options.searchPerMinute ?? 0;
  const windowMs = options.windowMs ?? 60_000;
  const trusted = proxyRanges(options.trustedProxyCidrs ?? []);
  return async (ctx, next) => {
    const search = searchPerMinute > 0 && isSearch(ctx);
    if (perMinute === 0 && !search) return next();
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const resetSeconds = Math.ceil(((window + 1) * windowMs - now) / 1000);
    const who = rateLimitSubject(ctx, trusted);
    const key = `ratelimit:${who}:${window}`;
    const searchKey = `ratelimit:search:${who}:${window}`;
    let count = 0;
    let searches = 0;
    try {
      const result = await redis.run((r) => {
        const multi = r.multi().incr(key).pexpire(key, windowMs);
        if (search) multi.incr(searchKey).pexpire(searchKey, windowMs);
        return multi.exec();
      });
      count = Number(result?.[0]?.[1]);
      searches = search ? Number(result?.[2]?.[1]) : 0;
    } catch (err) {
      logger.debug('rate limit skipped: redis unavailable', { error: (err as Error).message });
      return next();
    }
    // The headers describe the budget that is closer to running out.
    const general = perMinute === 0 ? Infinity : perMinute - count;
    const searchLeft = search ? searchPerMinute - searches : Infinity;
    const [limit, remaining] = searchLeft < general ? [searchPerMinute, searchLeft] : [perMinute, general];
    ctx.set({
      'RateLimit-Limit': String(limit),
      'RateLimit-Remaining': String(Math.max(0, remaining)),
      'RateLimit-Reset': String(resetSeconds),
    });
    if (remaining < 0) {
      metrics.rateLimited.inc();
      const what = searchLeft < general ? 'searches' : 'requests';
      throw new HttpProblem(
        429,
        'Too Many Requests',
        `At most ${limit} ${what} per minute per client; retry in ${resetSeconds} s`,
        [],
        { 'Retry-After': String(resetSeconds) },
      );
    }
    return next();
  };
}
