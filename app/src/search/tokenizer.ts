/*
 * Search design
 * =============
 * MariaDB's InnoDB FULLTEXT has no n-gram parser (that is MySQL-only) and Mroonga is not part of
 * every mariadb:10.11 deployment, while a LIKE '%q%' scan reads every row. So the service keeps
 * its own inverted index in the table `memo_tokens (token, memo_id)`, PRIMARY KEY (token, memo_id),
 * written in the same transaction as the memo, from title + content:
 *
 *   - Latin, digits and other alphabetic scripts: NFKC-normalised, lower-cased word tokens
 *     (runs of letters/digits), cut to 64 characters.
 *   - Hangul, Han, Hiragana, Katakana runs (no spaces between words, particles glued on): every
 *     character bigram of the run, plus the run's last character alone, so that each character
 *     of the run starts at least one token.
 *
 * A query is split the same way and every term must match (AND):
 *   - a word of 2+ characters matches as a prefix: `token LIKE 'wor%'` is a range read of the
 *     primary key, so "memo" finds "memo" and "memos"; a one-letter word must match exactly,
 *     because a one-letter prefix range would cover a large part of the index;
 *   - a CJK run of 2+ characters needs each of its bigrams (exact key lookups; at most
 *     MAX_BIGRAMS of them, spread over the run); a single CJK character matches `token LIKE 'c%'`
 *     (a bigram starting with it, or the unigram of a run's end);
 *   - bigrams say that the pieces occur, not that they are adjacent, so CJK runs are verified
 *     with LIKE on the candidate rows only: the index decides which rows, the LIKE only confirms.
 * Reading a page (app/src/search/planner.ts, run by app/src/memos/repository.ts): a page is the newest limit + 1
 * matches below the cursor, so the cheapest plan walks something already in id-descending order
 * and stops early. From the optimizer's row estimates (one EXPLAIN of all terms and filters) the
 * repository picks the driver that reaches the fewest rows:
 *   - an exact token, a tag, or a filter column: its index backwards, (token, memo_id),
 *     (tag, memo_id) or (priority|category|author, id); the other conditions are probed per row
 *     (EXISTS on a key), so a common term stops after a few hundred postings;
 *   - a common prefix of a few tokens: one such walk per token, merged; a prefix of many tokens,
 *     or all terms common: memos' primary key backwards, every term probed;
 *   - a rare prefix: all its postings collected and sorted (few by definition); several rare
 *     terms: semi-joins the optimizer intersects before it reads a memo.
 * Letting the optimizer plan `id IN (SELECT ...)` for every case materialised every posting of
 * a common term and sorted them: 30-850 ms at 1,000,000 memos where the walks take a few ms.
 */

export const MAX_TOKEN_LENGTH = 64;
export const MAX_BIGRAMS = 8;

const CJK = /[\p{Script=Hangul}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const WORD = /[\p{L}\p{N}\p{M}]/u;

type Run = { kind: 'word' | 'cjk'; text: string };

function runs(text: string): Run[] {
  const out: Run[] = [];
  let current: Run | undefined;
  for (const ch of text.normalize('NFKC').toLowerCase()) {
    const kind = CJK.test(ch) ? 'cjk' : WORD.test(ch) ? 'word' : undefined;
    // Combining marks continue the current run whatever its script.
    if (kind === undefined) {
      current = undefined;
      continue;
    }
    if (current && (current.kind === kind || /\p{M}/u.test(ch))) {
      current.text += ch;
    } else {
      current = { kind, text: ch };
      out.push(current);
    }
  }
  return out;
}

function cut(token: string): string {
  return [...token].slice(0, MAX_TOKEN_LENGTH).join('');
}

function bigrams(run: string): string[] {
  const chars = [...run];
  const grams: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) grams.push(chars[i] + chars[i + 1]);
  return grams;
}

/** Distinct index tokens of a text (title + content of one memo). */
export function tokenize(text: string): string[] {
  const tokens = new Set<string>();
  for (const run of runs(text)) {
    if (run.kind === 'word') {
      tokens.add(cut(run.text));
      continue;
    }
    for (const gram of bigrams(run.text)) tokens.add(gram);
    const chars = [...run.text];
    tokens.add(chars[chars.length - 1]);
  }
  return [...tokens];
}

export type SearchTerm =
  { readonly kind: 'exact'; readonly token: string } | { readonly kind: 'prefix'; readonly prefix: string };

export interface SearchPlan {
  /** Every term must match one token of the memo. */
  readonly terms: readonly SearchTerm[];
  /** Lower-cased CJK runs that must also occur verbatim in the title or content. */
  readonly substrings: readonly string[];
}

function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const picked: T[] = [];
  for (let i = 0; i < max; i++) picked.push(items[Math.round((i * (items.length - 1)) / (max - 1))]);
  return picked;
}

/** Turns a user query into index lookups; an empty plan means the query had nothing searchable. */
export function planSearch(query: string): SearchPlan {
  const terms: SearchTerm[] = [];
  const substrings: string[] = [];
  const seen = new Set<string>();
  const add = (term: SearchTerm): void => {
    const key = term.kind === 'exact' ? `=${term.token}` : `^${term.prefix}`;
    if (!seen.has(key)) {
      seen.add(key);
      terms.push(term);
    }
  };
  for (const run of runs(query)) {
    if (run.kind === 'word') {
      const word = cut(run.text);
      // A query word longer than the stored (cut) token still finds it: both are cut alike,
      // and a prefix of the cut form is what the index can answer.
      add([...word].length === 1 ? { kind: 'exact', token: word } : { kind: 'prefix', prefix: word });
      continue;
    }
    const grams = [...new Set(bigrams(run.text))];
    if (grams.length === 0) {
      add({ kind: 'prefix', prefix: run.text });
    } else {
      for (const gram of spread(grams, MAX_BIGRAMS)) add({ kind: 'exact', token: gram });
      if (grams.length > 1) substrings.push(run.text);
    }
  }
  // Every term, never a silent cut (a dropped term would widen the AND): the API refuses a
  // query with more than LIMITS.searchTerms of them (memos/schema.ts) with a 400.
  return { terms, substrings };
}
