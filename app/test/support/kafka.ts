import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { unreachable, ServiceName, TEST_DB, TEST_REDIS } from './services';

/*
 * The real Kafka broker of the integration suites (scripts/services/up.sh starts it on
 * 127.0.0.1:9092), and independent ways to read what was really published: a kafkajs consumer
 * group and kcat. Outside CI a missing broker skips the suite loudly; with CI=true or
 * REQUIRE_SERVICES=1 it fails.
 */

export const TEST_KAFKA = {
  host: process.env.TEST_KAFKA_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_KAFKA_PORT ?? 9092),
};
export const TEST_BROKERS = [`${TEST_KAFKA.host}:${TEST_KAFKA.port}`];
export const REPO_ROOT = path.resolve(__dirname, '../../..');
const KAFKA_SH = path.join(REPO_ROOT, 'scripts/services/kafka.sh');

const required = (): boolean => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

function kafkaReachable(): boolean {
  const script = `
    const s = require('node:net').connect({ host: ${JSON.stringify(TEST_KAFKA.host)}, port: ${TEST_KAFKA.port}, timeout: 1500 });
    s.once('connect', () => { s.destroy(); process.stdout.write('up'); });
    s.once('timeout', () => s.destroy());
    s.once('error', () => undefined);`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  return out.stdout === 'up';
}

