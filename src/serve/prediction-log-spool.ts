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
 * JSON text that DuckDB's reader and PostgreSQL's `jsonb` both accept. JSON.stringify writes a
 * string's lone surrogate (half of a UTF-16 pair, which a request's JSON can hold: `"\ud800"`) and
 * a NUL as escapes that DuckDB (the surrogate) or `jsonb` (both) reject, failing the whole spool or
 * batch, every other row with it. Such strings are rewritten with U+FFFD in their place, as a UTF-8
 * encoder writes a lone surrogate. Only text holding such an escape is parsed again: no other text
 * changes, and numbers round-trip (JavaScript wrote them).
 */
export function wellFormedJson(json: string): string {
  if (!REJECTED_ESCAPE.test(json)) return json;
  return JSON.stringify(JSON.parse(json), (_key, value: unknown) => (typeof value === 'string' ? value.replace(REJECTED_CHARACTER, '\ufffd') : value));
}

/** Spool text (JSON lines, each ending in a newline but perhaps the last) as `wellFormedJson` makes each line. */
export function wellFormedSpoolText(text: string): string {
  if (!REJECTED_ESCAPE.test(text)) return text;
  const lines = text.split('\n');
  const last = lines.pop();
  return `${lines.map(wellFormedJson).join('\n')}\n${last ?? ''}`;
}

// A backslash-u escape of a surrogate or of NUL (also matched after an escaped backslash: a needless but harmless re-parse).
const REJECTED_ESCAPE = /\\u(?:[dD][89a-fA-F]|0000)/;
const REJECTED_CHARACTER = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\0/g;

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
