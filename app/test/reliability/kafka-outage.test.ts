import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildTestApp, TestApp } from '../support/app';
import {
  collectEvents,
  Collector,
  createTopic,
  describeWithKafka,
  freeBrokerPorts,
  PrivateBroker,
  readWithKcat,
  REPO_ROOT,
  testKafka,
  uniqueTopic,
} from '../support/kafka';
import { eventually, RunningRelay, startRelay } from '../support/kafka-fixtures';
import { call, CallResult, reportFigures, RunningLoad, Sample, startLoad, summarize } from '../support/load';
import { analyse, OutboxRow } from '../support/outbox-check';
import { createTestDatabase, TestDatabase } from '../support/services';

/*
 * The broker crashes (SIGKILL: no controlled shutdown, nothing flushed by Kafka itself) while
 * clients write memos over HTTP, stays dead for a while and comes back on its data. Every
 * committed change must reach the topic exactly as its outbox row recorded it; what an
 * at-least-once relay may add are duplicates of whole events, never a changed or unknown one.
 *
 * The config has no relay tuning variables, so the app (real Koa app, real HTTP on 127.0.0.1)
 * and the relay (as the composition root builds it, with the test's fast back-offs) run in
 * this process; the broker is a private one, so the shared broker on 9092 stays up.
 */

const WORKERS = 4;
/** Each worker pauses between writes: a steady load the two cores can carry beside a broker. */
const PAUSE_MS = 15;
/** The load stops by itself after this, whatever happens to the test. */
const LOAD_LIMIT_MS = 70_000;
/** Events published before the kill, so the relay is busy, not idle, when the broker dies. */
const PUBLISHED_BEFORE_KILL = 150;
/** How long clients keep writing against a dead broker before it is even restarted. */
const DEAD_FOR_MS = 4_000;
/** The relay's default batch size: a kill can make it resend at most the batch in flight. */
const RELAY_BATCH = 500;
const WRITE_OK = new Set([200, 201, 204]);

/** What clients were told: the memo's version after each acknowledged write. */
interface LedgerEntry {
  version: number;
  deleted: boolean;
}

/** A small deterministic generator per worker, so a failing run can be reasoned about. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The history a memo must have: created@1, one update per later version, then its deletion. */
function expectedHistory(finalVersion: number, deleted: boolean): string[] {
  const list = ['memo_created@1'];
  for (let v = 2; v <= finalVersion; v++) list.push(`memo_updated@${v}`);
  if (deleted) list.push(`memo_deleted@${finalVersion}`);
  return list;
}

/** Versions of a memo's first occurrences rise strictly until its deletion (which repeats the last). */
function strictlyIncreasing(history: readonly string[]): boolean {
  const versions = history.filter((h) => !h.startsWith('memo_deleted')).map((h) => Number(h.split('@')[1]));
  return versions.every((v, i) => i === 0 || v > versions[i - 1]);
}

