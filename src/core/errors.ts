/**
 * One error type for the whole platform. Every failure a user can cause carries a
 * code (mapped to an HTTP status and a CLI exit code in one table below), a message
 * that names the thing at fault, and where possible the field and the fix.
 *
 * Usage: `throw new LoomError('NOT_FOUND', 'model "flights" has no alias "champion"', { fix: 'run `loom models ls`' })`
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'INTERNAL',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface LoomErrorDetails {
  /** The input field at fault, as the user wrote it (`instances[3].distance`, `--port`). */
  field?: string;
  /** What the user should do about it. */
  fix?: string;
  /** Whether retrying the same work may succeed (the orchestrator retries only these). */
  retryable?: boolean;
}

export class LoomError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly fix?: string;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, details: LoomErrorDetails = {}) {
    super(message);
    this.name = 'LoomError';
    this.code = code;
    this.field = details.field;
    this.fix = details.fix;
    this.retryable = details.retryable ?? (code === 'UNAVAILABLE' || code === 'INTERNAL');
  }

  /** The message a person reads: what is wrong, then what to do. */
  describe(): string {
    return this.fix ? `${this.message}\n  fix: ${this.fix}` : this.message;
  }

  toJSON(): { error_code: ErrorCode; message: string; field?: string; fix?: string } {
    return { error_code: this.code, message: this.message, field: this.field, fix: this.fix };
  }
}

/** HTTP status for each code: the single table every HTTP surface uses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 412,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
};

/** Process exit code for each code, so scripts can tell bad input from a broken system. */
export const EXIT_CODE: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 2,
  NOT_FOUND: 3,
  ALREADY_EXISTS: 4,
  FAILED_PRECONDITION: 5,
  RESOURCE_EXHAUSTED: 6,
  UNAVAILABLE: 7,
  INTERNAL: 1,
  UNAUTHENTICATED: 8,
  PERMISSION_DENIED: 9,
};

/**
 * True for a LoomError from any copy of this module: a pipeline file loaded through its
 * own module namespace brings its own copy of the class, so `instanceof` is not enough.
 */
export function isLoomError(error: unknown): error is LoomError {
  if (error instanceof LoomError) return true;
  if (!(error instanceof Error)) return false;
  const candidate = error as Error & Partial<Pick<LoomError, 'code'>>;
  return (
    candidate.name === 'LoomError' &&
    typeof candidate.code === 'string' &&
    (ERROR_CODES as readonly string[]).includes(candidate.code)
  );
}

/** Wraps anything thrown into a LoomError, keeping the code, field and fix of LoomErrors. */
export function asLoomError(error: unknown): LoomError {
  if (error instanceof LoomError) return error;
  if (isLoomError(error)) {
    return new LoomError(error.code, error.message, { field: error.field, fix: error.fix, retryable: error.retryable });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LoomError('INTERNAL', message);
}

/** What a record (an execution's properties, an answer) keeps of a failure: its code, message and fix. */
export interface FailureRecord {
  code: ErrorCode;
  message: string;
  fix?: string;
}

/**
 * A failure as a record keeps it: a LoomError's own code and fix; anything else (a driver's
 * error, a plain Error) under `otherwise.code`, with `otherwise.fix` when one is given.
 */
export function failureRecord(error: unknown, otherwise: { code: ErrorCode; fix?: string }): FailureRecord {
  const message = error instanceof Error ? error.message : String(error);
  if (isLoomError(error)) return { code: error.code, message, ...(error.fix && { fix: error.fix }) };
  return { code: otherwise.code, message, ...(otherwise.fix && { fix: otherwise.fix }) };
}
