/**
 * DuckDB access for every step that reads or writes tables. Each call opens an
 * in-memory engine (files are read in place) with a memory limit, so data larger than
 * memory spills to a temporary directory instead of failing.
 *
 * Usage: `await withDuckDB(async (db) => db.runAndReadAll(`SELECT count(*) FROM ${readSource(path)}`))`
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk, type DuckDBType, type DuckDBValue, type DuckDBVector } from '@duckdb/node-api';
import { extname } from 'node:path';
import { LoomError } from '../core/errors.js';
import { duckDBSettings, type DuckDBOptions } from './duckdb-settings.js';

// The settings live apart so that opening a project (which sets the defaults) does not load
// DuckDB's binding; they are still offered here, beside the engine they configure.
export { MEMORY_LIMIT, duckDBDefaults, duckDBSettings, setDuckDBDefaults, type DuckDBOptions } from './duckdb-settings.js';

export async function withDuckDB<T>(work: (db: DuckDBConnection) => Promise<T>, options: DuckDBOptions = {}): Promise<T> {
  const settings = duckDBSettings(options);
  const instance = await DuckDBInstance.create(':memory:', settings);
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL identifier, quoted. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The table function that reads a CSV, Parquet or NDJSON file (or glob). */
export function readSource(path: string): string {
  const extension = extname(path).toLowerCase();
  if (extension === '.parquet') return `read_parquet(${sqlString(path)})`;
  if (extension === '.csv' || extension === '.tsv') return `read_csv(${sqlString(path)}, header = true)`;
  if (extension === '.json' || extension === '.ndjson' || extension === '.jsonl') return `read_json_auto(${sqlString(path)})`;
  throw new LoomError('INVALID_ARGUMENT', `cannot read "${path}": unknown file type "${extension || '(none)'}"`, {
    field: 'source',
    fix: 'give a .csv, .parquet or .ndjson file',
  });
}

/** The rows of a query as objects keyed by column name. */
export async function queryRows(db: DuckDBConnection, sql: string): Promise<Record<string, DuckDBValue>[]> {
  return (await db.runAndReadAll(sql)).getRowObjects();
}

/** Rows in a CSV, Parquet or NDJSON file (for Parquet, read from its metadata). */
export async function countRows(path: string): Promise<number> {
  return withDuckDB(async (db) => countTableRows(db, readSource(path)));
}

/** Rows of a table expression (`read_parquet('…')`, a subquery); a Parquet file's count is read from its metadata. */
export async function countTableRows(db: DuckDBConnection, from: string): Promise<number> {
  return Number((await queryRows(db, `SELECT count(*)::BIGINT AS n FROM ${from}`))[0]?.n ?? 0);
}

/** A query's result as its chunks, every one fetched, and the rows they hold. */
export interface ResultChunks {
  chunks: DuckDBDataChunk[];
  rows: number;
}

/** Runs `sql` and fetches its result chunk by chunk: for columns read straight into typed arrays (`numberColumn`), without a value object per cell. */
export async function queryChunks(db: DuckDBConnection, sql: string): Promise<ResultChunks> {
  const result = await db.run(sql);
  const chunks: DuckDBDataChunk[] = [];
  let rows = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    chunks.push(chunk);
    rows += chunk.rowCount;
  }
  return { chunks, rows };
}

/** Column `column` (a number type) of fetched chunks as one Float64Array; NULL reads as NaN. */
export function numberColumn({ chunks, rows }: ResultChunks, column: number): Float64Array {
  const out = new Float64Array(rows);
  let offset = 0;
  for (const chunk of chunks) {
    const vector = chunk.getColumnVector(column) as DuckDBVector<number>;
    for (let i = 0; i < chunk.rowCount; i++) out[offset + i] = vector.getItem(i) ?? Number.NaN;
    offset += chunk.rowCount;
  }
  return out;
}

/** A column of a streamed query: its name and the SQL computing it from the columns of the table read. */
export interface SelectedColumn {
  name: string;
  expression: string;
}

/** `SELECT <columns> FROM <from>`, streamed by `streamSelect`. */
export interface StreamSelect {
  columns: SelectedColumn[];
  /** A table expression: `read_parquet('…')`, a subquery. */
  from: string;
  /** For messages: what is read (a path, `artifact:12 (…)`). */
  description: string;
  /** The rows `from` holds, when the caller has counted them on this connection already; else `streamSelect` counts them at the end. */
  rows?: number;
  /** The fix named when a row cannot be read. */
  fix?: string;
}

/** A streaming result whose end is checked: it ends only once every row of the table read has come. */
export interface CheckedStream {
  columnTypes(): DuckDBType[];
  /** The next chunk (rowCount > 0), or null at the end. */
  nextChunk(): Promise<DuckDBDataChunk | null>;
}

/**
 * Streams `SELECT <columns> FROM <from>` chunk by chunk, memory bounded by a chunk.
 *
 * Why the end is checked: @duckdb/node-api (1.5.6) ends a streaming result that fails mid-way
 * (a CAST failing on a row deep in a file) exactly as a finished one, with an empty chunk and
 * no error (the C API's `duckdb_result_error` is not exposed). A projection keeps every row,
 * so the stream must give as many rows as `from` holds (its `count(*)` evaluates no
 * projection, so a bad value cannot fail or shorten it); when it gives fewer, the rows are
 * read again without streaming to find the row and column DuckDB fails on, and that is thrown.
 */