describeWithKafka(
  'outbox relay (app/src/events) when the Kafka broker is killed under write load',
  ['mariadb', 'redis'],
  () => {
    let testDb: TestDatabase | undefined;
    let broker: PrivateBroker | undefined;
    let testApp: TestApp | undefined;
    let server: http.Server | undefined;
    let relay: RunningRelay | undefined;
    let load: RunningLoad | undefined;
    let consumer: Collector | undefined;

    beforeAll(async () => {
      const { port, controllerPort } = await freeBrokerPorts();
      broker = new PrivateBroker(
        port,
        controllerPort,
        path.join(REPO_ROOT, '.services/kafka', `test-killed-${process.pid}`),
      );
      // Kept as soon as it exists, so afterAll drops it even when the broker fails to start.
      await Promise.all([
        broker.startAsync(),
        createTestDatabase('kafka_killed').then((created) => (testDb = created)),
      ]);
    }, 120_000);

    afterAll(async () => {
      // Every step runs even when an earlier one (or the test) failed.
      const step = async (what: string, fn: () => Promise<unknown> | unknown): Promise<void> => {
        try {
          await fn();
        } catch (err) {
          console.warn(`cleanup: ${what} failed: ${String(err)}`);
        }
      };
      await step('load', () => load?.stop());
      await step('consumer', () => consumer?.stop());
      await step('relay', () => relay?.events.stop());
      await step('http server', () => {
        server?.closeAllConnections();
        return new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      });
      await step('app', () => testApp?.close());
      await step('broker', () => broker?.kill());
      await step('broker dir', () => broker && rmSync(broker.homeDir, { recursive: true, force: true }));
      await step('database', () => testDb?.drop());
    }, 60_000);

    it('when the broker is killed under write load and restarted on its data, then every committed change is published exactly as the outbox recorded it, with only whole-event duplicates', async () => {
      if (!testDb || !broker) throw new Error('beforeAll did not finish');
      const db = testDb.db;
      const brokers = broker.brokers;
      const topic = uniqueTopic('killed');
      await createTopic(brokers, topic, 3);
      relay = await startRelay(testDb, brokers, topic);
      const events = relay.events;
      testApp = await buildTestApp(testDb, { kafkaUp: () => events.isKafkaUp() });
      const httpServer = http.createServer(testApp.callback);
      server = httpServer;
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
      const baseUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

      const unpublished = async (): Promise<number> =>
        Number(((await db('outbox').whereNull('published_at').count({ n: '*' })) as { n: number }[])[0].n);
      const published = async (): Promise<number> =>
        Number(((await db('outbox').whereNotNull('published_at').count({ n: '*' })) as { n: number }[])[0].n);

      // Creates, updates (PATCH and PUT, with If-Match) and deletes; each worker owns its memos,
      // so no write fails on a version conflict and any failure is the outage's doing.
      const ledger = new Map<number, LedgerEntry>();
      const live: number[][] = Array.from({ length: WORKERS }, () => []);
      const rngs = Array.from({ length: WORKERS }, (_, w) => lcg(w + 1));
      const memoBody = (w: number, i: number, label: string): Record<string, unknown> => ({
        title: `${label} w${w} #${i} 메모`,
        content: `written by worker ${w} at iteration ${i}`,
        tags: ['outage', `w${w}`],
        priority: 1 + (i % 4),
        category: null,
        author: `worker-${w}`,
      });
      const accept = (result: CallResult): { id: number; version: number } | undefined =>
        WRITE_OK.has(result.status)
          ? (result.body as { id: number; version: number } | undefined)
          : undefined;

      load = startLoad({
        workers: WORKERS,
        pauseMs: PAUSE_MS,
        maxDurationMs: LOAD_LIMIT_MS,
        step: async (w, i, record) => {
          const mine = live[w];
          const r = rngs[w]();
          if (mine.length < 3 || r < 0.35) {
            const memo = accept(
              await record('create', () =>
                call(baseUrl, 'POST', '/api/memos', { body: memoBody(w, i, 'created') }),
              ),
            );
            if (memo) {
              mine.push(memo.id);
              ledger.set(memo.id, { version: memo.version, deleted: false });
            }
            return;
          }
          const index = Math.floor(rngs[w]() * mine.length);
          const id = mine[index];
          const entry = ledger.get(id) as LedgerEntry;
          const headers = { 'If-Match': `"${entry.version}"` };
          if (r < 0.85) {
            const replace = r < 0.5;
            const memo = accept(
              await record(replace ? 'put' : 'patch', () =>
                call(baseUrl, replace ? 'PUT' : 'PATCH', `/api/memos/${id}`, {
                  headers,
                  body: replace
                    ? memoBody(w, i, 'replaced')
                    : { title: `patched w${w} #${i}`, priority: 1 + (i % 4) },
                }),
              ),
            );
            if (memo) entry.version = memo.version;
            return;
          }
          const removed = await record('delete', () =>
            call(baseUrl, 'DELETE', `/api/memos/${id}`, { headers }),
          );
          if (WRITE_OK.has(removed.status)) {
            entry.deleted = true;
            mine.splice(index, 1);
          }
        },
      });
      const running = load;

      await eventually(
        'the relay publishing under load',
        published,
        (n) => n >= PUBLISHED_BEFORE_KILL,
        30_000,
      );
      const killedAt = running.now();
      const backlogAtKill = await unpublished();
      await broker.kill();

      // Clients keep writing against a dead broker: the outbox takes every change.
      await new Promise((r) => setTimeout(r, DEAD_FOR_MS));
      const backlogWhileDead = await unpublished();
      await broker.startAsync(true);
      const restartedAt = running.now();
      const samples: readonly Sample[] = await running.stop();
      load = undefined;

      await eventually('the outbox drained after the restart', unpublished, (n) => n === 0, 60_000);
      const drainedAt = running.now();

      const outbox = (await db('outbox')
        .select('id', 'event_id', 'aggregate_id', 'event_type', 'payload')
        .orderBy('id')) as OutboxRow[];
      const memos = new Map(
        ((await db('memos').select('id', 'version')) as { id: number; version: number }[]).map((m) => [
          Number(m.id),
          Number(m.version),
        ]),
      );

      // Read back with two clients that share no code: a fresh kafkajs group, then kcat.
      const admin = testKafka(brokers).admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
      const inTopic = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      consumer = await collectEvents(brokers, topic);
      const viaKafkajs = [...(await consumer.waitFor(inTopic, 60_000))];
      await consumer.stop();
      consumer = undefined;
      const viaKcat = readWithKcat(brokers, topic);

      const fromKafkajs = analyse(viaKafkajs, outbox);
      const fromKcat = analyse(viaKcat, outbox);
      const failed = samples.filter((s) => !WRITE_OK.has(s.status));
      const byOp: Record<string, number> = {};
      for (const s of samples) byOp[s.op] = (byOp[s.op] ?? 0) + 1;
      reportFigures('kafka-broker-killed', {
        writesSent: samples.length,
        writesAcknowledged: samples.length - failed.length,
        writesFailed: failed.length,
        writesByOp: byOp,
        writesWhileBrokerDown: samples.filter((s) => s.at >= killedAt && s.at < restartedAt).length,
        writeLatency: summarize(samples),
        outboxEvents: outbox.length,
        backlogAtKill,
        backlogWhileDead,
        messagesInTopic: inTopic,
        readByKafkajs: fromKafkajs.read,
        readByKcat: fromKcat.read,
        lost: { kafkajs: fromKafkajs.lost.length, kcat: fromKcat.lost.length },
        duplicates: { count: fromKcat.duplicates.length, eventIds: fromKcat.duplicates },
        outageMs: Math.round(restartedAt - killedAt),
        drainAfterRestartMs: Math.round(drainedAt - restartedAt),
        memos: ledger.size,
        memosDeleted: [...ledger.values()].filter((e) => e.deleted).length,
      });

      expect(failed.map((s) => `${s.op} ${s.status} ${s.error ?? ''}`)).toEqual([]);
      expect(samples.filter((s) => s.at >= killedAt && s.at < restartedAt).length).toBeGreaterThan(0);
      expect(backlogWhileDead).toBeGreaterThan(0);
      // One outbox row per acknowledged write, none for anything else.
      expect(outbox.length).toBe(samples.length);

      for (const [name, seen] of [
        ['kafkajs', fromKafkajs],
        ['kcat', fromKcat],
      ] as const) {
        expect({ client: name, lost: seen.lost, unknown: seen.unknown, altered: seen.altered }).toEqual({
          client: name,
          lost: [],
          unknown: [],
          altered: [],
        });
        expect({ client: name, wrongKey: seen.wrongKey, split: seen.split }).toEqual({
          client: name,
          wrongKey: [],
          split: [],
        });
        expect(seen.read).toBe(outbox.length + seen.duplicates.length);
        // At most the batch in flight when the broker died is sent again.
        expect(seen.duplicates.length).toBeLessThanOrEqual(RELAY_BATCH);
      }
      // Both clients read the same log.
      expect([...fromKafkajs.duplicates].sort()).toEqual([...fromKcat.duplicates].sort());
      expect(fromKafkajs.read).toBe(inTopic);

      // Against the memos table and what clients were told: each committed version, in order.
      const wrong: string[] = [];
      for (const [memo, entry] of ledger) {
        const inTable = memos.get(memo);
        if (entry.deleted ? inTable !== undefined : inTable !== entry.version) {
          wrong.push(
            `memo ${memo}: table has ${inTable ?? 'no row'}, clients were told v${entry.version}${entry.deleted ? ' deleted' : ''}`,
          );
          continue;
        }
        const expected = expectedHistory(entry.version, entry.deleted);
        for (const [name, seen] of [
          ['kafkajs', fromKafkajs],
          ['kcat', fromKcat],
        ] as const) {
          const history = seen.history.get(memo) ?? [];
          if (!strictlyIncreasing(history) || history.join() !== expected.join()) {
            wrong.push(`memo ${memo} via ${name}: got ${history.join(' ')}, expected ${expected.join(' ')}`);
          }
        }
      }
      expect(wrong.slice(0, 10)).toEqual([]);
      expect(memos.size).toBe([...ledger.values()].filter((e) => !e.deleted).length);

      expect(await events.isKafkaUp()).toBe(true);
    }, 150_000);
  },
);
