import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { OUTBOX_COLUMNS as C, OUTBOX_TABLE } from '../events/outbox-table';
import type { Memo, MemoOwner } from './repository';

export type MemoEventType = 'memo_created' | 'memo_updated' | 'memo_deleted';

/** The JSON value published on the memo_events topic (keyed by memo_id). */
export interface MemoEvent {
  readonly event_id: string;
  readonly event_type: MemoEventType;
  readonly memo_id: number;
  readonly title: string;
  readonly author: string | null;
  /** Who the memo belongs to (token subject and issuer); null for memos written without sign-in. */
  readonly owner: MemoOwner | null;
  readonly version: number;
  readonly timestamp: string;
}

export interface MemoEvents {
  /** Writes the event to the outbox inside the caller's transaction: it commits or rolls back with the change. */
  record(
    trx: Knex.Transaction,
    type: MemoEventType,
    memo: Pick<Memo, 'id' | 'title' | 'author' | 'owner' | 'version'>,
    at: Date,
  ): Promise<MemoEvent>;
}

export function buildMemoEvent(
  type: MemoEventType,
  memo: Pick<Memo, 'id' | 'title' | 'author' | 'owner' | 'version'>,
  at: Date,
): MemoEvent {
  return {
    event_id: randomUUID(),
    event_type: type,
    memo_id: memo.id,
    title: memo.title,
    author: memo.author,
    owner: memo.owner === null ? null : { sub: memo.owner.sub, iss: memo.owner.iss },
    version: memo.version,
    timestamp: at.toISOString(),
  };
}

/** The outbox writer; the relay in src/events reads the same table and publishes in id order. */
export function createOutboxEvents(): MemoEvents {
  return {
    async record(trx, type, memo, at) {
      const event = buildMemoEvent(type, memo, at);
      await trx(OUTBOX_TABLE).insert({
        [C.eventId]: event.event_id,
        [C.aggregateId]: memo.id,
        [C.eventType]: type,
        [C.payload]: JSON.stringify(event),
        [C.createdAt]: at,
        [C.publishedAt]: null,
      });
      return event;
    },
  };
}
