import type { Middleware } from 'koa';

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// Swagger UI needs its own scripts and styles (served from this origin) and inline styles.
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Headers every response carries; the API serves JSON only, so the policy forbids everything else. */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
      'Content-Security-Policy': ctx.path === '/docs' || ctx.path.startsWith('/docs/') ? DOCS_CSP : API_CSP,
    });
    await next();
  };
}

const ALLOWED_METHODS = 'GET,POST,PUT,PATCH,DELETE,OPTIONS';
const ALLOWED_HEADERS = 'Content-Type,If-Match,If-None-Match,X-Request-Id';
const EXPOSED_HEADERS =
  'ETag,Location,X-Request-Id,Retry-After,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset';

/**
 * CORS for the configured origins only; with none configured no CORS header is ever sent, so
 * browsers keep the same-origin policy. '*' allows any origin (still without credentials).
 */
export function cors(origins: readonly string[]): Middleware {
  const any = origins.includes('*');
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (origins.length > 0) ctx.vary('Origin');
    const allowed = origin !== '' && (any || origins.includes(origin));
    if (!allowed) {
      await next();
      return;
    }
    ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '') {
      ctx.set({
        'Access-Control-Allow-Methods': ALLOWED_METHODS,
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      ctx.status = 204;
      return;
    }
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    await next();
  };
}
