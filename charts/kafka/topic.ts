/** Topics: their options, the handle addTopic returns, and the names of their provisioning Jobs. */
import { createHash } from 'crypto';
import { KubeJob } from '../../imports/k8s';

/** What a topic name may hold (Kafka's own rule; the length and '.'/'..' are checked beside it). */
export const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

export interface KafkaTopicOptions {
  /** Number of partitions (the upper bound of consumer parallelism). */
  readonly partitions: number;
  /**
   * Replicas of each partition.
   * @default - min(3, replicas of the cluster)
   */
  readonly replicationFactor?: number;
  /**
   * Topic-level settings, e.g. `{ 'retention.ms': '604800000' }`.
   * @default {}
   * @see https://kafka.apache.org/documentation/#topicconfigs
   */
  readonly config?: Readonly<Record<string, string>>;
}

/** A topic created by a KafkaCluster's provisioning Job. */
export class KafkaTopic {
  /** @internal */
  public constructor(
    public readonly name: string,
    public readonly partitions: number,
    public readonly replicationFactor: number,
    public readonly config: Readonly<Record<string, string>>,
    /** The Job that creates it (`--if-not-exists`, so re-running it changes nothing). */
    public readonly job: KubeJob,
  ) {}
}

/** `<cluster>-topic-<topic>` as a DNS label: `_` and `.` become `-`, long names get a hash suffix. */
export function topicJobName(cluster: string, topic: string): string {
  const plain = `${cluster}-topic-${topic.toLowerCase().replace(/[._]/g, '-')}`.replace(/-+$/, '');
  if (plain.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(plain)) {
    return plain;
  }
  const hash = createHash('sha256').update(topic).digest('hex').slice(0, 8);
  return `${plain.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}
