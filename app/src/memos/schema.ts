import type { FieldError } from '../http/errors';
import { planSearch } from '../search/tokenizer';
import { MemoError } from './errors';

/*
 * Hand-written validation: the rules are few, and writing them out gives each message the
 * field name and the limit the client broke, which is what the problem+json body reports.
 * Every validator collects all errors of a body rather than stopping at the first.
 */

export const LIMITS = {
  titleChars: 200,
  contentBytes: 64 * 1024,
  tags: 20,
  tagChars: 50,
  categoryChars: 50,
  authorChars: 100,
  queryChars: 200,
  pageMax: 100,
  pageDefault: 20,
  tagPageMax: 500,
  tagPageDefault: 100,
  /**
   * Index lookups one search may make (each word of 2+ characters is a prefix range, each CJK
   * run up to MAX_BIGRAMS exact keys). Without it a 200-character query of two-letter words was
   * 67 prefix ranges, each probed on every memo walked.
   */
  searchTerms: 16,
  /**
   * Distinct index rows one memo may write (memo_tokens). A 64 KiB Han text of distinct bigrams
   * would write ~21,800; 64 KiB of the generated English or Korean notes write 431 and 1,157.
   */
  indexTermsPerMemo: 8000,
} as const;

export const DEFAULT_PRIORITY = 2;

export interface MemoInput {
  readonly title: string;
  readonly content: string;
  readonly tags: readonly string[];
  readonly priority: number;
  readonly category: string | null;
  readonly author: string | null;
}

export type MemoPatch = Partial<MemoInput>;

/** GET /api/tags: a page of tags in name order, after the tag the previous page ended at. */
export interface TagQuery {
  readonly limit: number;
  readonly after?: string;
}

export interface ListQuery {
  readonly tag?: string;
  readonly priority?: number;
  readonly category?: string;
  readonly author?: string;
  readonly q?: string;
  readonly limit: number;
  /** The id the previous page ended at (exclusive). */
  readonly after?: number;
}

const FIELDS = ['title', 'content', 'tags', 'priority', 'category', 'author'] as const;
type Field = (typeof FIELDS)[number];

const chars = (s: string): number => [...s].length;
const CONTROL = /[\u0000-\u001f\u007f]/;
/*
 * With the u flag a surrogate range matches only unpaired halves. Such a string has no UTF-8
 * form: the driver writes each as U+FFFD, so the stored text would differ from what was sent, and
 * two different tags (["\ud800", "\udfff"]) became the same key and a duplicate-key 500.
 */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const NOT_UNICODE = 'must be valid Unicode text (no unpaired surrogate escapes)';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(
  field: string,
  value: unknown,
  max: number,
  errors: FieldError[],
  opts: { singleLine: boolean },
): string | undefined {
  if (typeof value !== 'string') {
    errors.push({ field, message: 'must be a string' });
    return undefined;
  }
  if (LONE_SURROGATE.test(value)) {
    errors.push({ field, message: NOT_UNICODE });
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    errors.push({ field, message: 'must not be empty' });
    return undefined;
  }
  if (chars(trimmed) > max) {
    errors.push({ field, message: `must be at most ${max} characters` });
    return undefined;
  }
  if (opts.singleLine && CONTROL.test(trimmed)) {
    errors.push({ field, message: 'must not contain control characters' });
    return undefined;
  }
  return trimmed;
}

function validateField(field: Field, value: unknown, errors: FieldError[]): unknown {
  switch (field) {
    case 'title':
      return text('title', value, LIMITS.titleChars, errors, { singleLine: true });
    case 'content':
      if (typeof value !== 'string') {
        errors.push({ field, message: 'must be a string' });
        return undefined;
      }
      if (LONE_SURROGATE.test(value)) {
        errors.push({ field, message: NOT_UNICODE });
        return undefined;
      }
      if (Buffer.byteLength(value, 'utf8') > LIMITS.contentBytes) {
        errors.push({ field, message: `must be at most ${LIMITS.contentBytes} bytes (UTF-8)` });
        return undefined;
      }
      return value;
    case 'tags': {
      if (!Array.isArray(value)) {
        errors.push({ field, message: 'must be an array of strings' });
        return undefined;
      }
      if (value.length > LIMITS.tags) {
        errors.push({ field, message: `must have at most ${LIMITS.tags} tags` });
        return undefined;
      }
      const tags: string[] = [];
      value.forEach((tag, i) => {
        const ok = text(`tags[${i}]`, tag, LIMITS.tagChars, errors, { singleLine: true });
        if (ok !== undefined && !tags.includes(ok)) tags.push(ok);
      });
      return tags;
    }
    case 'priority':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 4) {
        errors.push({ field, message: 'must be an integer from 1 to 4' });
        return undefined;
      }
      return value;
    case 'category':
    case 'author':
      if (value === null) return null;
      return text(field, value, field === 'category' ? LIMITS.categoryChars : LIMITS.authorChars, errors, {
        singleLine: true,
      });
  }
}

