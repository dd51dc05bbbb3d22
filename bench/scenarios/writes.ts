import { randomUUID } from 'node:crypto';
import type autocannon from 'autocannon';
import type { Consumer, Kafka } from 'kafkajs';
import { createDb } from '../../app/src/db';
import { createIdempotentProducer, createKafka, ensureTopic } from '../../app/src/events/kafka';
import { silentLogger } from '../../app/src/logger';
import { buildMemoEvent } from '../../app/src/memos/events';
import { generateMemo } from '../data/generator';
import { AppStats, diffStats, startApp } from '../lib/app';
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
import { WRITES_DATABASE } from '../lib/datasets';
import { load, ms, summarize } from '../lib/load';
import { memorySamples } from '../lib/memory';
import { memoryOf, ServerChild, startCpuMeter } from '../lib/proc';
import { dbConfig, freshDatabase, requireServices, SERVICES } from '../lib/services';

const TOPIC = 'memo_bench_events';
const RELAY_BATCH = 500;
export const WRITE_CONNECTIONS = 20;
const PACED_RATE = 200;

interface Received {
  count: number;
  /** Delay from the event's timestamp to its arrival here, for events of the current window. */
  delays: number[];
  drainIds: Set<string>;
  windowStart: number;
  drainTitle: string;
}

/** A consumer in this process that records every event's arrival. */
async function startConsumer(kafka: Kafka, received: Received): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `memo-bench-${randomUUID()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: false });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        received.count++;
        const event = JSON.parse(m.value?.toString() ?? '{}') as {
          event_id: string;
          title: string;
          timestamp: string;
        };
        const at = Date.parse(event.timestamp);
        if (event.title === received.drainTitle) received.drainIds.add(event.event_id);
        else if (at >= received.windowStart) received.delays.push(now - at);
      }
    },
  });
  await joined;
  // A new group starts at the latest offsets once its first fetch resolves them; give it that.
  await new Promise((r) => setTimeout(r, 1500));
  return consumer;
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = process.hrtime.bigint();
  while (!(await check())) {
    if (ms(start) > timeoutMs) throw new Error(`${what}: not done within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return ms(start);
}

export function memoBodies(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const m = generateMemo(99, i + 1);
    return JSON.stringify({
      title: m.title,
      content: m.content,
      tags: m.tags,
      priority: m.priority,
      category: m.category,
      author: m.author,
    });
  });
}

export function postRequests(bodies: readonly string[]): autocannon.Request[] {
  let next = 0;
  return [
    {
      method: 'POST',
      path: '/api/memos',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
    },
  ];
}

