import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '../logger';
import { createIdempotentProducer, ensureTopic } from './kafka';
import type { LeaderLock } from './leader-lock';
import type { OutboxStore } from './outbox-store';

/** The three series of the service contract the relay maintains (see app/src/metrics.ts). */
export interface RelayMetrics {
  readonly outboxBacklog: { set(value: number): void };
  readonly eventsPublished: { inc(value?: number): void };
  readonly eventsPublishErrors: { inc(value?: number): void };
}

export interface RelayOptions {
  /** Outbox rows per Kafka request (one producer.send) and per UPDATE. @default 500 */
  readonly batchSize?: number;
  /** Pause after a batch that was not full, i.e. when the outbox is drained. @default 200 */
  readonly pollIntervalMs?: number;
  /** How often a replica that is not the leader tries to take the lock. @default 2000 */
  readonly leaderRetryMs?: number;
  /** Upper bound of the exponential back-off after a failure (Kafka or database down). @default 10000 */
  readonly maxBackoffMs?: number;
  /** How long published rows are kept before pruning. @default 3600000 (1 h) */
  readonly retentionMs?: number;
  /** How often the leader prunes. @default 60000 */
  readonly pruneIntervalMs?: number;
  /** Rows per prune DELETE. @default 5000 */
  readonly pruneBatchSize?: number;
  /** How often every replica refreshes the backlog gauge. @default 5000 */
  readonly backlogIntervalMs?: number;
  /** Partitions of the topic when the relay has to create it. @default 3 */
  readonly topicPartitions?: number;
  /** Bound on how long stop() waits for an in-flight batch before dropping it. @default 5000 */
  readonly stopTimeoutMs?: number;
}

export interface RelayDeps {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly store: OutboxStore;
  readonly lock: LeaderLock;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly options?: RelayOptions;
}

export interface Relay {
  start(): void;
  stop(): Promise<void>;
  isLeader(): boolean;
}

