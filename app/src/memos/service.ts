import type { Knex } from 'knex';
import type { Principal } from '../auth/principal';
import type { MemoCache } from './cache';
import type { Logger } from '../logger';
import { MemoError } from './errors';
import type { MemoEvents } from './events';
import { createMemoRepository, Memo, MemoOwner, TagCount } from './repository';
import { tokenize } from '../search/tokenizer';
import { encodeCursor, encodeTagCursor, LIMITS, ListQuery, MemoInput, MemoPatch, TagQuery } from './schema';
import { createTagPageCache } from './tag-cache';

export interface MemoServiceDeps {
  readonly db: Knex;
  readonly cache: MemoCache;
  readonly events: MemoEvents;
  readonly logger: Logger;
  /**
   * Sign-in is on: every write names its caller, memos belong to their creator, and only the
   * owner or an admin may change or delete one. Off, writes are anonymous and unrestricted.
   * @default false
   */
  readonly ownership?: boolean;
}

export interface MemoPage {
  readonly items: readonly Memo[];
  readonly next_cursor: string | null;
}

export interface TagPage {
  readonly items: readonly TagCount[];
  readonly next_cursor: string | null;
}

/**
 * What a conditional write was told to expect (If-Match): a version, one of several versions
 * (none at all when the header named only tags this API never issues), any version (*), or nothing.
 */
export type ExpectedVersion = number | readonly number[] | '*' | undefined;

/** The memo rules: what the routes may ask, in domain terms (MemoError for expected refusals). */
export interface MemoService {
  create(given: MemoInput, caller?: Principal): Promise<Memo>;
  get(id: number): Promise<Memo>;
  /** PUT: the body is the whole memo. The caller must say which version it replaces. */
  replace(id: number, input: MemoInput, expected: ExpectedVersion, caller?: Principal): Promise<Memo>;
  /** PATCH: fields present in the body replace those of the current version. */
  patch(id: number, patch: MemoPatch, expected: ExpectedVersion, caller?: Principal): Promise<Memo>;
  /** DELETE: If-Match is optional here; when given it must match. */
  remove(id: number, expected: ExpectedVersion, caller?: Principal): Promise<void>;
  list(query: ListQuery): Promise<MemoPage>;
  /** A page of tags in name order; served from a short-lived cache (memos/tag-cache.ts). */
  tags(query: TagQuery): Promise<TagPage>;
}

const DEADLOCK_RETRIES = 3;

function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

