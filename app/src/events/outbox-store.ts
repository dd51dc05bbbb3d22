import type { Knex } from 'knex';
import { OUTBOX_COLUMNS as C, OUTBOX_TABLE } from './outbox-table';

/** An outbox row as the relay needs it: order, Kafka key and the JSON value. */
export interface OutboxRow {
  readonly id: number;
  readonly aggregateId: number;
  readonly payload: string;
}

/**
 * The relay's SQL on the `outbox` table (created by the memos migration). Times come from the
 * database (UTC_TIMESTAMP) so replicas with skewed clocks agree on what is old enough to prune.
 */
/**
 * Runs a relay write without the per-statement time limit every pooled session has
 * (DB_STATEMENT_TIMEOUT_MS, for the API's requests). The relay's writes are background work: a
 * mark that waits for a row lock must finish, or its batch is sent again on every retry.
 */
function withoutStatementLimit(db: Knex, query: Knex.QueryBuilder): Knex.Raw {
  const { sql, bindings } = query.toSQL().toNative();
  return db.raw(`SET STATEMENT max_statement_time = 0 FOR ${sql}`, bindings);
}

/** The relay's reads and writes of the outbox table. */
export interface OutboxStore {
  /** The oldest unpublished rows, by id, except those in `skip` (still being marked). */
  nextBatch(limit: number, skip?: ReadonlySet<number>): Promise<OutboxRow[]>;
  markPublished(ids: readonly number[]): Promise<void>;
  /** How many rows are not yet published. */
  backlog(): Promise<number>;
  /** Deletes rows published more than retentionMs ago; returns how many. */
  prune(retentionMs: number, batch: number, maxBatches: number): Promise<number>;
}

export function createOutboxStore(db: Knex): OutboxStore {
  return {
    /**
     * The oldest unpublished rows, by id, except those in `skip` (still being marked). A row of
     * a transaction still open when this runs is not seen and is picked up by a later call: for
     * one memo the service serialises changes on the memo row, so its events commit in id order.
     * Two steps: the ids come from the (published_at, id) index alone, so skipping rows costs
     * no payload reads; then the payloads by primary key.
     */
    async nextBatch(limit: number, skip: ReadonlySet<number> = new Set()): Promise<OutboxRow[]> {
      const candidates = (await db(OUTBOX_TABLE)
        .select({ id: C.id })
        .whereNull(C.publishedAt)
        .orderBy(C.id, 'asc')
        .limit(limit + skip.size)) as { id: number }[];
      const ids = candidates
        .map((r) => Number(r.id))
        .filter((id) => !skip.has(id))
        .slice(0, limit);
      if (ids.length === 0) return [];
      const rows = (await db(OUTBOX_TABLE)
        .select({ id: C.id, aggregateId: C.aggregateId, payload: C.payload })
        .whereIn(C.id, ids)
        .orderBy(C.id, 'asc')) as { id: number; aggregateId: number; payload: string }[];
      return rows.map((r) => ({ id: Number(r.id), aggregateId: Number(r.aggregateId), payload: r.payload }));
    },

    async markPublished(ids: readonly number[]): Promise<void> {
      if (ids.length === 0) return;
      await withoutStatementLimit(
        db,
        db(OUTBOX_TABLE)
          .whereIn(C.id, ids as number[])
          .update({ [C.publishedAt]: db.raw('UTC_TIMESTAMP(3)') }),
      );
    },

    async backlog(): Promise<number> {
      const [row] = (await db(OUTBOX_TABLE).whereNull(C.publishedAt).count({ n: '*' })) as {
        n: number | string;
      }[];
      return Number(row?.n ?? 0);
    },

    /**
     * Deletes rows published more than retentionMs ago, at most `batch` per statement so a
     * large backlog never holds long locks, and at most `maxBatches` statements per call.
     */
    async prune(retentionMs: number, batch: number, maxBatches: number): Promise<number> {
      let total = 0;
      for (let i = 0; i < maxBatches; i++) {
        const [result] = (await db.raw(
          `SET STATEMENT max_statement_time = 0 FOR DELETE FROM ${OUTBOX_TABLE}
            WHERE ${C.publishedAt} IS NOT NULL
              AND ${C.publishedAt} < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
            ORDER BY ${C.publishedAt}, ${C.id}
            LIMIT ?`,
          [Math.round(retentionMs * 1000), batch],
        )) as [{ affectedRows: number }];
        total += result.affectedRows;
        if (result.affectedRows < batch) break;
      }
      return total;
    },
  };
}
