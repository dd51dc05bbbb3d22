import type { ReceivedEvent } from './kafka';

/*
 * What an independent reader found on a topic, checked against the outbox rows the service
 * committed: the one comparison every event suite makes.
 */

/** The outbox columns the comparison needs. */
export interface OutboxRow {
  readonly id: number;
  readonly event_id: string;
  readonly aggregate_id: number;
  readonly event_type: string;
  readonly payload: string;
}

export interface Analysis {
  readonly read: number;
  readonly lost: string[];
  /** Event ids read more than once, one entry per extra copy. */
  readonly duplicates: string[];
  /** Read but not in the outbox. */
  readonly unknown: string[];
  /** Event ids whose bytes on the topic differ from the outbox row (any copy). */
  readonly altered: string[];
  /** Event ids whose Kafka key is not the memo id. */
  readonly wrongKey: string[];
  /** Memos whose events landed on more than one partition. */
  readonly split: number[];
  /** Per memo, the first occurrence of each event in log order, as "type@version". */
  readonly history: Map<number, string[]>;
}

/** Reads `events` in log order (partition, then offset) against `outbox`; every list should be empty but `duplicates`. */
export function analyse(events: readonly ReceivedEvent[], outbox: readonly OutboxRow[]): Analysis {
  const byEventId = new Map(outbox.map((r) => [r.event_id, r]));
  const inLogOrder = [...events].sort(
    (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
  );
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const unknown: string[] = [];
  const altered = new Set<string>();
  const wrongKey = new Set<string>();
  const partitionOf = new Map<number, Set<number>>();
  const history = new Map<number, string[]>();
  for (const e of inLogOrder) {
    const id = e.value.event_id;
    const row = byEventId.get(id);
    if (!row) {
      unknown.push(id);
      continue;
    }
    // Byte for byte: a duplicate identical to its outbox row is identical to its original too.
    if (e.payload !== row.payload) altered.add(id);
    if (e.key !== String(row.aggregate_id)) wrongKey.add(id);
    const parts = partitionOf.get(row.aggregate_id) ?? new Set<number>();
    parts.add(e.partition);
    partitionOf.set(row.aggregate_id, parts);
    if (seen.has(id)) {
      duplicates.push(id);
      continue;
    }
    seen.add(id);
    const list = history.get(row.aggregate_id) ?? [];
    list.push(`${e.value.event_type}@${e.value.version}`);
    history.set(row.aggregate_id, list);
  }
  return {
    read: events.length,
    lost: outbox.filter((r) => !seen.has(r.event_id)).map((r) => r.event_id),
    duplicates,
    unknown,
    altered: [...altered],
    wrongKey: [...wrongKey],
    split: [...partitionOf].filter(([, parts]) => parts.size > 1).map(([memo]) => memo),
    history,
  };
}
