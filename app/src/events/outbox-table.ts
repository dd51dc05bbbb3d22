/**
 * The outbox table's name and columns, the one place they are spelled: the memo service writes
 * its rows (memos/events.ts), the relay reads, marks and prunes them (outbox-store.ts), the tests
 * read them, and any migration after 20250101000000_create_memos names them from here. That
 * first migration, which created the table, keeps its own SQL as it ran; a test checks the
 * table it made against these names.
 */
export const OUTBOX_TABLE = 'outbox';

export const OUTBOX_COLUMNS = {
  /** AUTO_INCREMENT: the relay publishes in this order. */
  id: 'id',
  /** The event's UUID, also in the payload; consumers dedupe by it. */
  eventId: 'event_id',
  /** The memo's id: the Kafka message key, so one memo's events share a partition. */
  aggregateId: 'aggregate_id',
  eventType: 'event_type',
  /** The Kafka message value, byte for byte (JSON). */
  payload: 'payload',
  createdAt: 'created_at',
  /** NULL until the relay has published the row; then the database's UTC time of the mark. */
  publishedAt: 'published_at',
} as const;
