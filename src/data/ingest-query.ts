/**
 * Checks an ingest's SQL parts (select, where, split, span column) against the source's
 * columns before any row is written, naming the field at fault.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { LoomError } from '../core/errors.js';
import { queryRows, sqlIdent, sqlString } from './duckdb.js';
import { isTimeType } from './duckdb-types.js';
import { cleanDuckDBMessage, describeColumns, guard, unknownColumn, type Column } from './read-errors.js';

export type SplitSpec =
  | { kind: 'time'; column: string; evalFrom: string }
  | { kind: 'hash'; key: string; evalPercent: number };

export async function describe(db: DuckDBConnection, query: string): Promise<Column[]> {
  return (await queryRows(db, `DESCRIBE ${query}`)).map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/** SQL for each row's split value and whether it goes to eval; checks the split column. */
export function planSplit(split: SplitSpec, sourceColumns: Column[], outputColumns: Column[], available: string[]): { value: string; isEval: string } {
  const column = split.kind === 'time' ? split.column : split.key;
  if (!available.includes(column)) throw unknownColumn(column, split.kind === 'time' ? 'split.column' : 'split.key', available);
  // DuckDB resolves a name to the source column first, then to a select alias, so a
  // split column that is not selected is still there.
  if (split.kind === 'hash') {
    // The first 32 bits of md5 (stable across engines and versions), in basis points.
    const bucket = `CAST('0x' || md5(__loom_split)[1:8] AS UBIGINT) % 10000`;
    return { value: `CAST(${sqlIdent(column)} AS VARCHAR)`, isEval: `${bucket} < ${Math.round(split.evalPercent * 100)}` };
  }
  checkDateColumn(column, 'split.column', [...sourceColumns, ...outputColumns], sourceColumns);
  return { value: `CAST(${sqlIdent(column)} AS TIMESTAMP)`, isEval: `__loom_split >= CAST(${sqlString(split.evalFrom)} AS TIMESTAMP)` };
}

export function checkDateColumn(column: string, field: string, columns: Column[], sourceColumns: Column[]): void {
  const found = columns.find((c) => c.name === column);
  if (!found) throw unknownColumn(column, field, columns.map((c) => c.name));
  if (!isTimeType(found.type)) {
    throw new LoomError('INVALID_ARGUMENT', `${field} "${column}" is ${found.type}, not a DATE or TIMESTAMP`, {
      field,
      fix: `name a date or timestamp column; columns: ${describeColumns(sourceColumns)}`,
    });
  }
}

/** Binds the query (reading no rows) and returns its columns; on failure names the field at fault. */
export async function checkQuery(
  db: DuckDBConnection,
  source: string,
  projection: string,
  req: { select?: Record<string, string>; where?: string },
  sourceColumns: Column[],
  available: string[],
): Promise<Column[]> {
  const query = `SELECT ${projection} FROM __loom_source ${req.where ? `WHERE (${req.where})` : ''}`;
  const statements = await db.extractStatements(query).catch(() => undefined);
  const columns = statements?.count === 1 ? await describe(db, query).catch(() => undefined) : undefined;
  if (columns) return columns;
  // Bind each part alone to find the one at fault.
  const parts = Object.entries(req.select ?? {}).map(([name, expr]) => [`select.${name}`, `SELECT (${expr}) FROM __loom_source`]);
  if (req.where) parts.push(['where', query]);
  for (const [field, sql] of parts) {
    const count = await db.extractStatements(sql!).then((s) => s.count, () => 1);
    if (count !== 1) throw new LoomError('INVALID_ARGUMENT', `${field} must be a single SQL expression`, { field });
    const message = await describe(db, sql!).then(() => undefined, (e: unknown) => (e instanceof Error ? e.message : String(e)));
    if (message === undefined) continue;
    const missing = /Referenced column "([^"]+)" not found/.exec(message)?.[1];
    if (missing) throw unknownColumn(missing, field!, available);
    throw new LoomError('INVALID_ARGUMENT', `${field} is not a valid SQL expression over "${source}": ${cleanDuckDBMessage(message)}`, {
      field,
      fix: `columns: ${describeColumns(sourceColumns)}`,
    });
  }
  return guard(source, () => describe(db, query));
}

/** SQL functions that take a calendar part out of a date or timestamp. */
const CALENDAR_PART = /\b(hour|minute|dayofweek|isodow|weekday|dayofmonth|dayofyear|day|week|weekofyear|month|quarter|year|date_part|datepart|extract|strftime|date_trunc)\s*\(/i;

/**
 * The `select` columns that derive a calendar part in SQL (`hour(date)`). A model trained
 * on one needs every client to derive it again, which the transform's datetime analyzer
 * avoids by computing it inside the served graph from the raw timestamp.
 */
export function calendarDerivations(select: Record<string, string> | undefined): string[] {
  return Object.entries(select ?? {}).flatMap(([name, expression]) => (CALENDAR_PART.test(expression) ? [name] : []));
}