/** describe() that needs the Kafka broker besides MariaDB/Redis: skips loudly, or fails in CI. */
export function describeWithKafka(title: string, needs: readonly ServiceName[], body: () => void): void {
  const endpoints: Record<ServiceName, { host: string; port: number }> = {
    mariadb: TEST_DB,
    redis: TEST_REDIS,
  };
  const missing = unreachable(needs).map((m) => `${m} at ${endpoints[m].host}:${endpoints[m].port}`);
  if (!kafkaReachable()) missing.push(`kafka at ${TEST_BROKERS[0]}`);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const message = `${title}: ${missing.join(', ')} unreachable. Start the services with: bash scripts/services/up.sh`;
  if (required()) {
    describe(title, () => {
      it('when the services it needs are unreachable in CI, then the suite fails', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED *** ${message}\n`);
  describe.skip(title, body);
}

let topicCounter = 0;
/** A topic name no other suite (or earlier run) uses. */
export function uniqueTopic(suite: string): string {
  topicCounter += 1;
  return `memo_events_test_${suite}_${process.pid}_${Date.now().toString(36)}_${topicCounter}`;
}

export function testKafka(brokers: readonly string[] = TEST_BROKERS): Kafka {
  return new Kafka({
    clientId: 'memo-events-test',
    brokers: [...brokers],
    connectionTimeout: 10_000,
    logLevel: logLevel.NOTHING,
  });
}

/** Creates the topic with several partitions, so order per memo is tested across partitions. */
/** How long a new topic may take to show a leader for every partition in the broker's metadata. */
const TOPIC_READY_WITHIN_MS = 15_000;

/**
 * Creates the topic and waits until the broker's metadata lists a leader for each partition.
 * kafkajs's own wait (`waitForLeaders`) retries only LEADER_NOT_AVAILABLE; a KRaft broker
 * whose metadata cache has not caught up yet answers UNKNOWN_TOPIC_OR_PARTITION instead ("This
 * server does not host this topic-partition"), which it gives up on at once.
 */
export async function createTopic(brokers: readonly string[], topic: string, partitions = 3): Promise<void> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: false,
      timeout: TOPIC_READY_WITHIN_MS,
    });
    const deadline = Date.now() + TOPIC_READY_WITHIN_MS;
    for (;;) {
      const ready = await admin
        .fetchTopicMetadata({ topics: [topic] })
        .then(
          ({ topics }) =>
            topics[0]?.partitions.length === partitions && topics[0].partitions.every((p) => p.leader >= 0),
        )
        .catch((err: { type?: string }) => {
          if (err.type === 'UNKNOWN_TOPIC_OR_PARTITION' || err.type === 'LEADER_NOT_AVAILABLE') return false;
          throw err;
        });
      if (ready) return;
      if (Date.now() > deadline) {
        throw new Error(`topic ${topic} has no leader for every partition after ${TOPIC_READY_WITHIN_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(brokers: readonly string[], topic: string): Promise<void> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

export interface ReceivedEvent {
  readonly key: string;
  readonly partition: number;
  readonly offset: string;
  /** The message value exactly as stored (UTF-8), to compare byte for byte with the outbox. */
  readonly payload: string;
  readonly value: {
    readonly event_id: string;
    readonly event_type: string;
    readonly memo_id: number;
    readonly title: string;
    readonly author: string | null;
    readonly version: number;
    readonly timestamp: string;
  };
}

export interface Collector {
  /** Everything received so far, in arrival order (per partition: offset order). */
  readonly events: ReceivedEvent[];
  /** Resolves once at least n events arrived; rejects after timeoutMs with what did arrive. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  stop(): Promise<void>;
}

/**
 * An independent consumer group (fresh groupId) reading the topic from the beginning. Resolves
 * once the group has joined, so nothing published afterwards can be missed.
 */
export async function collectEvents(brokers: readonly string[], topic: string): Promise<Collector> {
  const consumer = testKafka(brokers).consumer({
    groupId: `memo-events-test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
  });
  const events: ReceivedEvent[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const payload = message.value?.toString() ?? 'null';
      events.push({
        key: message.key?.toString() ?? '',
        partition,
        offset: message.offset,
        payload,
        value: JSON.parse(payload) as ReceivedEvent['value'],
      });
    },
  });
  await joined;
  return {
    events,
    async waitFor(n, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${n} events on ${topic} within ${timeoutMs} ms, got ${events.length}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return events;
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}

/** Reads the whole topic with kcat, a client that shares no code with kafkajs. */
export function readWithKcat(brokers: readonly string[], topic: string): ReceivedEvent[] {
  const out = spawnSync(
    'kcat',
    ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-J', '-q'],
    {
      encoding: 'utf8',
      timeout: 30_000,
      // The default 1 MiB fills at about 2,000 events (ENOBUFS); a topic of a load test is bigger.
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  if (out.error) throw new Error(`kcat could not run (apt-get install kcat): ${out.error.message}`);
  if (out.status !== 0) throw new Error(`kcat exited with ${out.status}: ${out.stderr}`);
  return out.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const m = JSON.parse(line) as { key: string; partition: number; offset: number; payload: string };
      return {
        key: m.key,
        partition: m.partition,
        offset: String(m.offset),
        payload: m.payload,
        value: JSON.parse(m.payload) as ReceivedEvent['value'],
      };
    });
}

/** Resolves when nothing listens on the port any more (a stopped broker). */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** Two free ports (client, controller) for a private broker, chosen by the pid to spread runs. */
export async function freeBrokerPorts(): Promise<{ port: number; controllerPort: number }> {
  for (let i = 0; i < 50; i++) {
    const port = 19_100 + ((process.pid + i * 37) % 400) * 2;
    if (!(await portOpen(port)) && !(await portOpen(port + 1))) return { port, controllerPort: port + 1 };
  }
  throw new Error('no two free ports found for a private Kafka broker');
}

/**
 * A second broker on its own ports and directory, started and stopped by one suite through
 * scripts/services/kafka.sh, so the shared broker stays up for the others.
 */
export class PrivateBroker {
  readonly brokers: string[];
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly port: number,
    readonly controllerPort: number,
    readonly homeDir: string,
  ) {
    this.brokers = [`127.0.0.1:${port}`];
    this.env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_HOME_DIR: homeDir,
    };
  }

  /** keepData: restart on the previous run's log dir, as a broker coming back after an outage does. */
  start(keepData = false): void {
    this.run('start', keepData ? { KAFKA_KEEP_DATA: '1' } : {});
  }

  /**
   * start() without blocking the event loop (spawnSync would), for a restart while a load runs
   * in this process.
   */
  startAsync(keepData = false): Promise<void> {
    return this.runAsync('start', keepData ? { KAFKA_KEEP_DATA: '1' } : {});
  }

  stop(): void {
    this.run('stop');
  }

  /** SIGKILL, as a crash or the OOM killer: no controlled shutdown, nothing flushed. */
  kill(): Promise<void> {
    return this.runAsync('kill');
  }

  private run(command: string, extra: NodeJS.ProcessEnv = {}): void {
    const out = spawnSync('bash', [KAFKA_SH, command], {
      env: { ...this.env, ...extra },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (out.status !== 0) {
      throw new Error(`kafka.sh ${command} failed (${out.status}): ${out.stdout}\n${out.stderr}`);
    }
  }

  private runAsync(command: string, extra: NodeJS.ProcessEnv = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [KAFKA_SH, command], {
        env: { ...this.env, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`kafka.sh ${command} failed (${code ?? signal}): ${output}`));
      });
    });
  }
}