function validateObject(body: unknown, required: readonly Field[]): Record<string, unknown> {
  if (!isObject(body)) throw MemoError.validation([{ field: 'body', message: 'must be a JSON object' }]);
  const errors: FieldError[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      errors.push({ field: key, message: 'is not a known field' });
    }
  }
  for (const field of FIELDS) {
    if (!(field in body) || body[field] === undefined) {
      if (required.includes(field)) errors.push({ field, message: 'is required' });
      continue;
    }
    const value = validateField(field, body[field], errors);
    if (value !== undefined) out[field] = value;
  }
  if (errors.length > 0) throw MemoError.validation(errors);
  return out;
}

/** POST and PUT: a whole memo; omitted optional fields take their defaults. */
export function parseMemoInput(body: unknown): MemoInput {
  const v = validateObject(body, ['title']);
  return {
    title: v.title as string,
    content: (v.content as string | undefined) ?? '',
    tags: (v.tags as string[] | undefined) ?? [],
    priority: (v.priority as number | undefined) ?? DEFAULT_PRIORITY,
    category: (v.category as string | null | undefined) ?? null,
    author: (v.author as string | null | undefined) ?? null,
  };
}

/** PATCH: any non-empty subset; null clears category or author. */
export function parseMemoPatch(body: unknown): MemoPatch {
  const v = validateObject(body, []);
  if (Object.keys(v).length === 0) {
    throw MemoError.validation([
      { field: 'body', message: `must contain at least one of ${FIELDS.join(', ')}` },
    ]);
  }
  return v as MemoPatch;
}

const QUERY_KEYS = ['tag', 'priority', 'category', 'author', 'q', 'limit', 'cursor'] as const;

export function encodeCursor(afterId: number): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterId })).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      isObject(parsed) &&
      parsed.v === 1 &&
      Number.isSafeInteger(parsed.after) &&
      (parsed.after as number) > 0
    ) {
      return parsed.after as number;
    }
  } catch {
    // fall through: any undecodable cursor is reported the same way
  }
  return undefined;
}

/** Query parameters of GET /api/memos; unknown or repeated parameters are rejected, not ignored. */
export function parseListQuery(query: Readonly<Record<string, string | string[] | undefined>>): ListQuery {
  const errors: FieldError[] = [];
  const single: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (!(QUERY_KEYS as readonly string[]).includes(key)) {
      errors.push({ field: key, message: 'is not a known query parameter' });
    } else if (Array.isArray(value)) {
      errors.push({ field: key, message: 'must be given once' });
    } else {
      single[key] = value;
    }
  }
  const out: { -readonly [K in keyof ListQuery]: ListQuery[K] } = { limit: LIMITS.pageDefault };
  const int = (key: string, min: number, max: number): number | undefined => {
    const value = single[key];
    if (value === undefined) return undefined;
    if (!/^\d{1,6}$/.test(value) || Number(value) < min || Number(value) > max) {
      errors.push({ field: key, message: `must be an integer from ${min} to ${max}` });
      return undefined;
    }
    return Number(value);
  };
  out.limit = int('limit', 1, LIMITS.pageMax) ?? LIMITS.pageDefault;
  out.priority = int('priority', 1, 4);
  for (const [key, max] of [
    ['tag', LIMITS.tagChars],
    ['category', LIMITS.categoryChars],
    ['author', LIMITS.authorChars],
    ['q', LIMITS.queryChars],
  ] as const) {
    if (single[key] !== undefined) out[key] = text(key, single[key], max, errors, { singleLine: true });
  }
  if (out.q !== undefined) {
    const terms = planSearch(out.q).terms.length;
    if (terms > LIMITS.searchTerms) {
      errors.push({
        field: 'q',
        message: `yields ${terms} search terms; at most ${LIMITS.searchTerms} are allowed (each word of 2+ letters is one, a CJK run up to 8)`,
      });
    }
  }
  if (single.cursor !== undefined) {
    out.after = decodeCursor(single.cursor);
    if (out.after === undefined)
      errors.push({ field: 'cursor', message: 'is not a cursor this service issued' });
  }
  if (errors.length > 0) throw MemoError.validation(errors);
  return out;
}

