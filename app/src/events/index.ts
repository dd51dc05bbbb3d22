import type { Admin } from 'kafkajs';
import type { Knex } from 'knex';
import type { DatabaseConfig, KafkaConfig } from '../config';
import type { Logger } from '../logger';
import { createKafka, KafkaClientOptions } from './kafka';
import { createLeaderLock, relayLockName } from './leader-lock';
import { createOutboxStore } from './outbox-store';
import { createRelay, RelayMetrics, RelayOptions } from './relay';

export { RELAY_LOCK_NAME, relayLockName } from './leader-lock';
export type { RelayMetrics, RelayOptions } from './relay';

export interface EventsOptions extends RelayOptions, KafkaClientOptions {
  /** How long a Kafka health answer is reused. @default 3000 */
  readonly healthCacheMs?: number;
  /** Bound of one health check; below the /health probe's own 1 s bound. @default 900 */
  readonly healthTimeoutMs?: number;
  /** Name of the MariaDB lock that elects the relay. @default memo_outbox_relay.<DB_NAME> */
  readonly lockName?: string;
}

export interface EventsDeps {
  readonly config: { readonly kafka: KafkaConfig; readonly db: DatabaseConfig };
  /** The service's pool: the relay's reads and updates of `outbox` are short statements. */
  readonly db: Knex;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly options?: EventsOptions;
}

export interface Events {
  /** Starts the relay in the background; resolves at once (Kafka may well be down). */
  start(): Promise<void>;
  /** Stops relaying, releases the leader lock and closes the Kafka clients. Bounded in time. */
  stop(): Promise<void>;
  /** A cheap, cached "does the Kafka cluster answer" for /health. Never throws. */
  isKafkaUp(): Promise<boolean>;
  /** Whether this replica's relay currently holds the lock (for logs and tests). */
  isLeader(): boolean;
}

/**
 * The event side of the service: the outbox relay and the Kafka health check. The memo
 * service writes outbox rows itself (app/src/memos/events.ts), inside its transactions; this
 * module only moves committed rows to Kafka.
 */
export function createEvents(deps: EventsDeps): Events {
  const { config, db, metrics } = deps;
  const options = deps.options ?? {};
  const logger = deps.logger.child({ component: 'outbox-relay' });
  const kafka = createKafka(config.kafka, logger, options);
  const relay = createRelay({
    kafka,
    topic: config.kafka.topic,
    store: createOutboxStore(db),
    lock: createLeaderLock(config.db, logger, options.lockName ?? relayLockName(config.db.name)),
    logger,
    metrics,
    options,
  });

  const healthCacheMs = options.healthCacheMs ?? 3000;
  const healthTimeoutMs = options.healthTimeoutMs ?? 900;
  let healthAdmin: Admin | undefined;
  let lastHealth: { up: boolean; at: number } | undefined;
  let pendingHealth: Promise<boolean> | undefined;

  async function checkKafka(): Promise<boolean> {
    try {
      // No retries: the answer is wanted now, the next probe asks again.
      healthAdmin ??= kafka.admin({ retry: { retries: 0 } });
      await healthAdmin.connect();
      const { brokers } = await healthAdmin.describeCluster();
      return brokers.length > 0;
    } catch {
      const admin = healthAdmin;
      healthAdmin = undefined;
      await admin?.disconnect().catch(() => undefined);
      return false;
    }
  }

  return {
    async start() {
      relay.start();
    },

    async stop() {
      await relay.stop();
      const admin = healthAdmin;
      healthAdmin = undefined;
      await admin?.disconnect().catch(() => undefined);
    },

    async isKafkaUp() {
      if (lastHealth && Date.now() - lastHealth.at < healthCacheMs) return lastHealth.up;
      // One check at a time: probes arriving while a slow check runs share its answer.
      pendingHealth ??= checkKafka().then((up) => {
        lastHealth = { up, at: Date.now() };
        pendingHealth = undefined;
        return up;
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), healthTimeoutMs);
      });
      try {
        return await Promise.race([pendingHealth, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    isLeader: () => relay.isLeader(),
  };
}
