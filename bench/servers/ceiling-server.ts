import http from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { fail, serve } from './ipc';

/*
 * The ceiling of scenario 1: Koa 3 + @koa/router answering the same JSON a cached memo read
 * returns (the parent passes the body), with no middleware, no Redis and no database. What the
 * memo service adds on top (error handling, metrics, security headers, the Redis GET) is the
 * gap between the two figures.
 */
async function main(): Promise<void> {
  const memo: unknown = JSON.parse(process.env.BENCH_CEILING_BODY ?? '{}');
  const app = new Koa();
  const router = new Router();
  router.get('/api/memos/:id', (ctx) => {
    ctx.body = memo;
  });
  app.use(router.routes());
  const server = http.createServer(app.callback());
  await serve(server, {}, async () => undefined);
}

main().catch(fail);
