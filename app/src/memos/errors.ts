/**
 * The closed set of memo domain errors. The service throws only these for expected outcomes;
 * the error middleware maps each kind to one HTTP status, so the rules never speak HTTP.
 */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export type MemoErrorKind =
  'validation' | 'not_found' | 'version_mismatch' | 'version_required' | 'forbidden';

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

  static versionMismatch(id: number, expected: number, current: number): MemoError {
    return new MemoError(
      'version_mismatch',
      `Memo ${id} is at version ${current}, not ${expected}: fetch it again and retry`,
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
