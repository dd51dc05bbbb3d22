import type { Knex } from 'knex';
import {
  MAX_PREFIX_TOKENS,
  planPage,
  SearchCondition,
  searchConditions,
  SearchDriver,
  SEMI_JOIN_MAX_ROWS,
} from '../search/planner';
import { planSearch, tokenize } from '../search/tokenizer';
import { MemoError } from './errors';
import type { ListQuery, MemoInput, TagQuery } from './schema';

/** The signed-in caller a memo belongs to: a subject is unique only within its issuer. */
export interface MemoOwner {
  readonly sub: string;
  readonly iss: string;
}

export interface Memo {
  readonly id: number;
  readonly title: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly priority: number;
  readonly category: string | null;
  readonly author: string | null;
  /** null: written while sign-in was off (or before it existed); only an admin may change it. */
  readonly owner: MemoOwner | null;
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
  owner_sub: string | null;
  owner_iss: string | null;
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
  'owner_sub',
  'owner_iss',
  'version',
  'created_at',
  'updated_at',
];
const BATCH = 500;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Rows (postings, memos, probes) one search page may examine: MariaDB's LIMIT ROWS EXAMINED stops
 * the statement there, and the page is refused (422) rather than served short. Without it, terms
 * that each occur often but never together walk the whole table: the worst plan costs as many
 * rows as the database holds. 200,000 rows are about 80 ms of one core here; README "Abuse
 * limits" has the measurements.
 */
export const SEARCH_MAX_ROWS_EXAMINED = 200_000;
/** MariaDB's warning when LIMIT ROWS EXAMINED stopped a statement (ER_QUERY_EXCEEDED_ROWS_EXAMINED_LIMIT). */
const ER_QUERY_EXCEEDED_ROWS_EXAMINED_LIMIT = 1931;

const COLUMN_INDEX = {
  priority: 'memos_priority_id',
  category: 'memos_category_id',
  author: 'memos_author_id',
} as const;

/** Every SQL statement of the memo feature. Writes take the caller's transaction. */
export interface MemoRepository {
  findById(id: number, conn?: Knex | Knex.Transaction): Promise<Memo | undefined>;
  /** Reads and row-locks a memo so a concurrent writer waits instead of overwriting. */
  lockById(trx: Knex.Transaction, id: number): Promise<Memo | undefined>;
  insert(trx: Knex.Transaction, input: MemoInput, now: Date, owner?: MemoOwner | null): Promise<number>;
  update(trx: Knex.Transaction, id: number, input: MemoInput, version: number, now: Date): Promise<void>;
  /** Tags and tokens go with the row (ON DELETE CASCADE). */
  remove(trx: Knex.Transaction, id: number): Promise<void>;
  /**
   * One page in id-descending order, limit + 1 rows so the caller knows whether another page
   * exists. A search picks its driving index first (search/planner.ts); `options.driver` forces one.
   */
  list(query: ListQuery, options?: { driver?: SearchDriver; rowsExamined?: number }): Promise<Memo[]>;
  /** limit + 1 tags after `after`, in name order, with their memo counts. */
  tagCounts(query: TagQuery): Promise<TagCount[]>;
}

