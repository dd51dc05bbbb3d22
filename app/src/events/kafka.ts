import { Admin, Kafka, logLevel, LogEntry, Producer } from 'kafkajs';
import type { KafkaConfig } from '../config';
import type { Logger } from '../logger';

export interface KafkaClientOptions {
  /** Milliseconds to open a TCP connection; kafkajs' 1 s default misses a JIT-cold broker. */
  readonly connectionTimeoutMs?: number;
  /** Milliseconds a request (metadata, produce) may take before it is retried. */
  readonly requestTimeoutMs?: number;
}

/**
 * kafkajs logs every failed retry at ERROR. The relay already counts and logs each failed
 * attempt once, so kafkajs' own lines are kept one level quieter to avoid a flood while the
 * broker is down.
 */
function logCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      // kafkajs' own timestamp would only duplicate the logger's.
      const entry: Record<string, unknown> = { kafkajs: namespace, ...log };
      delete entry.timestamp;
      delete entry.message;
      const { message } = log;
      if (level === logLevel.ERROR) logger.warn(`kafkajs: ${message}`, entry);
      else logger.debug(`kafkajs: ${message}`, entry);
    };
}

export function createKafka(config: KafkaConfig, logger: Logger, options: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // kafkajs nests the cluster's retries (metadata, connect) inside the producer's; with its
    // defaults a send to a dead broker takes ~20 s to fail. The relay retries for ever on its
    // own back-off, so each attempt can give up after a few seconds.
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
  });
}

/**
 * An idempotent producer that keeps order per partition across retries. kafkajs' idempotence
 * follows the original KIP-98 rule (one in-flight request per connection); with more, a retried
 * batch could land behind a later one. Retries are bounded (kafkajs would otherwise retry
 * forever), because the relay replaces the producer after a failure and a fresh producer id
 * restarts the sequence numbers cleanly.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

export interface TopicSpec {
  readonly topic: string;
  /** Used only when the topic is missing; in Kubernetes the KafkaCluster's Job creates it. */
  readonly partitions: number;
}

/**
 * Creates the topic when it is missing. kafkajs speaks CreateTopics v3, which has no "broker
 * default" for partitions or replicas, so both are explicit: replicas follow the cluster size
 * (at most 3), so a single test broker and a 3-broker cluster both get a valid request.
 * Returns true when this call created it.
 */
export async function ensureTopic(admin: Admin, spec: TopicSpec, attempts = 5): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { brokers } = await admin.describeCluster();
      return await admin.createTopics({
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: Math.max(1, Math.min(3, brokers.length)),
          },
        ],
        waitForLeaders: true,
        timeout: 10_000,
      });
    } catch (err) {
      // A fresh broker or controller change answers LEADER_NOT_AVAILABLE for a while.
      const type = (err as { type?: string }).type;
      const retriable = type === 'LEADER_NOT_AVAILABLE' || /leader/i.test(String(err));
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}
