/**
 * A refusal from a Loom server as a `LoomError`: the server's message, field and fix, and
 * the Loom code whatever the surface spelt it as (MLflow's `RESOURCE_DOES_NOT_EXIST` is
 * NOT_FOUND, KServe's bodies carry Loom's own code), so a client handles errors the way
 * Loom's own code does (`isLoomError`, `error.code`, `error.describe()`).
 */
import { ERROR_CODES, HTTP_STATUS, LoomError, type ErrorCode } from '../core/errors.js';
import { MLFLOW_ERROR_CODE } from '../http/formats.js';

/** The error a `LoomClient` call raises: a LoomError with the HTTP status and the code as the server sent it. */
export class LoomClientError extends LoomError {
  /** The HTTP status (0 when no answer came). */
  readonly status: number;
  /** The code in the server's own words (`RESOURCE_DOES_NOT_EXIST`, `ENDPOINT_NOT_FOUND`). */
  readonly serverCode: string;
  /** The request id the server answered with (`x-request-id`), to quote when asking about it. */
  readonly requestId?: string;

  constructor(code: ErrorCode, message: string, details: { status: number; serverCode?: string; field?: string; fix?: string; requestId?: string }) {
    super(code, message, { field: details.field, fix: details.fix });
    this.name = 'LoomClientError';
    this.status = details.status;
    this.serverCode = details.serverCode ?? code;
    this.requestId = details.requestId;
  }
}

const FROM_MLFLOW = new Map(Object.entries(MLFLOW_ERROR_CODE).map(([loom, mlflow]) => [mlflow, loom as ErrorCode]));
/** MLflow's codes for Fastify's own failures, which have no Loom twin in the table. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = { ENDPOINT_NOT_FOUND: 'NOT_FOUND', MALFORMED_REQUEST: 'INVALID_ARGUMENT', BAD_REQUEST: 'INVALID_ARGUMENT' };
const FROM_STATUS = new Map(Object.entries(HTTP_STATUS).map(([code, status]) => [status, code as ErrorCode]));

/** Loom's code for a server's error code, else for the HTTP status. */
export function loomCodeOf(serverCode: string | undefined, status: number): ErrorCode {
  if (serverCode !== undefined) {
    if ((ERROR_CODES as readonly string[]).includes(serverCode)) return serverCode as ErrorCode;
    const known = FROM_MLFLOW.get(serverCode) ?? FRAMEWORK_CODES[serverCode];
    if (known) return known;
  }
  return FROM_STATUS.get(status) ?? (status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
}

/** The error of a non-2xx answer, from any of Loom's error bodies (MLflow's `message`, KServe's `error`). */
export function errorOfAnswer(status: number, body: unknown, requestId: string | undefined): LoomClientError {
  const fields = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const serverCode = text(fields.error_code);
  const message = text(fields.message) ?? text(fields.error) ?? `the server answered ${status}`;
  return new LoomClientError(loomCodeOf(serverCode, status), message, { status, serverCode, field: text(fields.field), fix: text(fields.fix), requestId });
}
