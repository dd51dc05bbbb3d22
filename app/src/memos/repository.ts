import type { Knex } from 'knex';
import { planSearch, tokenize } from '../search/tokenizer';
import type { ListQuery, MemoInput } from './schema';

export interface Memo {
  readonly id: number;
  readonly title: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly priority: number;
  readonly category: string | null;
  readonly author: string | null;
  readonly version: number;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface TagCount {
  readonly tag: string;
  readonly count: number;
}

interface MemoRow {
  id: number;
  title: string;
  content: string;
  priority: number;
  category: string | null;
  author: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = [
  'id',
  'title',
  'content',
  'priority',
  'category',
  'author',
  'version',
  'created_at',
  'updated_at',
];
const BATCH = 500;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export type MemoRepository = ReturnType<typeof createMemoRepository>;

/** Every SQL statement of the memo feature. Writes take the caller's transaction. */
export function createMemoRepository(db: Knex) {
  async function withTags(rows: MemoRow[], conn: Knex | Knex.Transaction = db): Promise<Memo[]> {
    if (rows.length === 0) return [];
    const tagRows: { memo_id: number; tag: string }[] = await conn('memo_tags')
      .select('memo_id', 'tag')
      .whereIn(
        'memo_id',
        rows.map((r) => r.id),
      )
      .orderBy(['memo_id', 'tag']);
    const byMemo = new Map<number, string[]>();
    for (const { memo_id, tag } of tagRows) {
      const list = byMemo.get(memo_id) ?? [];
      list.push(tag);
      byMemo.set(memo_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      content: r.content,
      tags: byMemo.get(r.id) ?? [],
      priority: r.priority,
      category: r.category,
      author: r.author,
      version: r.version,
      created_at: r.created_at.toISOString(),
      updated_at: r.updated_at.toISOString(),
    }));
  }

  /*
   * Tags and tokens are changed by difference, touching only rows that exist or must exist.
   * A DELETE ... WHERE memo_id = ? for rows that are not there (a new memo) takes a gap lock,
   * and two such transactions inserting into the same gap deadlock each other.
   */
  async function syncRows(
    trx: Knex.Transaction,
    table: 'memo_tags' | 'memo_tokens',
    column: 'tag' | 'token',
    id: number,
    wanted: readonly string[],
    isNew: boolean,
  ): Promise<void> {
    let toInsert = [...new Set(wanted)];
    if (!isNew) {
      const current = new Set(
        ((await trx(table).select(column).where({ memo_id: id })) as Record<string, string>[]).map(
          (r) => r[column],
        ),
      );
      const keep = new Set(toInsert);
      const stale = [...current].filter((v) => !keep.has(v));
      for (let i = 0; i < stale.length; i += BATCH) {
        await trx(table)
          .where({ memo_id: id })
          .whereIn(column, stale.slice(i, i + BATCH))
          .delete();
      }
      toInsert = toInsert.filter((v) => !current.has(v));
    }
    for (let i = 0; i < toInsert.length; i += BATCH) {
      await trx(table).insert(toInsert.slice(i, i + BATCH).map((v) => ({ [column]: v, memo_id: id })));
    }
  }

  const writeTags = (trx: Knex.Transaction, id: number, tags: readonly string[], isNew: boolean) =>
    syncRows(trx, 'memo_tags', 'tag', id, tags, isNew);
  const writeTokens = (trx: Knex.Transaction, id: number, title: string, content: string, isNew: boolean) =>
    syncRows(trx, 'memo_tokens', 'token', id, tokenize(`${title}\n${content}`), isNew);

  return {
    async findById(id: number, conn: Knex | Knex.Transaction = db): Promise<Memo | undefined> {
      const rows: MemoRow[] = await conn('memos').select(COLUMNS).where({ id });
      return (await withTags(rows, conn))[0];
    },

    /** Reads and row-locks a memo so a concurrent writer waits instead of overwriting. */
    async lockById(trx: Knex.Transaction, id: number): Promise<Memo | undefined> {
      const rows: MemoRow[] = await trx('memos').select(COLUMNS).where({ id }).forUpdate();
      return (await withTags(rows, trx))[0];
    },

    async insert(trx: Knex.Transaction, input: MemoInput, now: Date): Promise<number> {
      const [id] = await trx('memos').insert({
        title: input.title,
        content: input.content,
        priority: input.priority,
        category: input.category,
        author: input.author,
        version: 1,
        created_at: now,
        updated_at: now,
      });
      await writeTags(trx, id, input.tags, true);
      await writeTokens(trx, id, input.title, input.content, true);
      return id;
    },

    async update(
      trx: Knex.Transaction,
      id: number,
      input: MemoInput,
      version: number,
      now: Date,
    ): Promise<void> {
      await trx('memos').where({ id }).update({
        title: input.title,
        content: input.content,
        priority: input.priority,
        category: input.category,
        author: input.author,
        version,
        updated_at: now,
      });
      await writeTags(trx, id, input.tags, false);
      await writeTokens(trx, id, input.title, input.content, false);
    },

    /** Tags and tokens go with the row (ON DELETE CASCADE). */
    async remove(trx: Knex.Transaction, id: number): Promise<void> {
      await trx('memos').where({ id }).delete();
    },

    /**
     * One page in id-descending order, fetching limit + 1 rows so the caller knows whether
     * another page exists. Keyset on the primary key: new memos get higher ids and land before
     * the first page, so paging on never repeats or skips a row that existed when it began.
     */
    async list(query: ListQuery): Promise<Memo[]> {
      const q = db('memos as m').select(COLUMNS.map((c) => `m.${c}`));
      if (query.after !== undefined) q.where('m.id', '<', query.after);
      if (query.priority !== undefined) q.where('m.priority', query.priority);
      if (query.category !== undefined) q.where('m.category', query.category);
      if (query.author !== undefined) q.where('m.author', query.author);
      if (query.tag !== undefined) {
        q.whereIn('m.id', db('memo_tags').select('memo_id').where('tag', query.tag));
      }
      if (query.q !== undefined) {
        const plan = planSearch(query.q);
        if (plan.terms.length === 0) return [];
        for (const term of plan.terms) {
          const postings = db('memo_tokens').select('memo_id');
          if (term.kind === 'exact') postings.where('token', term.token);
          else postings.where('token', 'like', `${escapeLike(term.prefix)}%`);
          q.whereIn('m.id', postings);
        }
        for (const text of plan.substrings) {
          const pattern = `%${escapeLike(text)}%`;
          q.where((w) => w.where('m.title', 'like', pattern).orWhere('m.content', 'like', pattern));
        }
      }
      const rows: MemoRow[] = await q.orderBy('m.id', 'desc').limit(query.limit + 1);
      return withTags(rows);
    },

    async tagCounts(): Promise<TagCount[]> {
      const rows = (await db('memo_tags')
        .select('tag')
        .count({ count: '*' })
        .groupBy('tag')
        .orderBy([{ column: 'count', order: 'desc' }, 'tag'])) as { tag: string; count: number | string }[];
      return rows.map((r) => ({ tag: r.tag, count: Number(r.count) }));
    },
  };
}
