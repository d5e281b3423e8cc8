/**
 * Bad rows: every row a connector could not read is counted by reason; the first N
 * (by file and line) are kept in the Examples artifact as `quarantine/rejects.ndjson`
 * ({file, line, reason, message, raw} per line); and the ingest fails when there are
 * more than the request allows. Nothing is dropped without a trace.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { queryRows, sqlString } from './duckdb.js';

export interface BadRowPolicy {
  /** Fail when more rows than this are bad. Default (with no fraction either): 0. */
  maxBadRows?: number;
  /** Fail when more than this share of the rows read (good + bad) is bad, 0–1. */
  maxBadRowFraction?: number;
  /** How many bad rows to keep in the quarantine file. */
  sampleSize: number;
}

/** What the Examples artifact records about its bad rows (its `quarantine` property). */
export type QuarantineSummary = {
  badRows: number;
  /** Rows read from the source: good and bad, before `where` and the span filter. */
  rowsRead: number;
  badRowFraction: number;
  byReason: Record<string, number>;
  /** Rows kept in `file`. */
  sampleRows: number;
  /** Relative to the artifact; null when no row was bad. */
  file: string | null;
};

export const QUARANTINE_FILE = 'quarantine/rejects.ndjson';

/** Summarises `__loom_rejects`, writes the sample under `outDir`, and applies the policy. */
export async function quarantineBadRows(db: DuckDBConnection, outDir: string, policy: BadRowPolicy, sourceKind: string): Promise<QuarantineSummary> {
  // One row may have several errors (two unparseable values): count rows, join their messages.
  await db.run(`CREATE TEMP TABLE __loom_bad AS
    SELECT file, line, min(reason) AS reason, string_agg(message, '; ' ORDER BY message) AS message, min(raw) AS raw
    FROM __loom_rejects GROUP BY file, line`);
  const goodRows = Number((await queryRows(db, 'SELECT count(*)::DOUBLE AS n FROM __loom_input'))[0]?.n ?? 0);
  const reasons = await queryRows(db, 'SELECT reason, count(*)::DOUBLE AS n FROM __loom_bad GROUP BY reason ORDER BY reason');
  const byReason = Object.fromEntries(reasons.map((row) => [String(row.reason), Number(row.n)]));
  const badRows = Object.values(byReason).reduce((a, b) => a + b, 0);
  const rowsRead = goodRows + badRows;
  const summary: QuarantineSummary = {
    badRows,
    rowsRead,
    badRowFraction: rowsRead === 0 ? 0 : badRows / rowsRead,
    byReason,
    sampleRows: Math.min(badRows, policy.sampleSize),
    file: badRows > 0 ? QUARANTINE_FILE : null,
  };
  if (badRows > 0) {
    await mkdir(join(outDir, 'quarantine'), { recursive: true });
    await db.run(`COPY (SELECT file, line, reason, message, raw FROM __loom_bad ORDER BY file, line LIMIT ${policy.sampleSize})
      TO ${sqlString(join(outDir, QUARANTINE_FILE))} (FORMAT JSON)`);
  }
  const limit = exceededLimit(summary, policy);
  if (limit) {
    const [first] = await queryRows(db, 'SELECT file, line, message, raw FROM __loom_bad ORDER BY file, line LIMIT 1');
    const where = sourceKind === 'postgres' ? 'PostgreSQL source' : `${sourceKind.toUpperCase()} file "${String(first?.file)}"`;
    const reasonList = Object.entries(byReason).map(([reason, n]) => `${n} ${reason}`).join(', ');
    throw new LoomError(
      'INVALID_ARGUMENT',
      `cannot read ${where} line ${String(first?.line)} (${JSON.stringify(String(first?.raw ?? ''))}): ${plainMessage(String(first?.message ?? ''))}; ` +
        `${badRows} bad ${badRows === 1 ? 'row' : 'rows'} of ${rowsRead} read (${reasonList}) is more than ${limit}`,
      { field: 'source', fix: `fix the rows (the first is in ${basename(String(first?.file ?? ''))} line ${String(first?.line)}) or raise maxBadRows / maxBadRowFraction to quarantine them` },
    );
  }
  await db.run('DROP TABLE __loom_bad');
  return summary;
}

function exceededLimit(summary: QuarantineSummary, policy: BadRowPolicy): string | undefined {
  const maxRows = policy.maxBadRows ?? (policy.maxBadRowFraction === undefined ? 0 : undefined);
  if (maxRows !== undefined && summary.badRows > maxRows) return `maxBadRows ${maxRows}`;
  if (policy.maxBadRowFraction !== undefined && summary.badRowFraction > policy.maxBadRowFraction) {
    return `maxBadRowFraction ${policy.maxBadRowFraction} (${(summary.badRowFraction * 100).toFixed(3)}%)`;
  }
  return undefined;
}

/** DuckDB's reject message in words a person reading the error expects. */
function plainMessage(message: string): string {
  return message
    .replace(/Expected Number of Columns: (\d+) Found: (\d+)/g, 'expected $1 fields, found $2')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}
