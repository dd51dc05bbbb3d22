/** One entry of a problem's `errors` member: which input field is wrong, and why. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** What a feature's error becomes on the wire; the error middleware adds `type` and `instance`. */
export interface DomainProblem {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly fieldErrors: readonly FieldError[];
}

/**
 * How one feature's closed set of errors maps to HTTP statuses. Each feature owns its map
 * (memos/errors.ts) and the composition root hands every map to the error middleware, so
 * http/ knows no feature and a feature's rules never speak HTTP.
 */
export interface ErrorStatusMap {
  /** The problem `err` is, or undefined when `err` is none of this feature's errors. */
  problemOf(err: unknown): DomainProblem | undefined;
}

/** Transport-level failures (body, media type, limits) that are not domain rules. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly fieldErrors: readonly FieldError[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}