/** Tags failures of the Kafka side, which count in memo_events_publish_errors_total. */
class PublishError extends Error {
  constructor(readonly cause: unknown) {
    super(`publishing to Kafka failed: ${String(cause)}`);
    this.name = 'PublishError';
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Moves outbox rows to Kafka in id order. Only the holder of the MariaDB lock publishes, so
 * several replicas never interleave batches; delivery is at least once (a batch sent but not
 * yet marked when a leader dies is sent again by the next one), consumers dedupe by event_id.
 */
export function createRelay(deps: RelayDeps): Relay {
  const { kafka, topic, store, lock, logger, metrics } = deps;
  const o = deps.options ?? {};
  const batchSize = o.batchSize ?? 500;
  const pollIntervalMs = o.pollIntervalMs ?? 200;
  const leaderRetryMs = o.leaderRetryMs ?? 2000;
  const maxBackoffMs = o.maxBackoffMs ?? 10_000;
  const retentionMs = o.retentionMs ?? 3_600_000;
  const pruneIntervalMs = o.pruneIntervalMs ?? 60_000;
  const pruneBatchSize = o.pruneBatchSize ?? 5000;
  const backlogIntervalMs = o.backlogIntervalMs ?? 5000;
  const topicPartitions = o.topicPartitions ?? 3;
  const stopTimeoutMs = o.stopTimeoutMs ?? 5000;

  let stopping = false;
  let leader = false;
  let loop: Promise<void> | undefined;
  let producer: Producer | undefined;
  let wake: (() => void) | undefined;
  let backlogTimer: NodeJS.Timeout | undefined;
  let nextPruneAt = 0;

  function sleep(ms: number): Promise<void> {
    if (stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function dropProducer(): Promise<void> {
    const p = producer;
    producer = undefined;
    await p?.disconnect().catch(() => undefined);
  }

  async function connectedProducer(): Promise<Producer> {
    if (producer) return producer;
    const admin = kafka.admin({ retry: { retries: 2 } });
    try {
      await admin.connect();
      if (await ensureTopic(admin, { topic, partitions: topicPartitions })) {
        logger.info('created Kafka topic', { topic, partitions: topicPartitions });
      }
    } catch (err) {
      // In Kubernetes the KafkaCluster's Job owns the topic; if creating it here fails the
      // send below says whether the topic is really missing.
      logger.warn('could not ensure the Kafka topic exists', { topic, error: err });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const fresh = createIdempotentProducer(kafka);
    try {
      await fresh.connect();
    } catch (err) {
      await fresh.disconnect().catch(() => undefined);
      throw new PublishError(err);
    }
    producer = fresh;
    return fresh;
  }

  /**
   * Marking a batch published (an UPDATE that moves every row in the (published_at, id) index)
   * costs about as much as reading and sending the next one, so the two overlap: batch N is
   * marked while N+1 is read and sent. Sends stay strictly sequential, which is what keeps the
   * order per memo; rows still being marked are skipped by id, not by an id bound, because a
   * lower id may commit later than a higher one.
   */
  let marking: { ids: Set<number>; done: Promise<unknown> } | undefined;

  /** Waits for the pending mark; rethrows its failure (its rows stay unpublished, sent again). */
  async function finishMarking(): Promise<void> {
    const pending = marking;
    marking = undefined;
    if (pending) await pending.done;
  }

  /** One batch: read, send as one request, start marking. Returns how many rows were sent. */
  async function relayBatch(): Promise<number> {
    const skip = marking?.ids ?? new Set<number>();
    const rows = (await store.nextBatch(batchSize + skip.size))
      .filter((r) => !skip.has(r.id))
      .slice(0, batchSize);
    if (rows.length === 0) {
      await finishMarking();
      return 0;
    }
    const p = await connectedProducer();
    try {
      await p.send({
        topic,
        acks: -1,
        messages: rows.map((r) => ({ key: String(r.aggregateId), value: r.payload })),
      });
    } catch (err) {
      throw new PublishError(err);
    }
    metrics.eventsPublished.inc(rows.length);
    await finishMarking();
    const ids = rows.map((r) => r.id);
    marking = { ids: new Set(ids), done: store.markPublished(ids) };
    // Observed by finishMarking(); this only keeps Node from reporting it as unhandled first.
    marking.done.catch(() => undefined);
    return rows.length;
  }

  async function pruneIfDue(): Promise<void> {
    if (Date.now() < nextPruneAt) return;
    nextPruneAt = Date.now() + pruneIntervalMs;
    const deleted = await store.prune(retentionMs, pruneBatchSize, 20);
    if (deleted > 0) logger.info('pruned published outbox rows', { deleted });
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        if (!(leader && (await lock.stillHeld()))) {
          if (leader) {
            await finishMarking().catch(() => undefined);
            await dropProducer();
          }
          leader = await lock.tryAcquire();
          if (!leader) {
            await sleep(leaderRetryMs);
            continue;
          }
          logger.info('outbox relay is the leader');
          nextPruneAt = 0;
        }
        const published = await relayBatch();
        await pruneIfDue();
        failures = 0;
        if (published < batchSize) await sleep(pollIntervalMs);
      } catch (err) {
        await finishMarking().catch(() => undefined);
        failures++;
        const delay = Math.min(maxBackoffMs, 250 * 2 ** Math.min(failures, 10));
        if (err instanceof PublishError) {
          metrics.eventsPublishErrors.inc();
          await dropProducer();
          logger.warn('outbox relay cannot publish, retrying', { error: err.cause, retry_in_ms: delay });
        } else {
          logger.warn('outbox relay failed, retrying', { error: err, retry_in_ms: delay });
        }
        await sleep(delay);
      }
    }
  }

  async function refreshBacklog(): Promise<void> {
    try {
      metrics.outboxBacklog.set(await store.backlog());
    } catch (err) {
      logger.debug('could not read the outbox backlog', { error: err });
    }
  }

  return {
    start() {
      if (loop) return;
      stopping = false;
      loop = run();
      void refreshBacklog();
      let refreshing = false;
      backlogTimer = setInterval(() => {
        if (refreshing) return;
        refreshing = true;
        void refreshBacklog().finally(() => {
          refreshing = false;
        });
      }, backlogIntervalMs);
      backlogTimer.unref();
    },

    async stop() {
      stopping = true;
      wake?.();
      clearInterval(backlogTimer);
      // A send stuck on a dead broker: disconnecting makes it fail so the loop can end; the
      // batch stays unpublished in the outbox for the next leader. Bounded either way, so a
      // shutdown never waits on Kafka.
      if (loop && !(await settlesWithin(loop, stopTimeoutMs))) {
        logger.warn('outbox relay still busy at shutdown, abandoning the batch');
        await dropProducer();
        await settlesWithin(loop, stopTimeoutMs);
      }
      loop = undefined;
      await finishMarking().catch((err: unknown) =>
        logger.warn('could not mark the last batch published', { error: err }),
      );
      await dropProducer();
      await lock.close();
      leader = false;
    },

    isLeader: () => leader && lock.isHeld(),
  };
}
