import { DB_ACQUIRE_TIMEOUT_MS } from '../../src/db';
import { createMemoRepository } from '../../src/memos/repository';
import { LIMITS } from '../../src/memos/schema';
import { startLatencyProbe } from '../support/latency-probe';
import { call, reportFigures, Sample, startLoad, summarize } from '../support/load';
import { killServerProcesses, ServerProcess, startServerProcess } from '../support/server-process';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * The cheap takedown of issue 13, against one real server process: 50 clients at once send the
 * worst searches the API accepts (terms that never occur together, the most prefixes allowed),
 * the 67-term query it refuses, the largest memos it indexes and the 64 KiB Han memo it refuses,
 * and updates of a memo whose row another session keeps locked (statements that would wait
 * 50 s for InnoDB's lock timeout without the statement limit), while /health/ready is polled
 * and another client reads. Rate limiting is off: this is about
 * what the database and the pool do when the limiter is bypassed or shared by many clients.
 *
 * What must hold:
 *   - readiness stays 200 throughout (it has its own connection, src/server.ts);
 *   - no statement runs past DB_STATEMENT_TIMEOUT_MS + STATEMENT_MARGIN_MS (sampled from the
 *     server's process list), and no request past REQUEST_BOUND_MS: the pool wait
 *     (DB_ACQUIRE_TIMEOUT_MS), one statement limit, and a margin for two busy cores;
 *   - every answer is a deliberate one (2xx, 400, 422 or 503), never a 500 or a reset, and every
 *     update of the locked memo a 503 (with the limit off, its statements ran 11.8 s and more);
 *   - the other client's cached reads stay 200 with p99 under OTHER_READ_P99_MS, a bound loose
 *     enough for two cores shared with this load and below the 3 s pool wait a starved read would
 *     show (measured: p99 441 ms, README).
 * The other client (readiness, cached reads, lists) is a process of its own (support/latency-probe),
 * as it would be: timed from this process, the attack's own CPU work and the test runner's
 * garbage collection would count as the service's latency. The attack's bodies are built once,
 * before the load, for the same reason.
 */

const STATEMENT_LIMIT_MS = 1000;
const STATEMENT_MARGIN_MS = 500;
const REQUEST_BOUND_MS = DB_ACQUIRE_TIMEOUT_MS + STATEMENT_LIMIT_MS + 3000;
const OTHER_READ_P99_MS = 2000;
const ATTACKERS = 50;
const LOAD_MS = 12_000;
const SEED_MEMOS = 4000;

const WORDS = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar ' +
  'papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar dune ' +
  'ember fjord grove heath inlet jasper knoll lagoon marsh nectar'
).split(' ');

/** Han text of `chars` characters whose bigrams are (nearly) all distinct. */
const hanText = (chars: number, offset: number): string =>
  Array.from({ length: chars }, (_, i) =>
    String.fromCodePoint(0x4e00 + (((i + offset) * 7919) % 20_992)),
  ).join('');

describeWithServices('50 concurrent worst-case searches and large posts', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    testDb = await createTestDatabase('abuse_load');
    const repo = createMemoRepository(testDb.db);
    // Ten of forty words per memo, so every word is common and sixteen of them never meet,
    // plus one of two marker words by parity: each in half the memos, never both.
    for (let start = 0; start < SEED_MEMOS; start += 500) {
      await testDb.db.transaction(async (trx) => {
        for (let i = start; i < start + 500; i++) {
          const words = Array.from({ length: 10 }, (_, k) => WORDS[(i * 7 + k * 13) % WORDS.length]);
          const content = `${words.join(' ')} ${i % 2 === 0 ? 'evenmarker' : 'oddmarker'}`;
          const input = {
            title: `seed ${i}`,
            content,
            tags: [`t${i % 30}`],
            priority: 2,
            category: null,
            author: null,
          };
          await repo.insert(trx, input, new Date());
        }
      });
    }
    await testDb.db.raw('ANALYZE TABLE memos, memo_tokens, memo_tags');
    server = await startServerProcess({
      name: 'abuse',
      dbName: testDb.name,
      env: {
        LOG_LEVEL: 'warn',
        DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_LIMIT_MS),
        RATE_LIMIT_PER_MINUTE: '0',
        RATE_LIMIT_SEARCH_PER_MINUTE: '0',
        CACHE_KEY_PREFIX: `memo-test:${testDb.name}`,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await killServerProcesses();
    await testDb?.drop();
  }, 30_000);

  it('when they run for 12 s, then readiness stays 200, no statement or request outlives its bound, and another client keeps reading', async () => {
    const base = server.baseUrl;
    const known = await call(base, 'POST', '/api/memos', { body: { title: 'read by the other client' } });
    expect(known.status).toBe(201);
    const knownId = (known.body as { id: number }).id;
    // In the cache before the load begins: the other client's reads are then Redis hits, and
    // what they measure is how the busy process and the pool treat a read that needs neither.
    for (let i = 0; i < 2; i++) expect((await call(base, 'GET', `/api/memos/${knownId}`)).status).toBe(200);

    // Held for the whole load: every PATCH of this memo waits on the row lock until the
    // statement limit aborts it.
    const locked = await call(base, 'POST', '/api/memos', { body: { title: 'locked for the load' } });
    const lockedId = (locked.body as { id: number }).id;
    const holder = await testDb.db.transaction();
    await holder.raw('SELECT id FROM memos WHERE id = ? FOR UPDATE', [lockedId]);

    const never = 'evenmarker oddmarker';
    const sixteen = WORDS.slice(0, LIMITS.searchTerms)
      .map((w) => w.slice(0, 3))
      .join(' ');
    const refusedQuery = Array.from(
      { length: 67 },
      (_, i) => `${'abcdefghijklmnopqrstuvwxyz'[i % 26]}${'xyz'[i % 3]}`,
    ).join(' ');
    const BODY_VARIANTS = 16;
    const largestIndexable = Array.from({ length: BODY_VARIANTS }, (_, i) => ({
      title: 'h',
      content: hanText(LIMITS.indexTermsPerMemo - 1, i * 1000),
    }));
    const refusedHan = Array.from({ length: BODY_VARIANTS }, (_, i) => ({
      title: 'han',
      content: hanText(21_800, i),
    }));
    const other = startLatencyProbe({
      baseUrl: base,
      durationMs: LOAD_MS,
      targets: [
        { op: 'ready', path: '/health/ready', everyMs: 100 },
        { op: 'cached read', path: `/api/memos/${knownId}`, everyMs: 50 },
        { op: 'list', path: '/api/memos?limit=5', everyMs: 200 },
      ],
    });
    const attack = startLoad({
      workers: ATTACKERS,
      maxDurationMs: LOAD_MS + 20_000,
      step: async (worker, iteration, record) => {
        const kind = (worker + iteration) % 4;
        if (worker % 10 === 9) {
          await record('patch: row locked by another session', () =>
            call(base, 'PATCH', `/api/memos/${lockedId}`, {
              body: { priority: 3 },
              headers: { 'If-Match': '"1"' },
            }),
          );
        } else if (kind === 0) {
          await record('search: terms that never meet', () =>
            call(base, 'GET', `/api/memos?q=${encodeURIComponent(never)}`),
          );
        } else if (kind === 1) {
          await record('search: 16 common prefixes', () =>
            call(base, 'GET', `/api/memos?q=${encodeURIComponent(sixteen)}`),
          );
        } else if (kind === 2) {
          const body = largestIndexable[(worker + iteration) % BODY_VARIANTS];
          await record('post: largest indexable memo', () => call(base, 'POST', '/api/memos', { body }));
        } else if (iteration % 2 === 0) {
          await record('search: 67 terms (refused)', () =>
            call(base, 'GET', `/api/memos?q=${encodeURIComponent(refusedQuery)}`),
          );
        } else {
          await record('post: 64 KiB Han (refused)', () =>
            call(base, 'POST', '/api/memos', { body: refusedHan[worker % BODY_VARIANTS] }),
          );
        }
      },
    });

    let longestStatementMs = 0;
    let statementSamples = 0;
    let samples: readonly Sample[] = [];
    let probed: readonly Sample[] = [];
    try {
      const until = performance.now() + LOAD_MS;
      while (performance.now() < until) {
        const [[row]] = (await testDb.db.raw(
          `SELECT COALESCE(MAX(TIME_MS), 0) AS longest FROM information_schema.PROCESSLIST
            WHERE DB = ? AND COMMAND = 'Query' AND ID <> CONNECTION_ID()`,
          [testDb.name],
        )) as [[{ longest: number | string }]];
        longestStatementMs = Math.max(longestStatementMs, Number(row.longest));
        statementSamples++;
        await new Promise((r) => setTimeout(r, 100));
      }
      // The probe started a moment after the attack and polls for LOAD_MS of its own; the
      // attack runs on until it has reported.
      probed = await other.samples;
    } finally {
      other.kill();
      samples = await attack.stop();
      await holder.rollback();
    }
    const ready = probed.filter((s) => s.op === 'ready');
    const otherReads = probed.filter((s) => s.op === 'cached read');
    const otherLists = probed.filter((s) => s.op === 'list');

    const byOp = new Map<string, Sample[]>();
    for (const s of samples) byOp.set(s.op, [...(byOp.get(s.op) ?? []), s]);
    const figures: Record<string, unknown> = {
      statement_limit_ms: STATEMENT_LIMIT_MS,
      longest_statement_ms: Math.round(longestStatementMs),
      statement_samples: statementSamples,
      ready: summarize(ready),
      other_cached_reads: summarize(otherReads),
      other_list_reads: summarize(otherLists),
    };
    for (const [op, list] of byOp) figures[op] = summarize(list);
    reportFigures('abuse-load', figures);

    expect(ready.length).toBeGreaterThan(20);
    expect(ready.filter((s) => s.status !== 200)).toEqual([]);
    expect(statementSamples).toBeGreaterThan(20);
    expect(longestStatementMs).toBeLessThanOrEqual(STATEMENT_LIMIT_MS + STATEMENT_MARGIN_MS);
    expect(samples.length).toBeGreaterThan(ATTACKERS);
    const undeliberate = samples.filter((s) => ![200, 201, 400, 422, 503].includes(s.status));
    expect(undeliberate).toEqual([]);
    expect(samples.filter((s) => s.latencyMs > REQUEST_BOUND_MS)).toEqual([]);
    // Each kind answered as designed: the refusals refused, the accepted work done at least once.
    expect(byOp.get('search: 67 terms (refused)')?.every((s) => s.status === 400)).toBe(true);
    expect(byOp.get('post: 64 KiB Han (refused)')?.every((s) => s.status === 422)).toBe(true);
    expect(byOp.get('post: largest indexable memo')?.some((s) => s.status === 201)).toBe(true);
    expect(byOp.get('search: terms that never meet')?.some((s) => s.status === 200)).toBe(true);
    // Aborted at the statement limit (or, queued behind the pool, at its acquire timeout): 503.
    const blocked = byOp.get('patch: row locked by another session') ?? [];
    expect(blocked.length).toBeGreaterThan(5);
    expect(blocked.filter((s) => s.status !== 503)).toEqual([]);
    expect(otherReads.length).toBeGreaterThan(20);
    expect(otherReads.filter((s) => s.status !== 200)).toEqual([]);
    expect(summarize(otherReads).p99Ms).toBeLessThanOrEqual(OTHER_READ_P99_MS);
    expect(otherLists.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([]);
    expect(otherLists.filter((s) => s.latencyMs > REQUEST_BOUND_MS)).toEqual([]);
  }, 90_000);
});
