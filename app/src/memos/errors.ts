import type { ErrorStatusMap, FieldError } from '../http/errors';

/**
 * The closed set of memo domain errors. The service throws only these for expected outcomes;
 * MEMO_ERROR_STATUS below maps each kind to one HTTP status, so the rules never speak HTTP.
 */
export type MemoErrorKind =
  | 'validation'
  | 'not_found'
  | 'version_mismatch'
  | 'version_required'
  | 'forbidden'
  | 'search_too_broad'
  | 'index_too_large';

export class MemoError extends Error {
  private constructor(
    readonly kind: MemoErrorKind,
    message: string,
    readonly fieldErrors: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = 'MemoError';
  }

  static validation(errors: readonly FieldError[]): MemoError {
    const fields = [...new Set(errors.map((e) => e.field))].join(', ');
    return new MemoError('validation', `Invalid ${fields}`, errors);
  }

  static notFound(id: number): MemoError {
    return new MemoError('not_found', `Memo ${id} does not exist`);
  }

  static versionMismatch(id: number, current: number): MemoError {
    return new MemoError(
      'version_mismatch',
      `Memo ${id} is at version ${current} (ETag "${current}"), which If-Match does not name: fetch it again and retry`,
    );
  }

  static searchTooBroad(rowsExamined: number): MemoError {
    return new MemoError(
      'search_too_broad',
      `The search examined ${rowsExamined} index and memo rows without completing a page: ` +
        'add words that occur together, a tag or another filter',
    );
  }

  static indexTooLarge(terms: number, max: number): MemoError {
    return new MemoError(
      'index_too_large',
      `Title and content yield ${terms} distinct search terms; a memo may have at most ${max}`,
      [{ field: 'content', message: `yields ${terms} distinct search terms (at most ${max})` }],
    );
  }

  static forbidden(id: number, why: string): MemoError {
    return new MemoError('forbidden', `You may not change memo ${id}: ${why}`);
  }

  static versionRequired(): MemoError {
    return new MemoError(
      'version_required',
      'This request needs an If-Match header with the ETag of the memo',
    );
  }
}

/** The HTTP status and problem title of each kind; exhaustive, so a new kind needs its status. */
export const MEMO_ERROR_STATUS: Readonly<Record<MemoErrorKind, { status: number; title: string }>> = {
  validation: { status: 400, title: 'Validation failed' },
  not_found: { status: 404, title: 'Not Found' },
  forbidden: { status: 403, title: 'Forbidden' },
  version_mismatch: { status: 412, title: 'Precondition Failed' },
  version_required: { status: 428, title: 'Precondition Required' },
  search_too_broad: { status: 422, title: 'Search too broad' },
  index_too_large: { status: 422, title: 'Memo too large to index' },
};

/** The memo feature's errors for the error middleware (app.ts passes it in). */
export const memoErrorStatus: ErrorStatusMap = {
  problemOf: (err) =>
    err instanceof MemoError
      ? { ...MEMO_ERROR_STATUS[err.kind], detail: err.message, fieldErrors: err.fieldErrors }
      : undefined,
};