export function createMemoRepository(db: Knex): MemoRepository {
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
      owner: r.owner_sub !== null && r.owner_iss !== null ? { sub: r.owner_sub, iss: r.owner_iss } : null,
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

  /** `SELECT 1` of the rows meeting one condition: the statement the optimizer estimates. */
  function conditionRows(c: SearchCondition): Knex.QueryBuilder {
    const one = db.raw('1');
    switch (c.kind) {
      case 'exact':
        return db('memo_tokens').select(one).where('token', c.token);
      case 'prefix':
        return db('memo_tokens')
          .select(one)
          .where('token', 'like', `${escapeLike(c.prefix)}%`);
      case 'tag':
        return db('memo_tags').select(one).where('tag', c.tag);
      case 'column':
        return db('memos').select(one).where(c.column, c.value);
    }
  }

  /*
   * Row estimates from one EXPLAIN of all conditions (a UNION ALL, one SELECT per condition and
   * one of the whole table): index dives, no rows read, one round trip. Counting the rows instead
   * costs as much as the slow plans this choice avoids.
   */
  async function estimate(
    conditions: readonly SearchCondition[],
  ): Promise<{ rows: number[]; total: number }> {
    const parts = [...conditions.map(conditionRows), db('memos').select(db.raw('1'))].map((b) => b.toSQL());
    const sql = parts.map((p) => p.sql).join(' UNION ALL ');
    const [plan] = (await db.raw(
      `EXPLAIN ${sql}`,
      parts.flatMap((p) => [...p.bindings]),
    )) as [{ id: number | null; rows: number | string | null }[]];
    const byId = new Map(plan.map((r) => [Number(r.id), Number(r.rows ?? 0)]));
    return {
      rows: conditions.map((_, i) => byId.get(i + 1) ?? 0),
      total: byId.get(conditions.length + 1) ?? 0,
    };
  }

  /** Adds condition `c` as a test on the row `m` (EXISTS probes use a primary or memo_id key). */
  function check(q: Knex.QueryBuilder, c: SearchCondition): void {
    switch (c.kind) {
      case 'exact':
        q.whereExists(
          db('memo_tokens as t').select(db.raw('1')).where('t.token', c.token).whereRaw('t.memo_id = m.id'),
        );
        return;
      case 'prefix':
        q.whereExists(
          db('memo_tokens as t')
            .select(db.raw('1'))
            .whereRaw('t.memo_id = m.id')
            .where('t.token', 'like', `${escapeLike(c.prefix)}%`),
        );
        return;
      case 'tag':
        q.whereExists(
          db('memo_tags as g').select(db.raw('1')).where('g.tag', c.tag).whereRaw('g.memo_id = m.id'),
        );
        return;
      case 'column':
        q.where(`m.${c.column}`, c.value);
    }
  }

  /**
   * The distinct tokens of a prefix, up to MAX_PREFIX_TOKENS + 1: a loose index scan, one
   * `ORDER BY token LIMIT 1` dive per token with a constant lower bound, however many postings
   * each token has. (A recursive CTE does the same in one statement, but MariaDB then reads
   * the bound as a filter, not as a range start, and walks every posting: 47 ms for "deplo".)
   */
  async function prefixTokens(prefix: string): Promise<string[]> {
    const pattern = `${escapeLike(prefix)}%`;
    const found: string[] = [];
    let from = prefix;
    let inclusive = true;
    while (found.length <= MAX_PREFIX_TOKENS) {
      const row = (await db('memo_tokens')
        .first('token')
        .where('token', inclusive ? '>=' : '>', from)
        .where('token', 'like', pattern)
        .orderBy('token')) as { token: string } | undefined;
      if (row === undefined) break;
      found.push(row.token);
      from = row.token;
      inclusive = false;
    }
    return found;
  }

  /**
   * One walk: `lead` read from its index in id-descending order (or memos' primary key), every
   * other condition checked on the row. Conditions with `semiJoin` set are few postings, read
   * as one range and matched (a random probe per row would cost a disk read on a cold index).
   */
  function walk(
    query: ListQuery,
    conditions: readonly SearchCondition[],
    lead: SearchCondition | { kind: 'token'; token: string } | undefined,
    semiJoin: (c: SearchCondition) => boolean,
    covered?: SearchCondition,
  ): Knex.QueryBuilder {
    const after = query.after;
    let q: Knex.QueryBuilder;
    // STRAIGHT_JOIN and FORCE INDEX keep the chosen order: left to itself, the optimizer
    // materialises every posting of a term, or intersects two filter indexes, and then sorts.
    if (lead?.kind === 'exact' || lead?.kind === 'token' || lead?.kind === 'tag') {
      const [table, key, value] =
        lead.kind === 'tag' ? ['memo_tags', 'tag', lead.tag] : ['memo_tokens', 'token', lead.token];
      q = db.from(db.raw(`?? AS d STRAIGHT_JOIN memos AS m ON m.id = d.memo_id`, [table]));
      q.where(`d.${key}`, value);
      if (after !== undefined) q.where('d.memo_id', '<', after);
      q.orderBy('d.memo_id', 'desc');
    } else if (lead?.kind === 'prefix') {
      const postings = db('memo_tokens')
        .distinct('memo_id')
        .where('token', 'like', `${escapeLike(lead.prefix)}%`);
      if (after !== undefined) postings.where('memo_id', '<', after);
      const sub = postings.toSQL();
      q = db.from(
        db.raw(`(${sub.sql}) AS d STRAIGHT_JOIN memos AS m ON m.id = d.memo_id`, [...sub.bindings]),
      );
      q.orderBy('m.id', 'desc');
    } else {
      const index = lead?.kind === 'column' ? COLUMN_INDEX[lead.column] : 'PRIMARY';
      q = db.from(db.raw(`memos AS m FORCE INDEX (${index})`));
      q.orderBy('m.id', 'desc');
    }
    if (after !== undefined) q.where('m.id', '<', after);
    for (const c of conditions) {
      // The lead's own index already holds the condition (a column still needs its equality).
      if ((c === lead || c === covered) && c.kind !== 'column') continue;
      if ((c.kind === 'exact' || c.kind === 'prefix') && semiJoin(c)) {
        q.whereIn('m.id', conditionRows(c).clearSelect().select('memo_id'));
      } else {
        check(q, c);
      }
    }
    for (const text of planSearch(query.q ?? '').substrings) {
      const pattern = `%${escapeLike(text)}%`;
      q.where((w) => w.where('m.title', 'like', pattern).orWhere('m.content', 'like', pattern));
    }
    return q;
  }

  /**
   * The statement that reads a page, stopped by the server after `rowsExamined` rows (it must
   * end in LIMIT). The warning that says it was stopped is read on the same connection, hence
   * the connection held for both. EXISTS stays a per-row probe: converted to IN, it would become
   * a semi-join that may again materialise all postings of a common term.
   */
  async function bounded<T>(sql: string, bindings: readonly Knex.RawBinding[], rowsExamined: number) {
    if (!/ limit \?$/i.test(sql)) throw new Error(`a bounded search statement must end in LIMIT: ${sql}`);
    const client = db.client as {
      acquireConnection(): Promise<unknown>;
      releaseConnection(connection: unknown): Promise<void>;
    };
    const connection = await client.acquireConnection();
    try {
      const [rows] = (await db
        .raw(`SET STATEMENT optimizer_switch='exists_to_in=off' FOR ${sql} ROWS EXAMINED ${rowsExamined}`, [
          ...bindings,
        ])
        .connection(connection)) as [T[]];
      const [warnings] = (await db.raw('SHOW WARNINGS').connection(connection)) as [{ Code: number }[]];
      if (warnings.some((w) => Number(w.Code) === ER_QUERY_EXCEEDED_ROWS_EXAMINED_LIMIT)) {
        throw MemoError.searchTooBroad(rowsExamined);
      }
      return rows;
    } finally {
      await client.releaseConnection(connection);
    }
  }

  function run<T>(q: Knex.QueryBuilder, rowsExamined: number): Promise<T[]> {
    const { sql, bindings } = q.toSQL();
    return bounded<T>(sql, bindings, rowsExamined);
  }

  async function search(
    query: ListQuery,
    forced?: SearchDriver,
    rowsExamined = SEARCH_MAX_ROWS_EXAMINED,
  ): Promise<MemoRow[]> {
    const conditions = searchConditions(query);
    if (conditions.length === 0) return [];
    const wanted = query.limit + 1;
    let driver = forced;
    let semiJoin = (_c: SearchCondition): boolean => false;
    const tokens = new Map<number, string[]>();
    const leadTokens = async (i: number): Promise<string[]> => {
      const c = conditions[i];
      if (!tokens.has(i)) tokens.set(i, c.kind === 'prefix' ? await prefixTokens(c.prefix) : []);
      return tokens.get(i) ?? [];
    };
    if (driver === undefined) {
      const { rows, total } = await estimate(conditions);
      // Only a common prefix needs its tokens: a rare one is collected whole in a few ms.
      await Promise.all(
        conditions.map((c, i) =>
          c.kind === 'prefix' && rows[i] > SEMI_JOIN_MAX_ROWS ? leadTokens(i) : undefined,
        ),
      );
      const branches = conditions.map((c, i) =>
        c.kind === 'prefix' ? (tokens.get(i)?.length ?? Infinity) : 1,
      );
      ({ driver, semiJoin } = planPage(conditions, rows, total, wanted, branches));
    }
    const columns = COLUMNS.map((c) => `m.${c}`);
    if (driver.kind === 'intersect') {
      // walk() with every term a semi-join and no forced index: the optimizer's own plan.
      const q = db('memos as m');
      for (const c of conditions) {
        if (c.kind === 'exact' || c.kind === 'prefix') {
          q.whereIn('m.id', conditionRows(c).clearSelect().select('memo_id'));
        } else if (c.kind === 'tag') {
          q.whereIn('m.id', conditionRows(c).clearSelect().select('memo_id'));
        } else {
          q.where(`m.${c.column}`, c.value);
        }
      }
      if (query.after !== undefined) q.where('m.id', '<', query.after);
      for (const text of planSearch(query.q ?? '').substrings) {
        const pattern = `%${escapeLike(text)}%`;
        q.where((w) => w.where('m.title', 'like', pattern).orWhere('m.content', 'like', pattern));
      }
      return run(q.select(columns).orderBy('m.id', 'desc').limit(wanted), rowsExamined);
    }
    if (driver.kind === 'scan')
      return run(walk(query, conditions, undefined, semiJoin).select(columns).limit(wanted), rowsExamined);
    const lead = conditions[driver.condition];
    if (driver.kind === 'collect' || lead.kind !== 'prefix') {
      return run(walk(query, conditions, lead, semiJoin).select(columns).limit(wanted), rowsExamined);
    }
    // An ordered prefix: one id-descending walk per token, each stopping at `wanted` rows,
    // merged; a memo holding several of the tokens comes once. Then the rows, by id.
    const list = await leadTokens(driver.condition);
    if (list.length === 0) return [];
    const walks = list.map((token) =>
      walk(query, conditions, { kind: 'token', token }, semiJoin, lead).select('m.id').limit(wanted).toSQL(),
    );
    const ids = await bounded<{ id: number }>(
      `SELECT DISTINCT id FROM (${walks.map((w) => `(${w.sql})`).join(' UNION ALL ')}) AS u ORDER BY id DESC LIMIT ?`,
      [...walks.flatMap((w) => [...w.bindings]), wanted],
      rowsExamined,
    );
    if (ids.length === 0) return [];
    return db('memos')
      .select(COLUMNS)
      .whereIn(
        'id',
        ids.map((r) => r.id),
      )
      .orderBy('id', 'desc');
  }

  return {
    async findById(id: number, conn: Knex | Knex.Transaction = db): Promise<Memo | undefined> {
      const rows: MemoRow[] = await conn('memos').select(COLUMNS).where({ id });
      return (await withTags(rows, conn))[0];
    },

    async lockById(trx: Knex.Transaction, id: number): Promise<Memo | undefined> {
      const rows: MemoRow[] = await trx('memos').select(COLUMNS).where({ id }).forUpdate();
      return (await withTags(rows, trx))[0];
    },

    async insert(
      trx: Knex.Transaction,
      input: MemoInput,
      now: Date,
      owner: MemoOwner | null = null,
    ): Promise<number> {
      const [id] = await trx('memos').insert({
        title: input.title,
        content: input.content,
        priority: input.priority,
        category: input.category,
        author: input.author,
        owner_sub: owner?.sub ?? null,
        owner_iss: owner?.iss ?? null,
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

    async remove(trx: Knex.Transaction, id: number): Promise<void> {
      await trx('memos').where({ id }).delete();
    },

    /**
     * One page in id-descending order, fetching limit + 1 rows so the caller knows whether
     * another page exists. Keyset on the primary key: new memos get higher ids and land before
     * the first page, so paging on never repeats or skips a row that existed when it began.
     * A search picks its driving index first (search/planner.ts); `options.driver` forces one.
     */
    async list(
      query: ListQuery,
      options: { driver?: SearchDriver; rowsExamined?: number } = {},
    ): Promise<Memo[]> {
      if (query.q !== undefined) return withTags(await search(query, options.driver, options.rowsExamined));
      const q = db('memos as m').select(COLUMNS.map((c) => `m.${c}`));
      if (query.after !== undefined) q.where('m.id', '<', query.after);
      if (query.priority !== undefined) q.where('m.priority', query.priority);
      if (query.category !== undefined) q.where('m.category', query.category);
      if (query.author !== undefined) q.where('m.author', query.author);
      if (query.tag !== undefined) {
        q.whereIn('m.id', db('memo_tags').select('memo_id').where('tag', query.tag));
      }
      const rows: MemoRow[] = await q.orderBy('m.id', 'desc').limit(query.limit + 1);
      return withTags(rows);
    },

    /**
     * limit + 1 tags after `after`, in name order, with their memo counts. Keyset on the tag:
     * a range of the (tag, memo_id) index, so a page reads the postings of its own tags only,
     * where an order by count would group every tag of the table for every page.
     */
    async tagCounts(query: TagQuery): Promise<TagCount[]> {
      const q = db('memo_tags').select('tag').count({ count: '*' });
      if (query.after !== undefined) q.where('tag', '>', query.after);
      const rows = (await q
        .groupBy('tag')
        .orderBy('tag')
        .limit(query.limit + 1)) as {
        tag: string;
        count: number | string;
      }[];
      return rows.map((r) => ({ tag: r.tag, count: Number(r.count) }));
    },
  };
}
