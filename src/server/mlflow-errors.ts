/**
 * Errors on the platform API in MLflow's shape (`{"error_code": "RESOURCE_DOES_NOT_EXIST",
 * "message": "..."}`), so MLflow clients raise their usual exceptions. Loom's own `field`
 * and `fix` ride along; MLflow clients ignore fields they do not know.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HTTP_STATUS, isLoomError, type ErrorCode } from '../core/errors.js';

/** MLflow's `ErrorCode` name for each Loom code (mlflow/protos/databricks.proto). */
export const MLFLOW_ERROR_CODE: Record<ErrorCode, string> = {
  INVALID_ARGUMENT: 'INVALID_PARAMETER_VALUE',
  NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  ALREADY_EXISTS: 'RESOURCE_ALREADY_EXISTS',
  FAILED_PRECONDITION: 'INVALID_STATE',
  RESOURCE_EXHAUSTED: 'RESOURCE_EXHAUSTED',
  UNAVAILABLE: 'TEMPORARILY_UNAVAILABLE',
  INTERNAL: 'INTERNAL_ERROR',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
};

export interface MlflowErrorBody {
  error_code: string;
  message: string;
  field?: string;
  fix?: string;
}

export function mlflowErrorResponse(error: unknown): { status: number; body: MlflowErrorBody } {
  if (isLoomError(error)) {
    const body: MlflowErrorBody = { error_code: MLFLOW_ERROR_CODE[error.code], message: error.message };
    if (error.field) body.field = error.field;
    if (error.fix) body.fix = error.fix;
    return { status: HTTP_STATUS[error.code], body };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, body: { error_code: 'MALFORMED_REQUEST', message: 'the request body is not valid JSON', field: 'body' } };
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status === 413) {
    return { status, body: { error_code: 'RESOURCE_EXHAUSTED', message: 'the request body is larger than the server accepts; send smaller batches' } };
  }
  if (status >= 500) return { status, body: { error_code: 'INTERNAL_ERROR', message: fastifyError.message ?? 'internal error' } };
  const code = status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST';
  return { status, body: { error_code: code, message: fastifyError.message ?? 'bad request' } };
}

/** The platform API's one error handler. */
export function replyWithMlflowError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = mlflowErrorResponse(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(status).send(body);
}
