import type { Kafka } from 'kafkajs';
import type { Logger } from '../logger';
import type { LeaderLock } from './leader-lock';
import type { OutboxStore } from './outbox-store';
import { createRelayStep, PublishError } from './relay-step';

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

/** The pause after the `failures`-th failure in a row: 500 ms doubling, at most `maxBackoffMs`. */
export function backoffMs(failures: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, 250 * 2 ** Math.min(failures, 10));
}

/** Pauses of the loop that stop() can cut short. */
interface Pauses {
  sleep(ms: number): Promise<void>;
  /** Ends the pause in progress, if any. */
  wake(): void;
}

function createPauses(isStopping: () => boolean): Pauses {
  let wake: (() => void) | undefined;
  return {
    sleep(ms) {
      if (isStopping()) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    },
    wake: () => wake?.(),
  };
}

/**
 * Moves outbox rows to Kafka in id order. Only the holder of the MariaDB lock publishes, so
 * several replicas never interleave batches; delivery is at least once (a batch sent but not
 * yet marked when a leader dies is sent again by the next one), consumers dedupe by event_id.
 * This is the loop: leadership, pacing, back-off, pruning and shutdown; each batch is one
 * relayOnce() of the step (relay-step.ts).
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

  const step = createRelayStep({ kafka, topic, store, logger, metrics, batchSize, topicPartitions });
  let stopping = false;
  let leader = false;
  let loop: Promise<void> | undefined;
  let backlogTimer: NodeJS.Timeout | undefined;
  const pauses = createPauses(() => stopping);

  /** Keeps the lock, or takes it ('taken'); 'follower' while another replica holds it. */
  async function lead(): Promise<'kept' | 'taken' | 'follower'> {
    if (leader && (await lock.stillHeld())) return 'kept';
    if (leader) {
      await step.finishMarking().catch(() => undefined);
      await step.dropProducer();
    }
    leader = await lock.tryAcquire();
    if (!leader) return 'follower';
    logger.info('outbox relay is the leader');
    return 'taken';
  }

  async function run(): Promise<void> {
    let failures = 0;
    // A new leader prunes at once, then every pruneIntervalMs.
    let nextPruneAt = 0;
    while (!stopping) {
      try {
        const role = await lead();
        if (role === 'follower') {
          await pauses.sleep(leaderRetryMs);
          continue;
        }
        if (role === 'taken') nextPruneAt = 0;
        const published = await step.relayOnce();
        if (Date.now() >= nextPruneAt) {
          nextPruneAt = Date.now() + pruneIntervalMs;
          const deleted = await store.prune(retentionMs, pruneBatchSize, 20);
          if (deleted > 0) logger.info('pruned published outbox rows', { deleted });
        }
        failures = 0;
        if (published < batchSize) await pauses.sleep(pollIntervalMs);
      } catch (err) {
        await step.finishMarking().catch(() => undefined);
        failures++;
        const delay = backoffMs(failures, maxBackoffMs);
        if (err instanceof PublishError) {
          metrics.eventsPublishErrors.inc();
          await step.dropProducer();
          logger.warn('outbox relay cannot publish, retrying', { error: err.cause, retry_in_ms: delay });
        } else {
          logger.warn('outbox relay failed, retrying', { error: err, retry_in_ms: delay });
        }
        await pauses.sleep(delay);
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
      pauses.wake();
      clearInterval(backlogTimer);
      // A send stuck on a dead broker: disconnecting makes it fail so the loop can end; the
      // batch stays unpublished in the outbox for the next leader. Bounded either way, so a
      // shutdown never waits on Kafka.
      if (loop && !(await settlesWithin(loop, stopTimeoutMs))) {
        logger.warn('outbox relay still busy at shutdown, abandoning the batch');
        await step.dropProducer();
        await settlesWithin(loop, stopTimeoutMs);
      }
      loop = undefined;
      await step
        .finishMarking()
        .catch((err: unknown) => logger.warn('could not mark the last batch published', { error: err }));
      await step.dropProducer();
      await lock.close();
      leader = false;
    },

    isLeader: () => leader && lock.isHeld(),
  };
}
