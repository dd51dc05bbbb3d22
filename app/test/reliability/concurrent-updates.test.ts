import { call, CallResult, reportFigures, startLoad, summarize } from '../support/load';
import { createScratchRedis, ScratchRedis } from '../support/scratch-redis';
import {
  exitWithin,
  killServerProcesses,
  ServerProcess,
  startServerProcess,
} from '../support/server-process';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * Many clients increment a counter kept in one memo's content, read-modify-write over real HTTP
 * with If-Match, against two real server processes sharing the database and Redis (the cache
 * is on, so a read may come from either instance's cache fill or write-through). Optimistic
 * locking must turn every race into a 412 and a retry: then the counter equals the number of
 * acknowledged updates, and so does the version (minus the 1 a memo is created with).
 */

const CLIENTS = 20;
/** The load stops at this many acknowledged updates, or after MAX_DURATION_MS. */
const TARGET_UPDATES = 80;
const MAX_DURATION_MS = 25_000;
/** Fewer acknowledged updates than this would not show much (a very busy machine). */
const MIN_UPDATES = 10;
const START_TIMEOUT_MS = 20_000;

interface MemoBody {
  readonly id: number;
  readonly title: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly priority: number;
  readonly category: string | null;
  readonly author: string | null;
  readonly version: number;
}

interface Ack {
  readonly client: number;
  readonly method: 'PATCH' | 'PUT';
  /** The version named in If-Match. */
  readonly expected: number;
  /** The version the 200 reported (ETag and body). */
  readonly etag: number;
  readonly bodyVersion: number;
  readonly counter: number;
  readonly bodyContent: string;
}

const etagVersion = (r: CallResult): number =>
  Number(/^"(\d+)"$/.exec(r.headers?.get('etag') ?? '')?.[1] ?? NaN);
const counterOf = (content: string): number => Number(/^counter=(\d+)$/.exec(content)?.[1] ?? NaN);

describeWithServices('concurrent updates of one memo with If-Match', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let redis: ScratchRedis | undefined;
  let instances: ServerProcess[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('concurrent_updates');
    // Its own Redis: the instances use the bare memo:{id} keys, which other suites' servers
    // (and earlier runs of this one, for 300 s) also write.
    redis = await createScratchRedis();
    instances = await Promise.all(
      ['A', 'B'].map((name) =>
        startServerProcess({
          name,
          dbName: testDb.name,
          redisPort: redis?.port,
          env: { SHUTDOWN_DELAY_MS: '0', CACHE_TTL_SECONDS: '300' },
          startTimeoutMs: START_TIMEOUT_MS,
          readyWhen: 'listening-log',
        }),
      ),
    );
  }, 40_000);

  afterAll(async () => {
    await killServerProcesses();
    await redis?.stop();
    await testDb?.drop();
  }, 30_000);

  it('when 20 clients update one memo at once with If-Match and retry on 412, then no update is lost: the counter and the version count every acknowledged update exactly once', async () => {
    const [a, b] = instances;
    const created = await call(a.baseUrl, 'POST', '/api/memos', {
      body: { title: 'contended counter', content: 'counter=0', tags: ['contended'], priority: 2 },
    });
    expect(created.status).toBe(201);
    const id = (created.body as MemoBody).id;
    // Versions start at 1 on creation; each update adds one.
    expect(etagVersion(created)).toBe(1);

    const acks: Ack[] = [];
    const anomalies: string[] = [];
    let highestAcked = 1;
    let staleReads = 0;
    let conflicts = 0;

    const load = startLoad({
      workers: CLIENTS,
      maxDurationMs: MAX_DURATION_MS,
      step: async (client, _i, record) => {
        if (acks.length >= TARGET_UPDATES) {
          // Enough: idle until the test stops the load (a bare return would spin the loop).
          await new Promise((r) => setTimeout(r, 20));
          return;
        }
        // Half the clients go through each instance, so their caches and fills interleave.
        const base = (client % 2 === 0 ? a : b).baseUrl;
        const knownBefore = highestAcked;
        const read = await record('read', () => call(base, 'GET', `/api/memos/${id}`));
        if (read.status !== 200) return;
        const memo = read.body as MemoBody;
        if (etagVersion(read) !== memo.version) {
          anomalies.push(`read: ETag ${read.headers?.get('etag')} but body version ${memo.version}`);
        }
        // A version older than one already acknowledged when the read began: a stale cache entry.
        if (memo.version < knownBefore) staleReads++;
        const counter = counterOf(memo.content);
        const content = `counter=${counter + 1}`;
        // Half the clients on each instance replace the whole memo (PUT), half patch the content.
        const method = client % 4 < 2 ? 'PATCH' : 'PUT';
        const body =
          method === 'PATCH'
            ? { content }
            : {
                title: memo.title,
                content,
                tags: memo.tags,
                priority: memo.priority,
                category: memo.category,
                author: memo.author,
              };
        const written = await record(method === 'PATCH' ? 'patch' : 'put', () =>
          call(base, method, `/api/memos/${id}`, {
            body,
            headers: { 'If-Match': read.headers?.get('etag') ?? '' },
          }),
        );
        if (written.status === 412) {
          conflicts++;
          return;
        }
        if (written.status !== 200) return;
        const answer = written.body as MemoBody;
        acks.push({
          client,
          method,
          expected: memo.version,
          etag: etagVersion(written),
          bodyVersion: answer.version,
          counter: counter + 1,
          bodyContent: answer.content,
        });
        highestAcked = Math.max(highestAcked, answer.version);
      },
    });

    const deadline = Date.now() + MAX_DURATION_MS;
    while (acks.length < TARGET_UPDATES && Date.now() < deadline && load.samples.length < 20_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const samples = await load.stop();

    const row = (await testDb.db('memos').where({ id }).first('content', 'version')) as {
      content: string;
      version: number;
    };
    // What each instance answers once the writes have stopped (cache or database).
    const finalReads = await Promise.all(instances.map((i) => call(i.baseUrl, 'GET', `/api/memos/${id}`)));
    const successes = acks.length;
    const ackedVersions = acks.map((k) => k.etag).sort((x, y) => x - y);
    const duplicates = ackedVersions.filter((v, i) => i > 0 && v === ackedVersions[i - 1]);
    const errors = samples.filter((s) => s.status === 0 || s.status >= 500);
    const unexpected = samples.filter((s) => s.status !== 200 && s.status !== 412);
    for (const k of acks) {
      if (k.etag !== k.expected + 1 || k.bodyVersion !== k.etag) {
        anomalies.push(
          `${k.method} by ${k.client}: If-Match ${k.expected}, ETag ${k.etag}, body ${k.bodyVersion}`,
        );
      }
      if (k.bodyContent !== `counter=${k.counter}`) {
        anomalies.push(`${k.method} by ${k.client}: sent counter=${k.counter}, answer ${k.bodyContent}`);
      }
    }
    const summary = summarize(samples);

    reportFigures('concurrent-if-match', {
      clients: CLIENTS,
      instances: instances.length,
      requests: summary.requests,
      byStatus: summary.byStatus,
      successfulUpdates: successes,
      puts: acks.filter((k) => k.method === 'PUT').length,
      conflicts412: conflicts,
      // Reads answered with an older version than one already acknowledged: a cache entry the
      // write-through could not replace (Redis timing out on a busy machine) or a shared
      // in-flight load that began before the commit. If-Match turns each into a 412, not a loss.
      staleReads,
      redisFailureLogs: instances.reduce(
        (n, i) => n + (i.output().match(/redis command failed/g) ?? []).length,
        0,
      ),
      finalCounter: counterOf(row.content),
      finalVersion: row.version,
      versionAtCreation: 1,
      duplicateAcks: duplicates.length,
      finalReadVersions: finalReads.map((r) => (r.body as MemoBody | undefined)?.version ?? r.status),
      p50Ms: summary.p50Ms,
      p99Ms: summary.p99Ms,
    });

    expect(errors.map((s) => `${s.op} ${s.status} ${s.error ?? ''}`)).toEqual([]);
    expect(unexpected.map((s) => `${s.op} ${s.status}`)).toEqual([]);
    expect(anomalies).toEqual([]);
    expect(successes).toBeGreaterThanOrEqual(MIN_UPDATES);
    // Real contention: some writers lost a race and had to re-read.
    expect(conflicts).toBeGreaterThan(0);
    // No lost update: every acknowledged increment is in the counter, exactly once.
    expect(counterOf(row.content)).toBe(successes);
    expect(row.version).toBe(1 + successes);
    // Each version from 2 to 1 + successes acknowledged exactly once.
    expect(duplicates).toEqual([]);
    expect(ackedVersions).toEqual(Array.from({ length: successes }, (_, i) => i + 2));

    const exits = await Promise.all(
      instances.map((i) => {
        i.terminate();
        return exitWithin(i, 15_000);
      }),
    );
    expect(exits).toEqual([0, 0]);
  }, 60_000);
});