export function encodeTagCursor(afterTag: string): string {
  return Buffer.from(JSON.stringify({ v: 1, tag: afterTag })).toString('base64url');
}

function decodeTagCursor(cursor: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      isObject(parsed) &&
      parsed.v === 1 &&
      typeof parsed.tag === 'string' &&
      parsed.tag !== '' &&
      chars(parsed.tag) <= LIMITS.tagChars
    ) {
      return parsed.tag;
    }
  } catch {
    // fall through: any undecodable cursor is reported the same way
  }
  return undefined;
}

/** Query parameters of GET /api/tags: limit and cursor, each at most once. */
export function parseTagQuery(query: Readonly<Record<string, string | string[] | undefined>>): TagQuery {
  const errors: FieldError[] = [];
  let limit: number = LIMITS.tagPageDefault;
  let after: string | undefined;
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (key !== 'limit' && key !== 'cursor') {
      errors.push({ field: key, message: 'is not a known query parameter' });
    } else if (Array.isArray(value)) {
      errors.push({ field: key, message: 'must be given once' });
    } else if (key === 'limit') {
      if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > LIMITS.tagPageMax) {
        errors.push({ field: key, message: `must be an integer from 1 to ${LIMITS.tagPageMax}` });
      } else {
        limit = Number(value);
      }
    } else {
      after = decodeTagCursor(value);
      if (after === undefined) errors.push({ field: key, message: 'is not a cursor this service issued' });
    }
  }
  if (errors.length > 0) throw MemoError.validation(errors);
  return after === undefined ? { limit } : { limit, after };
}

/** Path ids: positive decimal integers that fit BIGINT arithmetic exactly in JavaScript. */
export function parseId(raw: string): number {
  if (!/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw MemoError.validation([{ field: 'id', message: 'must be a positive integer' }]);
  }
  return Number(raw);
}

/** One entity-tag of an If-Match or If-None-Match list (RFC 9110 8.8.3); `opaque` without quotes. */
export interface EntityTag {
  readonly weak: boolean;
  readonly opaque: string;
}

/*
 * entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text. Node gives
 * header values as latin1, so obs-text (bytes 0x80-0xFF) arrives as U+0080-U+00FF. A list may
 * have empty elements (RFC 9110 5.6.1), which are skipped.
 */
const ENTITY_TAG = /^[ \t]*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)/;

/** `*`, a list of entity-tags, or undefined when the header is absent or not of that grammar. */
export function parseEntityTags(header: string | undefined): '*' | EntityTag[] | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let rest = header;
  while (rest.trim() !== '') {
    const empty = /^[ \t]*,/.exec(rest);
    if (empty) {
      rest = rest.slice(empty[0].length);
      continue;
    }
    const match = ENTITY_TAG.exec(rest);
    if (!match) return undefined;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    rest = rest.slice(match[0].length);
  }
  return tags.length === 0 ? undefined : tags;
}

/** The version a memo ETag names ("3" is version 3), or undefined for a tag this API never issues. */
function versionOf(tag: EntityTag): number | undefined {
  return /^[1-9]\d{0,9}$/.test(tag.opaque) ? Number(tag.opaque) : undefined;
}

/**
 * If-Match: `*` (any current memo), or the versions it names. Strong comparison: a weak tag
 * never matches, nor a well-formed tag of another shape; what is left may be no version at all,
 * which no memo matches (412, RFC 9110 13.1.1). Undefined when absent; malformed is a 400.
 */
export function parseIfMatch(header: string | undefined): '*' | number[] | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const tags = parseEntityTags(header);
  if (tags === undefined) {
    throw MemoError.validation([
      { field: 'If-Match', message: 'must be * or a list of ETags like "3" (RFC 9110 13.1.1)' },
    ]);
  }
  if (tags === '*') return '*';
  return tags.flatMap((t) => (t.weak ? [] : (versionOf(t) ?? [])));
}

/**
 * Whether If-None-Match says the client's copy of this version is current: `*`, or any tag with
 * the version's opaque value, weak or strong (weak comparison, RFC 9110 13.1.2). A malformed
 * header is not a condition at all: the full response is served, as without it.
 */
export function ifNoneMatchHolds(header: string | undefined, version: number): boolean {
  const tags = parseEntityTags(header);
  if (tags === undefined) return false;
  return tags === '*' || tags.some((t) => versionOf(t) === version);
}
