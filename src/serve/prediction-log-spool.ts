/**
 * The Parquet writer's spool line (prediction-log-parquet.ts): one JSON object per log row,
 * newline-terminated, with `features` and `outputs` embedded as the JSON they already are.
 * Defined once here for both ways rows reach the spool: log rows (`spoolLines`), and packed
 * batches in the log's worker (prediction-log-pack.ts `packedSpoolLines`), which encodes each
 * request's fixed fields once for all its rows. Kept apart from the writer so that the serving
 * thread, which imports the packer, does not load DuckDB.
 *
 * Usage: `spoolLinePrefix(...) + features + ',"outputs":' + outputs + spoolLineSuffix(...)`
 */
import type { PredictionLogRow, RequestFailure } from './prediction-log.js';

/** A line's text up to its features' JSON. */
export function spoolLinePrefix(requestId: string, modelName: string, modelVersion: number, role: string, protocol: string): string {
  return `{"request_id":${JSON.stringify(requestId)},"model_name":${JSON.stringify(modelName)},"model_version":${modelVersion},"role":${JSON.stringify(role)},"protocol":${JSON.stringify(protocol)},"features":`;
}

/** A line's text after its outputs' JSON, newline included. A failed request's status and code; answered rows leave them out (read back as NULL). */
export function spoolLineSuffix(latencyMs: number, loggedAt: number, failure: RequestFailure | undefined): string {
  const failed = failure === undefined ? '' : `,"status":${failure.status},"error_code":${JSON.stringify(failure.code ?? null)}`;
  return `,"latency_ms":${latencyMs},"logged_at":${loggedAt}${failed}}\n`;
}

/** Log rows as spool lines. */
export function spoolLines(rows: readonly PredictionLogRow[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    const failure = row.status === undefined ? undefined : { status: row.status, code: row.errorCode as string };
    lines.push(`${spoolLinePrefix(row.requestId, row.modelName, row.modelVersion, row.role, row.protocol)}${row.features},"outputs":${row.outputs}${spoolLineSuffix(row.latencyMs, row.loggedAt, failure)}`);
  }
  return lines.join('');
}
