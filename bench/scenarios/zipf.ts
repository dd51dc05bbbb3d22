import type autocannon from 'autocannon';
import { prng, Zipf } from '../data/generator';
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
import { requireServices } from '../lib/services';
import type { ServerChild } from '../lib/proc';

const CONNECTIONS = 50;
const WRITE_SHARE = 0.05;
const S = 0.99;

/**
 * GETs of Zipf(0.99)-ranked memos with 5 % PATCHes (priority change, which rewrites the memo,
 * its postings and an outbox row, and invalidates the cache entry after commit).
 */
function mixRequests(seed: number): autocannon.Request[] {
  const random = prng(seed);
  const zipf = new Zipf(RW_MEMOS, S);
  return [
    {
      setupRequest: (req): autocannon.Request => {
        const id = 1 + zipf.sample(random);
        if (random() < WRITE_SHARE) {
          return {
            ...req,
            method: 'PATCH',
            path: `/api/memos/${id}`,
            headers: { 'content-type': 'application/json', 'if-match': '*' },
            body: JSON.stringify({ priority: 1 + Math.floor(random() * 4) }),
          };
        }
        return { ...req, method: 'GET', path: `/api/memos/${id}`, headers: {}, body: undefined };
      },
    },
  ];
}

/**
 * Steady-state hit ratio of the service's cache under this mix at a given request rate: an
 * entry filled by a miss or written through by a write serves reads until a TTL passes with no
 * write, so per key hits per miss = reads/s x E[life], summed over keys weighted by their
 * share of the reads. A benchmark of seconds cannot reach the state a
 * service running for hours is in; this says where the measured figure is heading.
 */
export function modelledHitRatio(requestsPerSecond: number, ttlSeconds: number): number {
  let h = 0;
  let norm = 0;
  for (let k = 1; k <= RW_MEMOS; k++) norm += 1 / Math.pow(k, S);
  for (let k = 1; k <= RW_MEMOS; k++) {
    const p = 1 / Math.pow(k, S) / norm;
    const reads = requestsPerSecond * (1 - WRITE_SHARE) * p;
    const writes = requestsPerSecond * WRITE_SHARE * p;
    // Write-through: a write re-sets the entry and its TTL, so an entry lives until a TTL
    // passes without a write: E[life] = (e^(wT) - 1) / w for Poisson writes at rate w.
    const life =
      writes > 0 && Number.isFinite(ttlSeconds) ? Math.expm1(writes * ttlSeconds) / writes : ttlSeconds;
    const perMiss = reads * life;
    // A hot key's entry may outlive every horizon (life overflows): all its reads hit.
    h += p * (Number.isFinite(perMiss) ? perMiss / (1 + perMiss) : 1);
  }
  return h;
}

/** SQL statements one PATCH costs, measured alone, to subtract writes from the mixed count. */
async function statementsPerWrite(app: ServerChild): Promise<number> {
  const before = await app.request<AppStats>('stats');
  const n = 30;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${app.port}/api/memos/${RW_MEMOS - i}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': '*' },
      body: JSON.stringify({ priority: 1 + (i % 4) }),
    });
    if (res.status !== 200) throw new Error(`PATCH answered ${res.status}`);
    await res.arrayBuffer();
  }
  const after = await app.request<AppStats>('stats');
  // The GETs of reads are not involved; the 30 writes read their rows inside their transactions.
  return (after.queries - before.queries) / n;
}

interface MixResult {
  readonly warm: LoadResult;
  readonly warmHitRatio: number;
  readonly run: LoadResult;
  readonly stats: AppStats;
  readonly perWrite: number;
  readonly writes: number;
  readonly reads: number;
  readonly hitRatio: number;
  readonly readQueriesPerRead: number;
}

async function mix(ctx: Context, cache: 'on' | 'off'): Promise<MixResult> {
  await flushBenchCache();
  const app = await startApp(ctx, { database: RW_DATABASE, cache });
  try {
    const perWrite = await statementsPerWrite(app);
    const url = `http://127.0.0.1:${app.port}`;
    // The cache starts cold, and a cold start is not the steady state this scenario is about.
    const cold = await app.request<AppStats>('stats');
    const warm = await load(
      {
        url,
        connections: CONNECTIONS,
        duration: ctx.quick ? ctx.loadSeconds : 2 * ctx.loadSeconds,
        requests: mixRequests(1),
      },
      app.pid,
    );
    const before = await app.request<AppStats>('stats');
    const warmStats = diffStats(before, cold);
    const run = await load(
      { url, connections: CONNECTIONS, duration: ctx.loadSeconds, requests: mixRequests(2) },
      app.pid,
    );
    const stats = diffStats(await app.request<AppStats>('stats'), before);
    // Counted by the service, so requests still in flight when autocannon stopped count too.
    const reads = stats.cacheHits + stats.cacheMisses;
    const writes = stats.patches;
    return {
      warm,
      warmHitRatio: warmStats.cacheHits / Math.max(1, warmStats.cacheHits + warmStats.cacheMisses),
      run,
      stats,
      perWrite,
      writes,
      reads,
      hitRatio: stats.cacheHits / Math.max(1, reads),
      readQueriesPerRead: Math.max(0, stats.queries - writes * perWrite) / Math.max(1, reads),
    };
  } finally {
    await app.stop();
  }
}

