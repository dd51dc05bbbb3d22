import type { ListQuery } from '../memos/schema';
import { planSearch, SearchTerm } from './tokenizer';

/*
 * Which index a search page is read from, decided from the optimizer's row estimates (one
 * EXPLAIN, run by the repository). Pure: the memo repository (memos/repository.ts) runs the
 * estimate, asks here, and builds and runs the statements of the chosen plan.
 */

/** One condition a search result must meet: a search term or a filter. */
export type SearchCondition =
  | SearchTerm
  | { readonly kind: 'tag'; readonly tag: string }
  | {
      readonly kind: 'column';
      readonly column: 'priority' | 'category' | 'author';
      readonly value: string | number;
    };

/*
 * How a search page is read. `ordered`: walk one condition's index backwards, (token, memo_id),
 * (tag, memo_id) or (column, id), which is already in id-descending order and so stops after
 * limit + 1 matches. `scan`: walk memos' primary key backwards. `collect`: gather every posting
 * of a prefix (its tokens are several keys, so no single index range is in id order), then sort.
 * Every other condition is checked on each row reached: EXISTS on a primary key, or a column test.
 * `intersect`: every term a semi-join, left to the optimizer, which reads each term's postings as
 * one range and matches them before it reads a memo: best when several terms are all rare.
 */
export type SearchDriver =
  | { readonly kind: 'scan' }
  | { readonly kind: 'intersect' }
  | { readonly kind: 'ordered'; readonly condition: number }
  | { readonly kind: 'collect'; readonly condition: number };

/** A prefix with more tokens than this is collected, or probed, rather than walked per token. */
export const MAX_PREFIX_TOKENS = 8;
/** A term with fewer estimated postings is matched as one range read (semi-join), not probed. */
export const SEMI_JOIN_MAX_ROWS = 20_000;

/** The conditions of a search, terms first; an empty list means nothing searchable. */
export function searchConditions(query: ListQuery): SearchCondition[] {
  const conditions: SearchCondition[] = [...planSearch(query.q ?? '').terms];
  if (conditions.length === 0) return [];
  if (query.tag !== undefined) conditions.push({ kind: 'tag', tag: query.tag });
  if (query.priority !== undefined)
    conditions.push({ kind: 'column', column: 'priority', value: query.priority });
  if (query.category !== undefined)
    conditions.push({ kind: 'column', column: 'category', value: query.category });
  if (query.author !== undefined) conditions.push({ kind: 'column', column: 'author', value: query.author });
  return conditions;
}

/** Every way the conditions can be read; each must give the same pages (the tests check it). */
export function possibleDrivers(conditions: readonly SearchCondition[]): SearchDriver[] {
  return [
    ...conditions.flatMap((c, i): SearchDriver[] =>
      c.kind === 'prefix' ? [{ kind: 'ordered', condition: i }] : [],
    ),
    ...conditions.map((c, i): SearchDriver => ({
      kind: c.kind === 'prefix' ? 'collect' : 'ordered',
      condition: i,
    })),
    { kind: 'scan' },
    { kind: 'intersect' },
  ];
}

/**
 * Picks the driver that reaches the fewest rows, from the optimizer's row estimate of each
 * condition (`estimates[i]`, index dives, typically within 2x) and of the table (`total`).
 * A driver walking in id order stops after `wanted` matches: with the other conditions' shares
 * d_j of the table taken as independent, that is about wanted / (d_1 * ... * d_k) rows, and never
 * more than its own rows. `collect` reads all of its rows. So a common term alone is read from
 * memos in id order and probed (a few hundred rows), a rare term from its postings, and a
 * selective filter from its own index. On a tie an ordered driver wins: it may stop early.
 */
export function chooseDriver(
  conditions: readonly SearchCondition[],
  estimates: readonly number[],
  total: number,
  wanted: number,
  branches: readonly number[] = conditions.map(() => 1),
): SearchDriver {
  const share = estimates.map((e) => Math.min(1, Math.max(0, e) / Math.max(1, total)));
  const reach = (skip: number): number =>
    wanted / share.reduce((product, s, i) => (i === skip ? product : product * s), 1);
  let best: SearchDriver = { kind: 'scan' };
  let bestCost = reach(-1);
  conditions.forEach((c, i) => {
    const options: [SearchDriver['kind'], number][] = [];
    // A prefix of a few tokens can be walked in order, one walk per token.
    if (c.kind !== 'prefix' || branches[i] <= MAX_PREFIX_TOKENS) {
      options.push(['ordered', Math.min(estimates[i], branches[i] * reach(i))]);
    }
    if (c.kind === 'prefix') options.push(['collect', estimates[i]]);
    for (const [kind, cost] of options) {
      // Strictly cheaper to replace, and an ordered driver on a tie with the scan.
      if (cost < bestCost || (kind === 'ordered' && cost === bestCost)) {
        best = kind === 'ordered' ? { kind, condition: i } : { kind, condition: i };
        bestCost = cost;
      }
    }
  });
  return best;
}

/** The plan of one page: its driver, and which conditions are read as one range (semi-join). */
export interface PagePlan {
  readonly driver: SearchDriver;
  readonly semiJoin: (c: SearchCondition) => boolean;
}

/**
 * The plan for a page from the estimates of each condition (`estimates[i]`) and of the table
 * (`total`); `branches[i]` is how many tokens a prefix has (see chooseDriver).
 */
export function planPage(
  conditions: readonly SearchCondition[],
  estimates: readonly number[],
  total: number,
  wanted: number,
  branches: readonly number[],
): PagePlan {
  const terms = estimates.filter((_, i) => conditions[i].kind === 'exact' || conditions[i].kind === 'prefix');
  // Several rare terms: intersecting their postings beats walking one and probing the others.
  const driver: SearchDriver =
    terms.length > 1 && terms.every((r) => r <= SEMI_JOIN_MAX_ROWS)
      ? { kind: 'intersect' }
      : chooseDriver(conditions, estimates, total, wanted, branches);
  const small = new Set(conditions.filter((_, i) => estimates[i] <= SEMI_JOIN_MAX_ROWS));
  return { driver, semiJoin: (c) => small.has(c) };
}
