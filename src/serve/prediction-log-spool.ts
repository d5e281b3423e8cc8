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
import { open, stat } from 'node:fs/promises';
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

/**
 * Spool text DuckDB can read. JSON.stringify writes a string's lone surrogate (half of a UTF-16
 * pair, which a request's JSON can hold: `"\ud800"`) as an escape that DuckDB's JSON reader
 * rejects, failing the whole spool, every row of the file, at every recovery. Such strings are
 * rewritten with U+FFFD in their place, as a UTF-8 encoder writes them. Only text holding a
 * `\ud` escape is parsed again, line by line: no other text changes, and numbers round-trip
 * (JavaScript wrote them).
 */
export function wellFormedSpoolText(text: string): string {
  if (!text.includes('\\ud') && !text.includes('\\uD')) return text;
  const lines = text.split('\n');
  const last = lines.pop();
  return `${lines.map((line) => JSON.stringify(JSON.parse(line), (_key, value: unknown) => (typeof value === 'string' ? value.replace(LONE_SURROGATE, '\ufffd') : value))).join('\n')}\n${last ?? ''}`;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Whether a process with this id is running (a signal-0 probe). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The byte just after a file's last newline (0 if it has none), reading back from the end in blocks. */
export async function endOfLastLine(path: string): Promise<number> {
  const file = await open(path, 'r');
  try {
    const block = Buffer.alloc(64 * 1024);
    for (let end = (await file.stat()).size; end > 0; ) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await file.read(block, 0, end - start, start);
      const newline = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline >= 0) return start + newline + 1;
      end = start;
    }
    return 0;
  } finally {
    await file.close();
  }
}