export const writes: Scenario = {
  id: 4,
  title: 'Writes, outbox relay to Kafka, end-to-end delay',
  async run(ctx: Context): Promise<ScenarioOutput> {
    await requireServices(['mariadb', 'redis', 'kafka']);
    const drainCount = ctx.quick ? 20_000 : 100_000;
    await freshDatabase(WRITES_DATABASE);
    const db = createDb(dbConfig(WRITES_DATABASE, 2));
    const kafka = createKafka(
      { brokers: [SERVICES.kafka.broker], topic: TOPIC, clientId: 'memo-bench' },
      silentLogger,
    );
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopic(admin, { topic: TOPIC, partitions: 3 });
    await admin.disconnect();
    const received: Received = {
      count: 0,
      delays: [],
      drainIds: new Set(),
      windowStart: Infinity,
      drainTitle: `bench-drain-${randomUUID()}`,
    };
    const consumer = await startConsumer(kafka, received);
    const unpublished = async (): Promise<number> => {
      const [row] = (await db('outbox').whereNull('published_at').count({ n: '*' })) as { n: number }[];
      return Number(row.n);
    };
    const bodies = memoBodies(500);
    let app: ServerChild | undefined;
    try {
      // Phase 1: POST throughput with the relay running, as in production.
      app = await startApp(ctx, { database: WRITES_DATABASE, cache: 'on', relay: 'on', topic: TOPIC });
      const url = `http://127.0.0.1:${app.port}`;
      await load(
        { url, connections: WRITE_CONNECTIONS, duration: 2, requests: postRequests(bodies) },
        app.pid,
      );
      const before = await app.request<AppStats>('stats');
      ctx.log('  POST /api/memos at full speed');
      const posts = await load(
        { url, connections: WRITE_CONNECTIONS, duration: ctx.loadSeconds, requests: postRequests(bodies) },
        app.pid,
      );
      const postStats = diffStats(await app.request<AppStats>('stats'), before);
      await waitUntil('relay draining the POSTs', 120_000, async () => (await unpublished()) === 0);

      // Phase 2: end-to-end delay at a steady, moderate rate (not the saturated one above).
      ctx.log(`  end-to-end delay at ${PACED_RATE} writes/s`);
      received.delays = [];
      received.windowStart = Date.now();
      const paced = await load(
        {
          url,
          connections: 10,
          duration: ctx.quick ? 5 : 10,
          overallRate: PACED_RATE,
          requests: postRequests(bodies),
        },
        app.pid,
      );
      await waitUntil('relay draining the paced writes', 60_000, async () => (await unpublished()) === 0);
      await new Promise((r) => setTimeout(r, 1000));
      const delays = summarize(received.delays);
      received.windowStart = Infinity;
      memorySamples.push({ scenario: 4, process: 'memo service (POSTs + relay)', ...memoryOf(app.pid) });
      await app.stop();
      app = undefined;

      // Phase 3: relay throughput on a backlog. Rows go in while no relay runs, then one starts.
      ctx.log(`  relay draining ${fmt(drainCount)} outbox rows`);
      const messages: { key: string; value: string }[] = [];
      const at = new Date();
      for (let i = 0; i < drainCount; i++) {
        const memoId = 1 + (i % 10_000);
        const event = buildMemoEvent(
          'memo_updated',
          {
            id: memoId,
            title: received.drainTitle,
            author: 'bench',
            owner: null,
            version: 1 + Math.floor(i / 10_000),
          },
          at,
        );
        const value = JSON.stringify(event);
        messages.push({ key: String(memoId), value });
      }
      const insertStart = process.hrtime.bigint();
      for (let i = 0; i < messages.length; i += 5000) {
        await db('outbox').insert(
          messages.slice(i, i + 5000).map((m) => {
            const e = JSON.parse(m.value) as { event_id: string };
            return {
              event_id: e.event_id,
              aggregate_id: Number(m.key),
              event_type: 'memo_updated',
              payload: m.value,
              created_at: at,
              published_at: null,
            };
          }),
        );
      }
      const insertMs = ms(insertStart);
      // Neither the relay nor the raw producer below shares the machine with a consuming client:
      // the consumer pauses here and catches up (and checks delivery) afterwards.
      consumer.pause([{ topic: TOPIC }]);
      app = await startApp(ctx, { database: WRITES_DATABASE, cache: 'on', relay: 'on', topic: TOPIC });
      const meter = startCpuMeter(app.pid);
      await waitUntil('relay draining the backlog', 600_000, async () => (await unpublished()) === 0);
      const relayCpu = meter.stop();
      const [span] = (await db('outbox')
        .where('event_type', 'memo_updated')
        .select(db.raw('TIMESTAMPDIFF(MICROSECOND, MIN(published_at), MAX(published_at)) AS us'))) as {
        us: number;
      }[];
      const relaySeconds = Math.max(0.001, Number(span.us) / 1e6);
      // published_at is stamped after each batch's send: the span covers all batches but the first.
      const relayRate = (drainCount - RELAY_BATCH) / relaySeconds;
      memorySamples.push({ scenario: 4, process: 'memo service (relay draining)', ...memoryOf(app.pid) });
      await app.stop();
      app = undefined;
      consumer.resume([{ topic: TOPIC }]);
      await waitUntil(
        'consumer receiving the backlog',
        120_000,
        async () => received.drainIds.size >= drainCount,
      );
      consumer.pause([{ topic: TOPIC }]);

      // Baseline: the same messages straight from a kafkajs producer with the relay's settings.
      ctx.log('  raw kafkajs producer, same messages and batches');
      const producer = createIdempotentProducer(kafka);
      await producer.connect();
      const rawMeter = startCpuMeter(undefined);
      const rawStart = process.hrtime.bigint();
      for (let i = 0; i < messages.length; i += RELAY_BATCH) {
        await producer.send({ topic: TOPIC, acks: -1, messages: messages.slice(i, i + RELAY_BATCH) });
      }
      const rawSeconds = ms(rawStart) / 1000;
      const rawCpu = rawMeter.stop();
      await producer.disconnect();
      const rawRate = drainCount / rawSeconds;

      const posted = posts.requests - posts.non2xx;
      const ratio = relayRate / rawRate;
      const markdown = [
        `Fresh database \`${WRITES_DATABASE}\`, topic \`${TOPIC}\` (3 partitions, one local broker), relay with the service's defaults ` +
          `(batches of ${RELAY_BATCH}, one in flight, idempotent producer, acks=all).`,
        '',
        table(
          ['measure', 'figure', 'baseline (same run)', 'ratio'],
          [
            [
              `POST /api/memos, ${WRITE_CONNECTIONS} connections, ${ctx.loadSeconds} s (memo + tags + postings + outbox row per transaction)`,
              `${fmt(posts.requestsPerSecond)} memos/s (p50 ${fmt(posts.latencyMs.p50, 1)} ms, p99 ${fmt(posts.latencyMs.p99, 1)} ms, ${fmt(posts.non2xx + posts.errors)} errors)`,
              '-',
              '-',
            ],
            [
              `relay: ${fmt(drainCount)}-row outbox backlog to Kafka`,
              `**${fmt(relayRate)} events/s** (${fmt(relaySeconds, 2)} s first to last publish)`,
              `raw kafkajs producer, same messages, batches of ${RELAY_BATCH}, same settings: ${fmt(rawRate)} msg/s`,
              fmt(ratio, 2),
            ],
            [
              `end-to-end delay, event timestamp (in the write transaction) to consumer, at ${PACED_RATE} writes/s`,
              `p50 ${fmt(delays.p50, 0)} ms, p99 ${fmt(delays.p99, 0)} ms (${fmt(delays.n)} events)`,
              '-',
              '-',
            ],
          ],
        ),
        '',
        `- Relay target >= 10,000 events/s: ${verdict(relayRate >= 10_000)} (the seed quoted 2,500 msg/s: ${fmt(relayRate / 2500, 1)}x that).`,
        `- SQL statements per POST (the service's knex): ${fmt(postStats.queries / Math.max(1, posted), 1)}, in one transaction committed with a redo-log flush ` +
          '(`innodb_flush_log_at_trx_commit=1`).',
        `- Events during the POST run: ${fmt(posted)} memos created, ${fmt(postStats.eventsPublished)} events relayed in the same window; ` +
          `all ${fmt(received.drainIds.size)} backlog events reached the consumer (distinct event ids).`,
        `- Paced run: ${fmt(paced.requestsPerSecond, 0)} writes/s achieved. The relay polls every 200 ms when the outbox is empty, which bounds the idle part of the delay.`,
        `- Backlog insert (not measured as a figure): ${fmt(drainCount)} rows in ${fmt(insertMs / 1000, 1)} s.`,
        `- CPU during the POST run: ${cpuText(posts.cpu)}.`,
        `- CPU while the relay drained: ${cpuText(relayCpu)} (the "load generator" here is the bench's Kafka consumer, paused).`,
        `- CPU while the raw producer sent: ${cpuText({ ...rawCpu, server: 0 })} (the producer is the "load generator" share).`,
        ...contentionNote(relayCpu, rawCpu),
      ].join('\n');
      return {
        headlines: [
          {
            measure: `POST /api/memos with outbox event, ${WRITE_CONNECTIONS} connections`,
            figure: `${fmt(posts.requestsPerSecond)} memos/s, p99 ${fmt(posts.latencyMs.p99, 1)} ms`,
            baseline: '-',
            ratio: '-',
            target: '-',
          },
          {
            measure: `outbox relay to Kafka, ${fmt(drainCount)}-event backlog`,
            figure: `${fmt(relayRate)} events/s`,
            baseline: `raw kafkajs producer, same settings ${fmt(rawRate)} msg/s`,
            ratio: fmt(ratio, 2),
            target: '>= 10,000 events/s',
            met: relayRate >= 10_000,
          },
          {
            measure: `end-to-end delay, commit to consumer, ${PACED_RATE} writes/s`,
            figure: `p50 ${fmt(delays.p50)} ms, p99 ${fmt(delays.p99)} ms`,
            baseline: '-',
            ratio: '-',
            target: '-',
          },
        ],
        data: {
          posts: { ...posts, stats: postStats },
          paced: { ...paced, delaysMs: delays },
          relay: { events: drainCount, seconds: relaySeconds, eventsPerSecond: relayRate, cpu: relayCpu },
          rawProducer: { seconds: rawSeconds, messagesPerSecond: rawRate, cpu: rawCpu },
          ratio,
        },
        markdown,
      };
    } finally {
      await app?.stop();
      await consumer.disconnect();
      await db.destroy();
    }
  },
};
