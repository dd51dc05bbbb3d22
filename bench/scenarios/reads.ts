import type autocannon from 'autocannon';
import { ensureDataset } from '../data/loader';
import { AppStats, diffStats, flushBenchCache, startApp } from '../lib/app';
import {
  contentionNote,
  Context,
  cpuText,
  fmt,
  Scenario,
  ScenarioOutput,
  table,
  verdict,
} from '../lib/context';
import { RW_DATABASE, RW_MEMOS, RW_SEED } from '../lib/datasets';
import { load, LoadResult } from '../lib/load';
import { memorySamples } from '../lib/memory';
import { memoryOf, ServerChild, startServer } from '../lib/proc';
import { requireServices } from '../lib/services';

export const CONNECTIONS = 50;
export const HOT_IDS = 1000;

/** The same 1,000 memos for every read run, spread over the whole id range. */
export function hotIds(): number[] {
  return Array.from({ length: HOT_IDS }, (_, i) => 1 + ((i * 7919) % RW_MEMOS));
}

export function readRequests(ids: readonly number[]): autocannon.Request[] {
  let next = 0;
  return [
    {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/api/memos/${ids[next++ % ids.length]}` }),
    },
  ];
}

export async function warm(port: number, ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    const res = await fetch(`http://127.0.0.1:${port}/api/memos/${id}`);
    if (res.status !== 200)
      throw new Error(`GET /api/memos/${id} answered ${res.status}: the dataset is incomplete`);
    await res.arrayBuffer();
  }
}

/** A short unmeasured run first, so JIT and connection pools are warm for the measured one. */
async function measure(ctx: Context, server: ServerChild, ids: readonly number[]): Promise<LoadResult> {
  const url = `http://127.0.0.1:${server.port}`;
  await load({ url, connections: CONNECTIONS, duration: 2, requests: readRequests(ids) }, server.pid);
  return load(
    { url, connections: CONNECTIONS, duration: ctx.loadSeconds, requests: readRequests(ids) },
    server.pid,
  );
}

function row(name: string, r: LoadResult, extra: string[] = []): string[] {
  return [
    name,
    fmt(r.requestsPerSecond),
    fmt(r.latencyMs.p50, 1),
    fmt(r.latencyMs.p99, 1),
    fmt(r.non2xx + r.errors),
    ...extra,
  ];
}

async function sampleBody(port: number, id: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/memos/${id}`);
  return res.text();
}

export const cachedRead: Scenario = {
  id: 1,
  title: 'Cached read vs bare Koa ceiling',
  async run(ctx): Promise<ScenarioOutput> {
    await requireServices(['mariadb', 'redis']);
    const dataset = await ensureDataset(RW_DATABASE, RW_MEMOS, RW_SEED, ctx.log);
    await flushBenchCache();
    const ids = hotIds();
    const app = await startApp(ctx, { database: RW_DATABASE, cache: 'on' });
    let ceiling: ServerChild | undefined;
    const appRuns: LoadResult[] = [];
    const ceilingRuns: LoadResult[] = [];
    let stats: AppStats;
    try {
      await warm(app.port, ids);
      // The ceiling answers with the very JSON the service returns for a memo.
      const body = await sampleBody(app.port, ids[0]);
      ceiling = await startServer('ceiling-server.ts', {
        cpuProfDir: ctx.cpuProfDir,
        env: { BENCH_CEILING_BODY: body },
      });
      const rounds = ctx.quick ? 1 : 2;
      const before = await app.request<AppStats>('stats');
      for (let round = 0; round < rounds; round++) {
        // Interleaved, so a burst of other work on the machine hits both sides alike.
        ctx.log(`  round ${round + 1}/${rounds}: ceiling`);
        ceilingRuns.push(await measure(ctx, ceiling, ids));
        ctx.log(`  round ${round + 1}/${rounds}: memo service`);
        appRuns.push(await measure(ctx, app, ids));
      }
      stats = diffStats(await app.request<AppStats>('stats'), before);
      const mem = memoryOf(app.pid);
      memorySamples.push({ scenario: 1, process: 'memo service (cached reads)', ...mem });
      memorySamples.push({ scenario: 1, process: 'bare Koa ceiling', ...memoryOf(ceiling.pid) });
    } finally {
      await app.stop();
      await ceiling?.stop();
    }
    // The pair of one round, and of the round other processes disturbed least: comparing the
    // best of each side could pair a quiet service run with a disturbed ceiling run.
    const quietest = appRuns
      .map((run, i) => ({ i, other: Math.max(run.cpu.other, ceilingRuns[i].cpu.other) }))
      .sort((x, y) => x.other - y.other)[0].i;
    const a = appRuns[quietest];
    const c = ceilingRuns[quietest];
    const ratio = a.requestsPerSecond / c.requestsPerSecond;
    const queriesPerRead = stats.queries / Math.max(1, stats.cacheHits + stats.cacheMisses);
    const markdown = [
      `${CONNECTIONS} connections, ${ctx.loadSeconds} s per run after a 2 s warm-up, ${appRuns.length} interleaved round(s); the round with the least other load on the machine is the headline. ` +
        `${HOT_IDS} memos read in rotation from a ${fmt(dataset.memos)}-memo database, all cached before the run.`,
      '',
      table(
        ['round', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'other processes (cores)'],
        appRuns.flatMap((run, i) => [
          [
            `${i + 1}${i === quietest ? ' (headline)' : ''}`,
            ...row('bare Koa + @koa/router (ceiling)', ceilingRuns[i]),
            fmt(ceilingRuns[i].cpu.other, 2),
          ],
          [
            `${i + 1}${i === quietest ? ' (headline)' : ''}`,
            ...row('memo service `GET /api/memos/:id`', run),
            fmt(run.cpu.other, 2),
          ],
        ]),
      ),
      '',
      `- Ratio to the ceiling: **${fmt(ratio, 2)}** (target >= 0.6: ${verdict(ratio >= 0.6)}); ` +
        `p99 ${fmt(a.latencyMs.p99, 1)} ms (target <= 10 ms: ${verdict(a.latencyMs.p99 <= 10)}).`,
      `- Cache check: ${fmt(stats.cacheHits)} hits, ${fmt(stats.cacheMisses)} misses, ${fmt(stats.queries)} SQL statements while the runs (warm-ups included) read ` +
        `(${fmt(queriesPerRead, 3)} per read).`,
      `- CPU during the headline service run: ${cpuText(a.cpu)}.`,
      `- CPU during the headline ceiling run: ${cpuText(c.cpu)}.`,
      ...contentionNote(a.cpu, c.cpu),
    ].join('\n');
    return {
      data: {
        dataset,
        connections: CONNECTIONS,
        ceiling: c,
        service: a,
        ratio,
        ceilingRuns,
        serviceRuns: appRuns,
        stats,
      },
      headlines: [
        {
          measure: `cached \`GET /api/memos/:id\`, ${CONNECTIONS} connections: throughput`,
          figure: `${fmt(a.requestsPerSecond)} req/s`,
          baseline: `bare Koa route ${fmt(c.requestsPerSecond)} req/s`,
          ratio: fmt(ratio, 2),
          target: '>= 0.6 of ceiling',
          met: ratio >= 0.6,
        },
        {
          measure: 'cached read: latency',
          figure: `p50 ${fmt(a.latencyMs.p50, 1)} ms, p99 ${fmt(a.latencyMs.p99, 1)} ms`,
          baseline: `bare Koa route p50 ${fmt(c.latencyMs.p50, 1)} ms, p99 ${fmt(c.latencyMs.p99, 1)} ms`,
          ratio: fmt(a.latencyMs.p99 / c.latencyMs.p99, 2),
          target: 'p99 <= 10 ms',
          met: a.latencyMs.p99 <= 10,
        },
      ],
      markdown,
    };
  },
};

