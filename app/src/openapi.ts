import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { DEFAULT_PRIORITY, LIMITS } from './memos/schema';
import { BODY_LIMIT_BYTES } from './http/body';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const json = (description: string, ref: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Memo id; anything but a positive integer is a 400',
  schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
};
const ifMatch = (required: boolean) => ({
  name: 'If-Match',
  in: 'header',
  required,
  description:
    (required
      ? 'ETag of the version being changed ("3"), a list of ETags, or * (any current version). Missing: 428. '
      : 'Optional: ETags or *. ') +
    'Strong comparison (RFC 9110 13.1.1): a weak or non-matching tag is 412; only a malformed header is 400.',
  schema: { type: 'string', example: '"3"' },
});
const etagHeader = { ETag: { description: 'The memo version, quoted', schema: { type: 'string' } } };
const common = {
  '400': problem('Invalid input; `errors` names each field'),
  '429': {
    ...problem('Rate limit exceeded'),
    headers: {
      'Retry-After': { description: 'Seconds until the window resets', schema: { type: 'integer' } },
    },
  },
  '500': problem('Unexpected server error'),
  '503': {
    ...problem('The database is unreachable, or a statement ran past DB_STATEMENT_TIMEOUT_MS'),
    headers: {
      'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
    },
  },
};
const write = {
  '413': problem(`Body larger than ${BODY_LIMIT_BYTES} bytes`),
  '415': problem('Content-Type is not application/json'),
  '422': problem(`Title and content yield more than ${LIMITS.indexTermsPerMemo} distinct search terms`),
};
/** With sign-in on (OIDC_ISSUER_URL), every write needs a bearer token; without it, none does. */
const signedIn = { security: [{ bearerAuth: [] }] };
/** Reads are public unless AUTH_REQUIRED_FOR_READS is on; `{}` says "no credentials" is allowed. */
const signInOptional = { security: [{}, { bearerAuth: [] }] };
const challenge = {
  'WWW-Authenticate': {
    description:
      'RFC 6750 challenge, e.g. `Bearer realm="memo-api", error="invalid_token", error_description="..."`',
    schema: { type: 'string' },
  },
};
const unauthorized = {
  '401': {
    ...problem('Token missing, expired, for another audience or issuer, or badly signed'),
    headers: challenge,
  },
  '503': problem("The issuer's signing keys could not be loaded yet; retry (Retry-After)"),
};
const forbidden = {
  '403': problem(
    'The memo belongs to another user (or to nobody: written before sign-in); only its owner or an admin may change it',
  ),
};

const memoFields = {
  title: { type: 'string', minLength: 1, maxLength: LIMITS.titleChars },
  content: { type: 'string', description: `At most ${LIMITS.contentBytes} bytes of UTF-8`, default: '' },
  tags: {
    type: 'array',
    maxItems: LIMITS.tags,
    items: { type: 'string', minLength: 1, maxLength: LIMITS.tagChars },
    default: [],
  },
  priority: { type: 'integer', minimum: 1, maximum: 4, default: DEFAULT_PRIORITY },
  category: { type: 'string', nullable: true, minLength: 1, maxLength: LIMITS.categoryChars },
  author: {
    type: 'string',
    nullable: true,
    minLength: 1,
    maxLength: LIMITS.authorChars,
    description: 'With sign-in on, set from the token (OIDC_NAME_CLAIM) and ignored in request bodies',
  },
};