export async function streamSelect(db: DuckDBConnection, select: StreamSelect): Promise<CheckedStream> {
  const result = await readingRows(db, select, () => db.stream(selectSql(select)));
  let delivered = 0;
  // Once the stream has ended or failed, every later call gets the same answer: a failure never turns into a quiet null.
  let end: Promise<null> | undefined;
  const checkEnd = async (): Promise<null> => {
    // Counting reads a CSV again, so it may raise the scan's error itself.
    const expected = select.rows ?? (await readingRows(db, select, () => countTableRows(db, select.from)));
    if (delivered !== expected) throw await endedShort(db, select, delivered, expected);
    return null;
  };
  return {
    columnTypes: () => result.columnTypes(),
    async nextChunk() {
      if (end) return end;
      try {
        const chunk = await readingRows(db, select, () => result.fetchChunk());
        if (chunk && chunk.rowCount > 0) {
          delivered += chunk.rowCount;
          return chunk;
        }
      } catch (error) {
        end = Promise.reject(error);
        end.catch(() => {}); // handled: thrown now, and again to a later call
        throw error;
      }
      end = checkEnd();
      return end;
    },
  };
}

const DEFAULT_FIX = 'correct or remove the value in that row, or cast the column to the type expected';

function selectSql({ columns, from }: StreamSelect): string {
  return `SELECT ${columns.map((column) => `${column.expression} AS ${sqlIdent(column.name)}`).join(', ')} FROM ${from}`;
}

/**
 * An error DuckDB does raise mid-stream (it may, depending on timing, for the same bad value
 * it at other times hides) is named by its row and column as a hidden one is; a scan error
 * (a CSV value that does not parse as the column's sniffed type) keeps DuckDB's message.
 */
async function readingRows<T>(db: DuckDBConnection, select: StreamSelect, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof LoomError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw (await failingRow(db, select)) ?? new LoomError('INVALID_ARGUMENT', `cannot read ${select.description}: ${message}`, { fix: select.fix ?? DEFAULT_FIX });
  }
}

/**
 * Why a stream gave `delivered` rows of `expected`: the failing row, else a source whose count
 * is no longer `expected` (rewritten or grown while read, or counted by the caller before it
 * changed), else DuckDB's error over every row, else INTERNAL.
 */
async function endedShort(db: DuckDBConnection, select: StreamSelect, delivered: number, expected: number): Promise<LoomError> {
  const located = await failingRow(db, select);
  if (located) return located;
  const changed = await changedCount(db, select, expected);
  if (changed !== undefined) {
    return new LoomError('FAILED_PRECONDITION', `${select.description} changed while it was read (${expected} rows when counted, ${changed} now)`, {
      fix: 're-run it on an input nothing writes to while it runs, or on a dataset version (which does not change)',
    });
  }
  // No row fails a column alone: evaluate every column of every row, holding one value each.
  const cause = await errorOf(() => db.run(`SELECT ${select.columns.map((column) => `max(hash(${column.expression}))`).join(', ')} FROM ${select.from}`));
  if (cause) return new LoomError('INVALID_ARGUMENT', `cannot read ${select.description}: ${cause}`, { fix: select.fix ?? DEFAULT_FIX });
  return new LoomError('INTERNAL', `reading ${select.description} ended after ${delivered} of its ${expected} rows, with no error from DuckDB`, {
    fix: 'run it again; if it recurs, report it with the input',
  });
}

/** The rows `select.from` holds now when that is not `counted`; undefined when it is the same (or cannot be counted). */
async function changedCount(db: DuckDBConnection, select: StreamSelect, counted: number): Promise<number | undefined> {
  let now: number;
  try {
    now = await countTableRows(db, select.from);
  } catch {
    return undefined;
  }
  return now === counted ? undefined : now;
}

const ROW = sqlIdent('loom row number');

/**
 * The first row (1-based, in read order) on which a column's expression fails, with DuckDB's
 * own error for it; undefined when none does (or the source cannot be scanned at all).
 * Found with TRY: hash is never NULL, so TRY(hash(e)) is NULL only where e fails.
 */
async function failingRow(db: DuckDBConnection, select: StreamSelect): Promise<LoomError | undefined> {
  const numbered = `(SELECT row_number() OVER () AS ${ROW}, * FROM ${select.from})`;
  for (const column of select.columns) {
    let found: Record<string, DuckDBValue>[];
    try {
      found = await queryRows(db, `SELECT ${ROW} AS n FROM ${numbered} WHERE TRY(hash(${column.expression})) IS NULL LIMIT 1`);
    } catch {
      return undefined;
    }
    if (found.length === 0) continue;
    const row = Number(found[0]!.n);
    const cause = await errorOf(() => db.run(`SELECT ${column.expression} FROM ${numbered} WHERE ${ROW} = ${row}`));
    // row_number() OVER () follows the read order, which a subquery (a GROUP BY) need not keep
    // from one query to the next: row `row` may now be another, good row, so none is named.
    if (cause === undefined) {
      return new LoomError('INVALID_ARGUMENT', `cannot read ${select.description}, column "${column.name}": a row fails, but it could not be named (its number changed between two reads)`, {
        field: column.name,
        fix: select.fix ?? DEFAULT_FIX,
      });
    }
    return new LoomError('INVALID_ARGUMENT', `cannot read row ${row} of ${select.description}, column "${column.name}": ${cause}`, {
      field: column.name,
      fix: select.fix ?? DEFAULT_FIX,
    });
  }
  return undefined;
}

/** The first line of the error `run` fails with (DuckDB adds the query and a caret below), or undefined when it succeeds. */
async function errorOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0];
  }
}