export const uncachedRead: Scenario = {
  id: 2,
  title: 'Uncached vs cached read',
  async run(ctx): Promise<ScenarioOutput> {
    await requireServices(['mariadb', 'redis']);
    const dataset = await ensureDataset(RW_DATABASE, RW_MEMOS, RW_SEED, ctx.log);
    await flushBenchCache();
    const ids = hotIds();
    const results: Record<'on' | 'off', { run: LoadResult; stats: AppStats }> = {} as never;
    for (const cache of ['on', 'off'] as const) {
      ctx.log(`  cache ${cache}`);
      const app = await startApp(ctx, { database: RW_DATABASE, cache });
      try {
        await warm(app.port, ids);
        const before = await app.request<AppStats>('stats');
        const run = await measure(ctx, app, ids);
        // The warm-up run is inside the counter window too: count it with the measured requests.
        const stats = diffStats(await app.request<AppStats>('stats'), before);
        results[cache] = { run, stats };
      } finally {
        await app.stop();
      }
    }
    const perRead = (r: { stats: AppStats }): number =>
      r.stats.queries / Math.max(1, r.stats.cacheHits + r.stats.cacheMisses);
    const on = results.on;
    const off = results.off;
    const markdown = [
      `Same ${HOT_IDS} memos, ${CONNECTIONS} connections, ${ctx.loadSeconds} s. Cache off = \`CACHE_TTL_SECONDS=0\`, the service's own switch ` +
        "(every read from MariaDB, no Redis command for memos). SQL statements are counted by the service's own knex (`query` events), " +
        "so other databases' traffic on the shared server is not counted.",
      '',
      table(
        ['cache', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'SQL statements per read'],
        [
          row('on (Redis)', on.run, [fmt(perRead(on), 3)]),
          row('off (MariaDB only)', off.run, [fmt(perRead(off), 2)]),
        ],
      ),
      '',
      `- Cached / uncached throughput: **${fmt(on.run.requestsPerSecond / off.run.requestsPerSecond, 2)}x**; ` +
        `an uncached read costs ${fmt(perRead(off), 2)} statements (the memo row, then its tags).`,
      `- CPU, cache on: ${cpuText(on.run.cpu)}.`,
      `- CPU, cache off: ${cpuText(off.run.cpu)}.`,
      ...contentionNote(on.run.cpu, off.run.cpu),
    ].join('\n');
    return {
      headlines: [
        {
          measure: 'uncached read (cache off), same memos',
          figure: `${fmt(off.run.requestsPerSecond)} req/s, p99 ${fmt(off.run.latencyMs.p99, 1)} ms, ${fmt(perRead(off), 2)} SQL/read`,
          baseline: `cached ${fmt(on.run.requestsPerSecond)} req/s, ${fmt(perRead(on), 3)} SQL/read`,
          ratio: fmt(off.run.requestsPerSecond / on.run.requestsPerSecond, 2),
          target: '-',
        },
      ],
      data: {
        dataset,
        cacheOffMethod: 'CACHE_TTL_SECONDS=0',
        cached: { ...on, queriesPerRead: perRead(on) },
        uncached: { ...off, queriesPerRead: perRead(off) },
      },
      markdown,
    };
  },
};