export function createMemoService(deps: MemoServiceDeps): MemoService {
  const { db, cache, events, logger } = deps;
  const ownership = deps.ownership ?? false;
  const repo = createMemoRepository(db);

  /** The owner a new memo gets: the caller when sign-in is on, nobody otherwise. */
  function ownerOf(caller: Principal | undefined): MemoOwner | null {
    if (!ownership) return null;
    if (caller === undefined) throw new Error('a write reached the memo service without a verified caller');
    return { sub: caller.subject, iss: caller.issuer };
  }

  /** Owner (same subject and issuer) or admin; a memo without an owner is the admins' alone. */
  function authorize(id: number, current: Memo, caller: Principal | undefined): void {
    if (!ownership) return;
    if (caller === undefined) throw new Error('a write reached the memo service without a verified caller');
    if (caller.isAdmin) return;
    if (current.owner === null)
      throw MemoError.forbidden(id, 'it was written before sign-in and only an admin may change it');
    if (current.owner.sub !== caller.subject || current.owner.iss !== caller.issuer) {
      throw MemoError.forbidden(id, 'it belongs to another user');
    }
  }

  /**
   * With sign-in on, `author` is the token's display name, never the client's: on create the
   * caller's; on a change by the owner, the owner's current name; on a change by an admin, kept.
   */
  function authorFor(
    caller: Principal | undefined,
    current: Memo | undefined,
    given: string | null,
  ): string | null {
    if (!ownership || caller === undefined) return given;
    if (current === undefined) return caller.displayName;
    const isOwner = current.owner?.sub === caller.subject && current.owner?.iss === caller.issuer;
    return isOwner ? caller.displayName : current.author;
  }

  /**
   * Write transactions run at READ COMMITTED: the row lock (SELECT ... FOR UPDATE) plus the
   * version check is the consistency this service needs, and it avoids the gap locks of
   * REPEATABLE READ that make concurrent inserts of index rows deadlock. InnoDB may still pick
   * a deadlock victim; the whole transaction (outbox row included) is then retried.
   */
  async function transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction(work, { isolationLevel: 'read committed' });
      } catch (err) {
        if (!isRetryable(err) || attempt > DEADLOCK_RETRIES) throw err;
        logger.warn('transaction retried after a lock conflict', {
          attempt,
          code: (err as { code?: string }).code,
        });
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
      }
    }
  }

  /*
   * Refused, not cut: indexing only part of a memo would make the rest unsearchable without
   * anyone being told, and every stored row is a write the database pays for on every update.
   */
  function checkIndexSize(input: MemoInput): void {
    const terms = tokenize(`${input.title}\n${input.content}`).length;
    if (terms > LIMITS.indexTermsPerMemo) throw MemoError.indexTooLarge(terms, LIMITS.indexTermsPerMemo);
  }

  const tagPages = createTagPageCache<TagPage>();

  function checkVersion(id: number, current: Memo, expected: ExpectedVersion): void {
    if (expected === undefined || expected === '*') return;
    const versions = typeof expected === 'number' ? [expected] : expected;
    if (!versions.includes(current.version)) throw MemoError.versionMismatch(id, current.version);
  }

  /** Locks the row, applies the change, writes the outbox event, all in one transaction. */
  async function write(
    id: number,
    expected: ExpectedVersion,
    caller: Principal | undefined,
    change: (current: Memo) => MemoInput,
  ): Promise<Memo> {
    const updated = await transaction(async (trx) => {
      const current = await repo.lockById(trx, id);
      if (!current) throw MemoError.notFound(id);
      // Before the version: a caller who may not touch the memo learns nothing about its state.
      authorize(id, current, caller);
      checkVersion(id, current, expected);
      const changed = change(current);
      const next = { ...changed, author: authorFor(caller, current, changed.author) };
      checkIndexSize(next);
      const now = new Date();
      const version = current.version + 1;
      await repo.update(trx, id, next, version, now);
      await events.record(
        trx,
        'memo_updated',
        { id, title: next.title, author: next.author, owner: current.owner, version },
        now,
      );
      return repo.findById(id, trx);
    });
    // After commit, never before: a version written through earlier could still roll back,
    // and it would then sit in the cache above the row's real version.
    await cache.updated(updated as Memo);
    return updated as Memo;
  }

  return {
    async create(given: MemoInput, caller?: Principal): Promise<Memo> {
      checkIndexSize(given);
      const owner = ownerOf(caller);
      const input = { ...given, author: authorFor(caller, undefined, given.author) };
      const memo = await transaction(async (trx) => {
        const now = new Date();
        const id = await repo.insert(trx, input, now, owner);
        await events.record(
          trx,
          'memo_created',
          { id, title: input.title, author: input.author, owner, version: 1 },
          now,
        );
        return repo.findById(id, trx);
      });
      logger.debug('memo created', { memo_id: memo?.id });
      return memo as Memo;
    },

    async get(id: number): Promise<Memo> {
      const memo = await cache.getOrLoad(id, () => repo.findById(id));
      if (!memo) throw MemoError.notFound(id);
      return memo;
    },

    async replace(
      id: number,
      input: MemoInput,
      expected: ExpectedVersion,
      caller?: Principal,
    ): Promise<Memo> {
      if (expected === undefined) throw MemoError.versionRequired();
      return write(id, expected, caller, () => input);
    },

    async patch(id: number, patch: MemoPatch, expected: ExpectedVersion, caller?: Principal): Promise<Memo> {
      if (expected === undefined) throw MemoError.versionRequired();
      return write(id, expected, caller, (current) => ({
        title: patch.title ?? current.title,
        content: patch.content ?? current.content,
        tags: patch.tags ?? current.tags,
        priority: patch.priority ?? current.priority,
        category: patch.category !== undefined ? patch.category : current.category,
        author: patch.author !== undefined ? patch.author : current.author,
      }));
    },

    async remove(id: number, expected: ExpectedVersion, caller?: Principal): Promise<void> {
      const removed = await transaction(async (trx) => {
        const current = await repo.lockById(trx, id);
        if (!current) throw MemoError.notFound(id);
        authorize(id, current, caller);
        checkVersion(id, current, expected);
        await repo.remove(trx, id);
        await events.record(trx, 'memo_deleted', current, new Date());
        return current;
      });
      // The tombstone carries the deleted row's version, so a reader that loaded the row before
      // the commit cannot write it back.
      await cache.deleted(id, removed.version);
    },

    async list(query: ListQuery): Promise<MemoPage> {
      const rows = await repo.list(query);
      const items = rows.slice(0, query.limit);
      const more = rows.length > query.limit;
      return { items, next_cursor: more ? encodeCursor(items[items.length - 1].id) : null };
    },

    async tags(query: TagQuery): Promise<TagPage> {
      return tagPages.get(JSON.stringify([query.after ?? null, query.limit]), async () => {
        const rows = await repo.tagCounts(query);
        const items = rows.slice(0, query.limit);
        const more = rows.length > query.limit;
        return { items, next_cursor: more ? encodeTagCursor(items[items.length - 1].tag) : null };
      });
    },
  };
}