export const zipfMix: Scenario = {
  id: 5,
  title: 'Zipf(0.99) read mix with 5 % writes: cache hit ratio',
  async run(ctx): Promise<ScenarioOutput> {
    await requireServices(['mariadb', 'redis']);
    const dataset = await ensureDataset(RW_DATABASE, RW_MEMOS, RW_SEED, ctx.log);
    ctx.log('  cache on');
    const on = await mix(ctx, 'on');
    ctx.log('  cache off');
    const off = await mix(ctx, 'off');
    const modelled = modelledHitRatio(on.run.requestsPerSecond, 300);
    const modelled5k = modelledHitRatio(5000, 300);
    const reduction = 1 - on.readQueriesPerRead / Math.max(1e-9, off.readQueriesPerRead);
    const r = (name: string, m: MixResult): string[] => [
      name,
      fmt(m.run.requestsPerSecond),
      fmt(m.run.latencyMs.p50, 1),
      fmt(m.run.latencyMs.p99, 1),
      `${fmt(m.hitRatio * 100, 1)} %`,
      fmt(m.readQueriesPerRead, 3),
      fmt(m.run.non2xx + m.run.errors),
    ];
    const markdown = [
      `${fmt(dataset.memos)} memos (\`${dataset.database}\`), ids drawn from Zipf(${S}), ${WRITE_SHARE * 100} % PATCH (If-Match: *), ` +
        `${CONNECTIONS} connections; a ${fmt(on.warm.seconds)} s warm-up run from an empty cache, then the measured ${ctx.loadSeconds} s run. ` +
        `Hits and misses from the service's own counters; SQL statements per read = (statements − writes × ${fmt(on.perWrite, 1)} per PATCH, measured alone) / reads.`,
      '',
      table(
        ['cache', 'req/s', 'p50 ms', 'p99 ms', 'hit ratio', 'SQL per read', 'errors'],
        [r('on', on), r('off (baseline)', off)],
      ),
      '',
      `- Hit ratio ${fmt(on.hitRatio * 100, 1)} % (target >= 95 %: ${verdict(on.hitRatio >= 0.95)}); ` +
        `database reads per GET cut by ${fmt(reduction * 100, 1)} % against the cache-off baseline (the seed quoted 80 %).`,
      `- Hit ratio of the warm-up run, from an empty cache: ${fmt(on.warmHitRatio * 100, 1)} %. The measured ratio still rises with run length: ` +
        `${fmt(on.run.requests)} requests touch only part of the 100,000 keys once. Modelled steady state of this mix with the service's ` +
        `300 s TTL at the measured ${fmt(on.run.requestsPerSecond)} req/s: ${fmt(modelled * 100, 1)} %; at 5,000 req/s: ${fmt(modelled5k * 100, 1)} %.`,
      '- Writes go through to the cache after commit (versioned write-through), so a write does not cost the next read a miss: ' +
        'the misses are cold keys and entries whose 300 s TTL ran out.',
      `- CPU, cache on: ${cpuText(on.run.cpu)}.`,
      `- CPU, cache off: ${cpuText(off.run.cpu)}.`,
      ...contentionNote(on.run.cpu, off.run.cpu),
    ].join('\n');
    return {
      headlines: [
        {
          measure: 'Zipf(0.99) mix, 100,000 memos, 5 % writes: cache hit ratio',
          figure: `${fmt(on.hitRatio * 100, 1)} % hits, ${fmt(on.readQueriesPerRead, 3)} SQL/read`,
          baseline: `cache off ${fmt(off.readQueriesPerRead, 2)} SQL/read`,
          ratio: `${fmt(reduction * 100, 1)} % fewer DB reads`,
          target: '>= 95 % hits',
          met: on.hitRatio >= 0.95,
        },
      ],
      data: {
        dataset,
        s: S,
        writeShare: WRITE_SHARE,
        cached: on,
        uncached: off,
        dbReadReduction: reduction,
        modelledHitRatio: modelled,
        modelledHitRatioAt5000: modelled5k,
      },
      markdown,
    };
  },
};
