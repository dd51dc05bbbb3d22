import type { Knex } from 'knex';
import { createMemoCache } from '../app/src/memos/cache';
import { createDb, isStatementTimeout } from '../app/src/db';
import { silentLogger } from '../app/src/logger';
import { createOutboxEvents } from '../app/src/memos/events';
import { createMemoService } from '../app/src/memos/service';
import { createMetrics } from '../app/src/metrics';
import { MemoError } from '../app/src/memos/errors';
import { createMemoRepository, SEARCH_MAX_ROWS_EXAMINED } from '../app/src/memos/repository';
import { LIMITS, parseListQuery } from '../app/src/memos/schema';
import { tokenize } from '../app/src/search/tokenizer';
import { ENGLISH_WORDS, generateMemo } from './data/generator';
import { dbConfig, freshDatabase, withAdmin } from './lib/services';

/*
 * The search and index limits of issue 13, before and after, on a scratch database of a few
 * thousand generated memos: npm run -s bench:limits [-- memos]. "Before" runs the same planner
 * with no term cap and no rows-examined bound (what the service did until these limits);
 * "after" goes through the API's parsing and the bounded statement, and reports what the
 * client gets. Each figure is the median of five runs after one warm-up. Prints a Markdown table.
 */

const MEMOS = Number(process.argv[2] ?? 5000);
const RUNS = 5;
const DATABASE = `memo_bench_limits_${MEMOS}`;

/** Every memo gets one of two marker words by parity: each is in half the memos, never both. */
const marker = (id: number): string => (id % 2 === 0 ? 'evenmarker' : 'oddmarker');

async function load(db: Knex): Promise<void> {
  const repo = createMemoRepository(db);
  const now = new Date();
  for (let start = 1; start <= MEMOS; start += 250) {
    await db.transaction(async (trx) => {
      for (let id = start; id < Math.min(start + 250, MEMOS + 1); id++) {
        const m = generateMemo(42, id);
        await repo.insert(
          trx,
          {
            title: m.title,
            content: `${m.content} ${marker(id)}`,
            tags: m.tags,
            priority: m.priority,
            category: m.category,
            author: m.author,
          },
          now,
        );
      }
    });
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(fn: () => Promise<string>): Promise<{ ms: number; outcome: string }> {
  await fn().catch(() => undefined);
  const times: number[] = [];
  let outcome = '';
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    try {
      outcome = await fn();
    } catch (err) {
      if (err instanceof MemoError) outcome = `${err.kind} (${err.kind === 'validation' ? 400 : 422})`;
      else if (isStatementTimeout(err)) outcome = 'statement timeout (503)';
      else throw err;
    }
    times.push(performance.now() - start);
  }
  return { ms: median(times), outcome };
}

async function main(): Promise<void> {
  await freshDatabase(DATABASE);
  const db = createDb(dbConfig(DATABASE, 2));
  try {
    const loadStart = performance.now();
    await load(db);
    const [[{ postings }]] = (await db.raw('SELECT COUNT(*) AS postings FROM memo_tokens')) as [
      [{ postings: number }],
    ];
    process.stdout.write(
      `loaded ${MEMOS} memos, ${postings} postings in ${Math.round(performance.now() - loadStart)} ms\n\n`,
    );
    await db.raw('ANALYZE TABLE memos, memo_tokens, memo_tags');
    const repo = createMemoRepository(db);
    // The example: 67 distinct two-letter prefixes (200 characters), taken from the
    // words the generator writes, so each is common and together they occur nowhere.
    const prefixes = [...new Set(ENGLISH_WORDS.filter((w) => w.length >= 2).map((w) => w.slice(0, 2)))];
    const twoLetter = prefixes.slice(0, 67);
    if (twoLetter.length < 67)
      throw new Error(`only ${twoLetter.length} two-letter prefixes in the vocabulary`);
    const cases: { name: string; q: string }[] = [
      {
        name: `67 words of 2-3 letters (${twoLetter.join(' ').length} characters)`,
        q: twoLetter.join(' ').slice(0, 200),
      },
      { name: 'two common words that never occur together', q: 'evenmarker oddmarker' },
      { name: '16 common prefixes (the most allowed)', q: twoLetter.slice(0, 16).join(' ') },
      { name: 'one common word', q: 'meeting' },
      { name: 'two common words together', q: 'the meeting' },
      { name: 'a rare word', q: 'ticket' },
    ];
    const rows: string[] = [`| query | before: time, result | after: time, result |`, `| --- | --- | --- |`];
    for (const c of cases) {
      const before = await timed(async () => {
        const page = await repo.list({ q: c.q, limit: 20 }, { rowsExamined: 1e12 });
        return `${page.length} rows`;
      });
      const after = await timed(async () => {
        const page = await repo.list(parseListQuery({ q: c.q }));
        return `${page.length} rows`;
      });
      rows.push(
        `| ${c.name} | ${before.ms.toFixed(1)} ms, ${before.outcome} | ${after.ms.toFixed(1)} ms, ${after.outcome} |`,
      );
    }
    process.stdout.write(`${rows.join('\n')}\n\n`);
    process.stdout.write(
      `limits: ${LIMITS.searchTerms} terms per query, ${SEARCH_MAX_ROWS_EXAMINED} rows examined per page, ${LIMITS.indexTermsPerMemo} index terms per memo\n`,
    );
    // The write: 64 KiB of Han characters, nearly every bigram distinct.
    const han = Array.from({ length: 21_800 }, (_, i) =>
      String.fromCodePoint(0x4e00 + ((i * 7919) % 20_992)),
    ).join('');
    const allowed = [...han].slice(0, LIMITS.indexTermsPerMemo - 1).join('');
    const service = createMemoService({
      db,
      cache: createMemoCache({
        redis: undefined as never,
        ttlSeconds: 0,
        logger: silentLogger,
        metrics: createMetrics(),
      }),
      events: createOutboxEvents(),
      logger: silentLogger,
    });
    const write = async (content: string, bounded: boolean): Promise<string> => {
      const input = { title: 'han', content, tags: [], priority: 2, category: null, author: null };
      if (bounded) return `${(await service.create(input)).id > 0 ? 'created' : ''}`;
      const id = await db.transaction((trx) => repo.insert(trx, input, new Date()));
      return `created ${id}`;
    };
    const rowsOf = (text: string): number => tokenize(`han\n${text}`).length;
    const writes: string[] = [
      `| POST | index rows | before: time, result | after: time, result |`,
      `| --- | --- | --- | --- |`,
    ];
    for (const [name, text] of [
      [`64 KiB of Han (${Buffer.byteLength(han)} bytes)`, han],
      [`${[...allowed].length} Han characters (the most allowed)`, allowed],
    ] as const) {
      const before = await timed(() => write(text, false));
      const after = await timed(() => write(text, true));
      writes.push(
        `| ${name} | ${rowsOf(text)} | ${before.ms.toFixed(1)} ms, ${before.outcome.replace(/ \d+$/, '')} | ${after.ms.toFixed(1)} ms, ${after.outcome} |`,
      );
    }
    process.stdout.write(`${writes.join('\n')}\n`);
  } finally {
    await db.destroy();
    await withAdmin((admin) => admin.raw(`DROP DATABASE IF EXISTS \`${DATABASE}\``));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
