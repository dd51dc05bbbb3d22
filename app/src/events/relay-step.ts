import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '../logger';
import { createIdempotentProducer, ensureTopic } from './kafka';
import type { OutboxStore } from './outbox-store';
import type { RelayMetrics } from './relay';

/** Tags failures of the Kafka side, which count in memo_events_publish_errors_total. */
export class PublishError extends Error {
  constructor(readonly cause: unknown) {
    super(`publishing to Kafka failed: ${String(cause)}`);
    this.name = 'PublishError';
  }
}

export interface RelayStepDeps {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly store: OutboxStore;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  /** Outbox rows per Kafka request (one producer.send) and per UPDATE. */
  readonly batchSize: number;
  /** Partitions of the topic when the step has to create it. */
  readonly topicPartitions: number;
}

/**
 * One batch of the relay at a time, for the leader's loop (relay.ts) to drive. Between steps it
 * keeps only the connected producer and the batch still being marked.
 */
export interface RelayStep {
  /**
   * Reads the oldest unpublished rows, sends them as one request, starts marking them
   * published. Returns how many rows were sent; a Kafka failure is a PublishError.
   */
  relayOnce(): Promise<number>;
  /** Waits for the pending mark; rethrows its failure (its rows stay unpublished, sent again). */
  finishMarking(): Promise<void>;
  /** Disconnects the producer; the next step connects a fresh one (a fresh producer id). */
  dropProducer(): Promise<void>;
}

export function createRelayStep(deps: RelayStepDeps): RelayStep {
  const { kafka, topic, store, logger, metrics, batchSize, topicPartitions } = deps;
  let producer: Producer | undefined;
  /**
   * Marking a batch published (an UPDATE that moves every row in the (published_at, id) index)
   * costs about as much as reading and sending the next one, so the two overlap: batch N is
   * marked while N+1 is read and sent. Sends stay strictly sequential, which is what keeps the
   * order per memo; rows still being marked are skipped by id, not by an id bound, because a
   * lower id may commit later than a higher one.
   */
  let marking: { ids: Set<number>; done: Promise<unknown> } | undefined;

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

  async function finishMarking(): Promise<void> {
    const pending = marking;
    marking = undefined;
    if (pending) await pending.done;
  }

  return {
    async relayOnce() {
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
    },

    finishMarking,
    dropProducer,
  };
}
