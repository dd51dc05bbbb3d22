import type { Knex } from 'knex';
import { createDb } from '../../app/src/db';
import { createMemoRepository } from '../../app/src/memos/repository';
import type { ListQuery } from '../../app/src/memos/schema';
import { planSearch, SearchPlan, tokenize } from '../../app/src/search/tokenizer';
import { ensureDataset } from '../data/loader';
import { fmt, Scenario, ScenarioOutput, table, verdict } from '../lib/context';
import { searchDatabase, SEARCH_SEED } from '../lib/datasets';
import { ms, summarize } from '../lib/load';
import { dbConfig, requireServices } from '../lib/services';

type Filters = Partial<Pick<ListQuery, 'priority' | 'category' | 'tag' | 'author'>>;
interface SearchCase {
  readonly q: string;
  readonly filters?: Filters;
}

/*
 * Queries of four kinds, each in two groups. Selective: rare words, ticket numbers, absent
 * words, rare pairs; few or no memos match, so a LIKE scan reads the whole table, which is
 * what a search is for. Common: words in a large share of the memos; a scan that may stop at
 * the 21st hit (newest first, LIMIT 21) finds them within the first few thousand rows.
 */
const KINDS: Record<
  string,
  { readonly selective: readonly SearchCase[]; readonly common: readonly SearchCase[] }
> = {
  'English word': {
    selective: [{ q: 'narwhal okapi' }, { q: '48213' }, { q: 'zeppelin' }],
    common: [{ q: 'deploy' }, { q: 'invoice' }, { q: 'release server' }],
  },
  'English prefix': {
    selective: [{ q: 'narwh okap' }, { q: '4821' }, { q: 'zeppel' }],
    common: [{ q: 'deplo' }, { q: 'kube' }, { q: 'perf' }],
  },
  'Korean substring': {
    selective: [{ q: '망원경을' }, { q: '빙하 협곡' }, { q: '회의록' }],
    common: [{ q: '데이터베이스' }, { q: '서버를' }, { q: '확인했습니다' }],
  },
  'search + filter': {
    selective: [
      { q: 'zeppelin', filters: { tag: 'finance' } },
      { q: '망원경', filters: { priority: 4, category: 'ops' } },
      { q: '4821', filters: { priority: 2 } },
    ],
    common: [
      { q: 'release', filters: { priority: 1 } },
      { q: '배포', filters: { priority: 4, category: 'ops' } },
      { q: 'invoice', filters: { tag: 'finance' } },
    ],
  },
};

const PAGE = 20;
const VERIFY_CANDIDATES = 500;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The seed's way: every word of the query as LIKE '%word%' on title or content, newest first. */
function scanQuery(db: Knex, c: SearchCase, limit: number): Knex.QueryBuilder {
  const q = db('memos').select('id', 'title', 'content', 'priority', 'category', 'author', 'version');
  for (const word of c.q.split(/\s+/).filter((w) => w !== '')) {
    const pattern = `%${escapeLike(word)}%`;
    q.where((w) => w.where('title', 'like', pattern).orWhere('content', 'like', pattern));
  }
  const f = c.filters ?? {};
  if (f.priority !== undefined) q.where('priority', f.priority);
  if (f.category !== undefined) q.where('category', f.category);
  if (f.author !== undefined) q.where('author', f.author);
  if (f.tag !== undefined) q.whereIn('id', db('memo_tags').select('memo_id').where('tag', f.tag));
  return q.orderBy('id', 'desc').limit(limit);
}

/** What the index promises, checked in JavaScript on rows the scan found (a superset). */
function matchesPlan(plan: SearchPlan, title: string, content: string): boolean {
  const tokens = tokenize(`${title}\n${content}`);
  for (const term of plan.terms) {
    const ok =
      term.kind === 'exact' ? tokens.includes(term.token) : tokens.some((t) => t.startsWith(term.prefix));
    if (!ok) return false;
  }
  const lt = title.normalize('NFKC').toLowerCase();
  const lc = content.normalize('NFKC').toLowerCase();
  return plan.substrings.every((s) => lt.includes(s) || lc.includes(s));
}

interface Verification {
  checked: number;
  agreed: number;
  inconclusive: number;
  mismatches: { q: string; filters?: Filters; index: number[]; expected: number[] }[];
}

