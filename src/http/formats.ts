/**
 * How each protocol spells an error, from one `HttpProblem`, so every client reads the
 * error it expects:
 * - `kserve`: KServe V2 and TF Serving (`{"error": "..."}`) plus Loom's `error_code`, `field`, `fix`, `problems`;
 * - `mlflow`: MLflow's REST API (`{"error_code": "INVALID_PARAMETER_VALUE", "message": "..."}`, the
 *   codes of mlflow/protos/databricks.proto, which MLflow clients turn into their exceptions);
 * - `mlflow-scoring`: MLflow's scoring server (`/invocations`), which answers `BAD_REQUEST` for any bad input.
 *
 * Usage: `useErrorFormat(app, 'mlflow')` in a route plugin (see plugins.ts).
 */
import type { ErrorCode } from '../core/errors.js';
import type { HttpFieldProblem, HttpProblem } from './errors.js';

export const ERROR_FORMATS = ['kserve', 'mlflow', 'mlflow-scoring'] as const;
export type ErrorFormat = (typeof ERROR_FORMATS)[number];

/** The error body of the model server's KServe V2 and TF Serving routes. */
export interface KserveErrorBody {
  error: string;
  error_code: ErrorCode;
  field?: string;
  fix?: string;
  /** Every bad field, when there are several. */
  problems?: HttpFieldProblem[];
}

/** MLflow's error body; Loom's `field` and `fix` ride along (MLflow clients ignore fields they do not know). */
export interface MlflowErrorBody {
  error_code: string;
  message: string;
  field?: string;
  fix?: string;
  problems?: HttpFieldProblem[];
}

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

export function kserveErrorBody(problem: HttpProblem): KserveErrorBody {
  const body: KserveErrorBody = { error: problem.message, error_code: problem.code };
  if (problem.field) body.field = problem.field;
  if (problem.fix) body.fix = problem.fix;
  if (problem.problems) body.problems = problem.problems;
  return body;
}

export function mlflowErrorBody(problem: HttpProblem): MlflowErrorBody {
  const body: MlflowErrorBody = { error_code: mlflowRestCode(problem), message: problem.message };
  if (problem.field) body.field = problem.field;
  if (problem.fix) body.fix = problem.fix;
  return body;
}

/** MLflow's REST codes: Loom's codes by the table, Fastify's failures the way MLflow's server names them. */
function mlflowRestCode(problem: HttpProblem): string {
  switch (problem.framework) {
    case undefined:
    case 'too-large':
      return MLFLOW_ERROR_CODE[problem.code];
    case 'malformed-json':
      return 'MALFORMED_REQUEST';
    case 'no-route':
      return 'ENDPOINT_NOT_FOUND';
    default:
      return problem.status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  }
}

/**
 * Refusals that are not about the input: said as such, so a client does not "fix" a good body,
 * and an overloaded or not-yet-ready server (503) is TEMPORARILY_UNAVAILABLE, not a fault.
 */
const SCORING_REFUSALS: readonly ErrorCode[] = ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE'];

export function mlflowScoringErrorBody(problem: HttpProblem): MlflowErrorBody {
  const code =
    problem.status === 404 ? 'RESOURCE_DOES_NOT_EXIST'
    : SCORING_REFUSALS.includes(problem.code) && problem.framework === undefined ? MLFLOW_ERROR_CODE[problem.code]
    : problem.status >= 500 ? 'INTERNAL_ERROR'
    : 'BAD_REQUEST';
  const body: MlflowErrorBody = { error_code: code, message: problem.message };
  if (problem.field) body.field = problem.field;
  if (problem.problems) body.problems = problem.problems;
  return body;
}

export const ERROR_FORMATTERS: Record<ErrorFormat, (problem: HttpProblem) => object> = {
  kserve: kserveErrorBody,
  mlflow: mlflowErrorBody,
  'mlflow-scoring': mlflowScoringErrorBody,
};
