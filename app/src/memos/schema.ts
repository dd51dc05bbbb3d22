import { FieldError, MemoError } from './errors';

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
  if (single.cursor !== undefined) {
    out.after = decodeCursor(single.cursor);
    if (out.after === undefined)
      errors.push({ field: 'cursor', message: 'is not a cursor this service issued' });
  }
  if (errors.length > 0) throw MemoError.validation(errors);
  return out;
}

/** Path ids: positive decimal integers that fit BIGINT arithmetic exactly in JavaScript. */
export function parseId(raw: string): number {
  if (!/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw MemoError.validation([{ field: 'id', message: 'must be a positive integer' }]);
  }
  return Number(raw);
}

/** Parses If-Match / If-None-Match values such as "3", W/"3" or *; undefined when absent. */
export function parseVersionHeader(field: string, header: string | undefined): number | '*' | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  const match = /^(?:W\/)?"(\d{1,10})"$/.exec(value);
  if (!match)
    throw MemoError.validation([{ field, message: 'must be an ETag like "3" as returned by this API' }]);
  return Number(match[1]);
}