export const search: Scenario = {
  id: 3,
  title: 'Search: inverted index vs LIKE scan',
  async run(ctx): Promise<ScenarioOutput> {
    await requireServices(['mariadb']);
    const memos = ctx.quick ? 100_000 : 1_000_000;
    const dataset = await ensureDataset(searchDatabase(memos), memos, SEARCH_SEED, ctx.log);
    const db = createDb(dbConfig(dataset.database, 2));
    const repo = createMemoRepository(db);
    const indexReps = ctx.quick ? 5 : 10;
    const scanReps = ctx.quick ? 2 : 1;
    const perKind: Record<string, unknown>[] = [];
    const rows: string[][] = [];
    const verification: Verification = { checked: 0, agreed: 0, inconclusive: 0, mismatches: [] };
    let allIndexP95 = 0;
    let minSpeedup = Infinity;
    try {
      const groups = Object.entries(KINDS).flatMap(([kind, g]) => [
        { kind, group: 'selective' as const, cases: g.selective },
        { kind, group: 'common' as const, cases: g.common },
      ]);
      for (const { kind, group, cases } of groups) {
        const indexSamples: number[] = [];
        const scanSamples: number[] = [];
        const perQuery: Record<string, unknown>[] = [];
        for (const c of cases) {
          const query: ListQuery = { q: c.q, limit: PAGE, ...c.filters };
          // First call untimed: the result is what the verification checks, and pages are loaded.
          const page = await repo.list(query);
          const times: number[] = [];
          for (let i = 0; i < indexReps; i++) {
            const t = process.hrtime.bigint();
            await repo.list(query);
            times.push(ms(t));
          }
          const scanTimes: number[] = [];
          for (let i = 0; i < scanReps; i++) {
            const t = process.hrtime.bigint();
            await scanQuery(db, c, PAGE + 1);
            scanTimes.push(ms(t));
          }
          indexSamples.push(...times);
          scanSamples.push(...scanTimes);
          // Verification: the scan's rows (a superset: LIKE also matches inside words) filtered
          // by the index's documented semantics must give exactly the index's first page.
          const candidates = (await scanQuery(db, c, VERIFY_CANDIDATES)) as {
            id: number;
            title: string;
            content: string;
          }[];
          const expected = candidates
            .filter((r) => matchesPlan(planSearch(c.q), r.title, r.content))
            .map((r) => Number(r.id));
          const got = page.slice(0, PAGE).map((m) => m.id);
          verification.checked++;
          if (expected.length < PAGE && candidates.length === VERIFY_CANDIDATES) {
            verification.inconclusive++;
          } else {
            const want = expected.slice(0, PAGE);
            if (want.length === got.length && want.every((id, i) => id === got[i])) {
              verification.agreed++;
            } else {
              verification.mismatches.push({ q: c.q, filters: c.filters, index: got, expected: want });
            }
          }
          const iq = summarize(times);
          const sq = summarize(scanTimes);
          if (group === 'selective') minSpeedup = Math.min(minSpeedup, sq.p50 / iq.p50);
          perQuery.push({
            ...c,
            group,
            results: got.length,
            matchingInFirst500: expected.length,
            indexMs: iq,
            scanMs: sq,
            speedup: sq.p50 / iq.p50,
          });
          ctx.log(
            `  ${kind} (${group}): "${c.q}"${c.filters ? ` ${JSON.stringify(c.filters)}` : ''} index p50 ${fmt(iq.p50, 1)} ms, scan ${fmt(sq.p50, 0)} ms, ${got.length} results`,
          );
        }
        const i = summarize(indexSamples);
        const s = summarize(scanSamples);
        allIndexP95 = Math.max(allIndexP95, i.p95);
        perKind.push({
          kind,
          group,
          index: i,
          scan: s,
          speedupP50: s.p50 / i.p50,
          speedupP95: s.p95 / i.p95,
          perQuery,
        });
        rows.push([
          `${kind}, ${group}`,
          fmt(i.p50, 1),
          fmt(i.p95, 1),
          fmt(s.p50, 0),
          fmt(s.p95, 0),
          `${fmt(s.p50 / i.p50, s.p50 / i.p50 < 10 ? 2 : 0)}x`,
          `${fmt(s.p95 / i.p95, s.p95 / i.p95 < 10 ? 2 : 0)}x`,
        ]);
      }
    } finally {
      await db.destroy();
    }
    const slowest = (
      perKind.flatMap((k) => k.perQuery as Record<string, unknown>[]) as {
        q: string;
        indexMs: { p95: number };
        speedup: number;
      }[]
    ).sort((a, b) => b.indexMs.p95 - a.indexMs.p95);
    const markdown = [
      `${fmt(dataset.memos)} memos (${fmt(dataset.postings)} postings in \`memo_tokens\`), database \`${dataset.database}\`; ` +
        (dataset.loadedNow
          ? `loaded in this run in ${fmt(dataset.loadSeconds, 1)} s`
          : `reused, loaded earlier (${dataset.loadedAt}) in ${fmt(dataset.loadSeconds, 1)} s`) +
        ` with multi-row INSERTs (2,000 memos per transaction, 2 connections, FK/unique checks off, the postings' primary and secondary keys built after the load by one sort), ` +
        "postings from the app's own `tokenize()`.",
      `Index = \`createMemoRepository(db).list({ q, limit: 20, ...filters })\` (the service's own SQL), ${indexReps} timed calls per query after one untimed; ` +
        `scan = \`LIKE '%word%'\` on title or content per word, same filters, newest first, \`LIMIT 21\`, ${scanReps} call(s) per query. ` +
        `One query at a time, 3 queries per group (listed in the JSON result and bench/scenarios/search.ts).`,
      '',
      table(
        [
          'kind, group',
          'index p50 ms',
          'index p95 ms',
          'scan p50 ms',
          'scan p95 ms',
          'speedup p50',
          'speedup p95',
        ],
        rows,
      ),
      '',
      `- Index p95 over all kinds: ${fmt(allIndexP95, 1)} ms (target <= 25 ms: ${verdict(allIndexP95 <= 25)}); ` +
        `smallest speedup of a selective query ${fmt(minSpeedup, 1)}x (target >= 50x: ${verdict(minSpeedup >= 50)}).`,
      `- Slowest index queries (p95): ${slowest
        .slice(0, 3)
        .map((q) => `"${q.q}" ${fmt(q.indexMs.p95, 1)} ms (${fmt(q.speedup, 1)}x)`)
        .join(', ')}.`,
      `- Verification: ${verification.agreed}/${verification.checked} first pages equal the scan's rows filtered by the index's ` +
        `semantics (word prefix, CJK substring), ${verification.inconclusive} inconclusive, ${verification.mismatches.length} mismatches` +
        (verification.mismatches.length > 0
          ? `: ${verification.mismatches.map((m) => `"${m.q}"`).join(', ')} (ids in the JSON result)`
          : '') +
        '.',
    ].join('\n');
    const sel = perKind.filter((k) => k.group === 'selective') as {
      index: { p95: number };
      scan: { p50: number };
    }[];
    const selIndexP95 = Math.max(...sel.map((k) => k.index.p95));
    return {
      data: { dataset, indexReps, scanReps, kinds: perKind, verification },
      headlines: [
        {
          measure: `search at ${fmt(dataset.memos)} memos, selective queries (4 kinds)`,
          figure: `index p95 <= ${fmt(selIndexP95, 1)} ms per kind`,
          baseline: `LIKE scan p50 ${sel.map((k) => fmt(k.scan.p50)).join(' / ')} ms`,
          ratio: `>= ${fmt(minSpeedup, 1)}x`,
          target: 'p95 <= 25 ms, >= 50x',
          met: selIndexP95 <= 25 && minSpeedup >= 50,
        },
        {
          measure: `search at ${fmt(dataset.memos)} memos, all queries incl. common words`,
          figure: `index p95 <= ${fmt(allIndexP95, 1)} ms per group`,
          baseline: 'LIKE scan stops at the 21st hit for common words',
          ratio: `${fmt(Math.min(...perKind.map((k) => k.speedupP50 as number)), 2)}x worst group (p50)`,
          target: 'p95 <= 25 ms',
          met: allIndexP95 <= 25,
        },
        {
          measure: 'search data load (multi-row INSERTs)',
          figure: `${fmt(dataset.loadSeconds, 0)} s for ${fmt(dataset.memos)} memos, ${fmt(dataset.postings)} postings${dataset.loadedNow ? '' : ' (earlier run, reused)'}`,
          baseline: '-',
          ratio: '-',
          target: '-',
        },
        {
          measure: 'search verification (index vs scan, filtered by index semantics)',
          figure: `${verification.agreed}/${verification.checked} agree, ${verification.mismatches.length} mismatches`,
          baseline: '-',
          ratio: '-',
          target: 'no mismatch',
          met: verification.mismatches.length === 0,
        },
      ],
      markdown,
    };
  },
};
