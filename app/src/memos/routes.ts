import Router from '@koa/router';
import type { Context } from 'koa';
import type { Principal } from '../auth/principal';
import { readJsonBody } from '../http/body';
import type { Memo } from './repository';
import {
  ifNoneMatchHolds,
  parseId,
  parseIfMatch,
  parseListQuery,
  parseMemoInput,
  parseMemoPatch,
  parseTagQuery,
} from './schema';
import type { MemoService } from './service';

const etag = (memo: Memo): string => `"${memo.version}"`;
/** The verified caller the auth middleware left, if sign-in is on. */
const callerOf = (ctx: Context): Principal | undefined => (ctx.state as { principal?: Principal }).principal;

function sendMemo(ctx: Context, memo: Memo, status = 200): void {
  ctx.status = status;
  ctx.set('ETag', etag(memo));
  // Clients may keep a copy but must revalidate: the ETag makes that a cheap 304.
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = memo;
}

/** HTTP to service calls, nothing more: parsing in schema.ts, rules in service.ts. */
export function memoRoutes(service: MemoService): Router {
  const router = new Router({ prefix: '/api' });

  router.get('/memos', async (ctx) => {
    const page = await service.list(parseListQuery(ctx.query));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page;
  });

  router.post('/memos', async (ctx) => {
    const memo = await service.create(parseMemoInput(await readJsonBody(ctx)), callerOf(ctx));
    ctx.set('Location', `/api/memos/${memo.id}`);
    sendMemo(ctx, memo, 201);
  });

  router.get('/memos/:id', async (ctx) => {
    const id = parseId(ctx.params.id);
    const memo = await service.get(id);
    if (ifNoneMatchHolds(ctx.get('If-None-Match'), memo.version)) {
      ctx.status = 304;
      ctx.set('ETag', etag(memo));
      return;
    }
    sendMemo(ctx, memo);
  });

  router.put('/memos/:id', async (ctx) => {
    const id = parseId(ctx.params.id);
    const expected = parseIfMatch(ctx.get('If-Match'));
    const input = parseMemoInput(await readJsonBody(ctx));
    sendMemo(ctx, await service.replace(id, input, expected, callerOf(ctx)));
  });

  router.patch('/memos/:id', async (ctx) => {
    const id = parseId(ctx.params.id);
    const expected = parseIfMatch(ctx.get('If-Match'));
    const patch = parseMemoPatch(await readJsonBody(ctx));
    sendMemo(ctx, await service.patch(id, patch, expected, callerOf(ctx)));
  });

  router.delete('/memos/:id', async (ctx) => {
    const id = parseId(ctx.params.id);
    await service.remove(id, parseIfMatch(ctx.get('If-Match')), callerOf(ctx));
    ctx.status = 204;
  });

  router.get('/tags', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await service.tags(parseTagQuery(ctx.query));
  });

  return router;
}