/** OpenAPI 3.0 description of every route, kept beside the code it describes. */
export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'Memo API',
    version: '0.1.0',
    description:
      'Memos with tags, search (English words and prefixes, Korean substrings), optimistic locking ' +
      'with ETag/If-Match, keyset pagination. Errors are application/problem+json (RFC 9457).',
  },
  paths: {
    '/api/memos': {
      get: {
        summary: 'List and search memos (newest first)',
        parameters: [
          {
            name: 'q',
            in: 'query',
            schema: { type: 'string', maxLength: LIMITS.queryChars },
            description:
              'Search words (prefix match) and Korean/CJK substrings; all must match. At most ' +
              `${LIMITS.searchTerms} index terms (each word of 2+ letters is one, a CJK run up to 8): more is a 400.`,
          },
          { name: 'tag', in: 'query', schema: { type: 'string', maxLength: LIMITS.tagChars } },
          { name: 'priority', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 4 } },
          { name: 'category', in: 'query', schema: { type: 'string', maxLength: LIMITS.categoryChars } },
          { name: 'author', in: 'query', schema: { type: 'string', maxLength: LIMITS.authorChars } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: LIMITS.pageMax, default: LIMITS.pageDefault },
          },
          {
            name: 'cursor',
            in: 'query',
            schema: { type: 'string' },
            description: 'next_cursor of the previous page',
          },
        ],
        ...signInOptional,
        responses: {
          '200': json('A page of memos', 'MemoPage'),
          '422': problem('The search examined too many rows without completing a page: narrow it'),
          ...common,
        },
      },
      post: {
        summary: 'Create a memo',
        description:
          'With sign-in on, the memo belongs to the caller (`owner`) and `author` is the name in the token; an `author` in the body is ignored.',
        ...signedIn,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/MemoInput' } } },
        },
        responses: {
          '201': {
            ...json('Created', 'Memo'),
            headers: {
              ...etagHeader,
              Location: { description: 'URL of the memo', schema: { type: 'string' } },
            },
          },
          ...common,
          ...write,
          ...unauthorized,
        },
      },
    },
    '/api/memos/{id}': {
      parameters: [idParam],
      get: {
        summary: 'Read a memo',
        ...signInOptional,
        parameters: [
          {
            name: 'If-None-Match',
            in: 'header',
            description: 'ETags or *; weak comparison (RFC 9110 13.1.2). A malformed value is ignored.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': { ...json('The memo', 'Memo'), headers: etagHeader },
          '304': { description: 'Not modified (If-None-Match matched)' },
          '404': problem('No such memo'),
          ...common,
        },
      },
      put: {
        summary: 'Replace a memo',
        description: 'Only the owner or an admin. With sign-in on, `author` in the body is ignored.',
        ...signedIn,
        parameters: [ifMatch(true)],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/MemoInput' } } },
        },
        responses: {
          '200': { ...json('Replaced', 'Memo'), headers: etagHeader },
          '404': problem('No such memo'),
          '412': problem('If-Match names no current version'),
          '428': problem('If-Match missing'),
          ...common,
          ...write,
          ...unauthorized,
          ...forbidden,
        },
      },
      patch: {
        summary: 'Change some fields of a memo',
        description: 'Only the owner or an admin. With sign-in on, `author` in the body is ignored.',
        ...signedIn,
        parameters: [ifMatch(true)],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/MemoPatch' } } },
        },
        responses: {
          '200': { ...json('Changed', 'Memo'), headers: etagHeader },
          '404': problem('No such memo'),
          '412': problem('If-Match names no current version'),
          '428': problem('If-Match missing'),
          ...common,
          ...write,
          ...unauthorized,
          ...forbidden,
        },
      },
      delete: {
        summary: 'Delete a memo',
        description: 'Only the owner or an admin.',
        ...signedIn,
        parameters: [ifMatch(false)],
        responses: {
          '204': { description: 'Deleted' },
          '404': problem('No such memo'),
          '412': problem('If-Match names no current version'),
          ...common,
          ...unauthorized,
          ...forbidden,
        },
      },
    },
    '/api/tags': {
      get: {
        ...signInOptional,
        summary: 'Tags with the number of memos carrying each, in name order (counts cached up to 10 s)',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            schema: {
              type: 'integer',
              minimum: 1,
              maximum: LIMITS.tagPageMax,
              default: LIMITS.tagPageDefault,
            },
          },
          {
            name: 'cursor',
            in: 'query',
            schema: { type: 'string' },
            description: 'next_cursor of the previous page',
          },
        ],
        responses: { '200': json('A page of tag counts', 'TagList'), ...common },
      },
    },
    '/health': {
      get: {
        summary: 'Dependency status',
        responses: {
          '200': json('Healthy or degraded', 'Health'),
          '503': json('Database unreachable', 'Health'),
        },
      },
    },
    '/health/live': {
      get: { summary: 'Liveness', responses: { '200': { description: 'The process runs' } } },
    },
    '/health/ready': {
      get: {
        summary: 'Readiness',
        responses: {
          '200': {
            description:
              'Ready. With sign-in on, `auth_keys` says whether the issuer keys are loaded ("loaded" or "not loaded"); it does not decide readiness.',
          },
          '503': { description: 'Database down or shutting down' },
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.0 document' } } },
    },
    '/docs': {
      get: {
        summary: 'Swagger UI',
        responses: {
          '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'An access token from the OpenID Connect issuer the service is configured with (OIDC_ISSUER_URL), for the audience OIDC_AUDIENCE.',
      },
    },
    schemas: {
      MemoInput: { type: 'object', additionalProperties: false, required: ['title'], properties: memoFields },
      MemoPatch: { type: 'object', additionalProperties: false, minProperties: 1, properties: memoFields },
      Memo: {
        type: 'object',
        required: [
          'id',
          'title',
          'content',
          'tags',
          'priority',
          'category',
          'author',
          'owner',
          'version',
          'created_at',
          'updated_at',
        ],
        properties: {
          id: { type: 'integer' },
          ...memoFields,
          owner: {
            type: 'object',
            nullable: true,
            description: 'The signed-in creator; null for memos written while sign-in was off',
            required: ['sub', 'iss'],
            properties: {
              sub: { type: 'string', description: 'Subject (sub) of the token that created the memo' },
              iss: { type: 'string', description: 'Issuer (iss) of that token' },
            },
          },
          version: { type: 'integer', minimum: 1 },
          created_at: { type: 'string', format: 'date-time' },
          updated_at: { type: 'string', format: 'date-time' },
        },
      },
      MemoPage: {
        type: 'object',
        required: ['items', 'next_cursor'],
        properties: {
          items: { type: 'array', items: { $ref: '#/components/schemas/Memo' } },
          next_cursor: { type: 'string', nullable: true },
        },
      },
      TagList: {
        type: 'object',
        properties: {
          items: {
            type: 'array',
            items: { type: 'object', properties: { tag: { type: 'string' }, count: { type: 'integer' } } },
          },
          next_cursor: { type: 'string', nullable: true, description: 'null on the last page' },
        },
      },
      Health: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] },
          timestamp: { type: 'string', format: 'date-time' },
          services: {
            type: 'object',
            properties: {
              database: { type: 'string', enum: ['up', 'down'] },
              redis: { type: 'string', enum: ['up', 'down'] },
              kafka: { type: 'string', enum: ['up', 'down'] },
            },
          },
        },
      },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'instance'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          instance: { type: 'string' },
          errors: {
            type: 'array',
            items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
  },
} as const;

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Memo API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;
// A file rather than an inline script, so the CSP can stay script-src 'self'.
const DOCS_INIT = "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });\n";
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
};

/** /openapi.json and /docs, with Swagger UI's files served from the swagger-ui-dist package (no CDN). */
export function docsRoutes(): Router {
  const router = new Router();
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_HTML;
  });
  router.get('/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = DOCS_INIT;
  });
  router.get('/docs/:asset', (ctx) => {
    const type = ASSETS[ctx.params.asset];
    if (!type) return;
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = fs.createReadStream(path.join(dist, ctx.params.asset));
  });
  return router;
}
