/**
 * Ingestion: reads a CSV, Parquet or NDJSON file, derives columns, filters rows and
 * writes a versioned snapshot split into `train/data.parquet` and `eval/data.parquet`.
 * All the work happens in DuckDB; no row passes through JavaScript.
 *
 * Rows are written sorted by every output column, so a snapshot's bytes depend only on
 * its rows (not on the order the source lists them or on thread scheduling) and
 * `contentHash` is a true dataset version.
 *
 * Usage:
 *   const snapshot = await ingestSnapshot({ source: 'flights.parquet',
 *     select: { hour: 'hour(date)', origin: 'origin', delayed: 'delay > 15' },
 *     split: { kind: 'time', column: 'date', evalFrom: '2001-03-01' } }, outDir);
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { queryRows, readSource, sqlIdent, sqlString, withDuckDB } from './duckdb.js';

/** The splits every snapshot has, in the order they are hashed. */
export const SPLITS = ['train', 'eval'] as const;
export type SplitName = (typeof SPLITS)[number];

// Naive (time-zone free) dates, read the way DuckDB casts them to TIMESTAMP.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/;

/** What to ingest; validated (and defaulted) before any file is read. */
export const IngestRequestSchema = z.object({
  /** A .csv, .parquet or .ndjson file; relative paths resolve from the working directory. */
  source: z.string().min(1),
  /** Output column → SQL expression over the source columns; default: every source column. */
  select: z
    .record(z.string().min(1).refine((name) => !name.startsWith('__loom'), 'names starting with "__loom" are reserved'), z.string().min(1))
    .refine((select) => Object.keys(select).length > 0, 'select needs at least one column (leave it out to keep all)')
    .optional(),
  /** A SQL filter over source columns (or the output columns of `select`). */
  where: z.string().min(1).optional(),
  split: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('time'),
      /** A DATE or TIMESTAMP source column (it need not be selected), or an output column of `select`. */
      column: z.string().min(1),
      /** Rows before this moment go to train, rows from it on to eval. */
      evalFrom: z.string().regex(ISO_DATE, 'expected an ISO date such as 2001-05-01 or 2001-05-01T12:00:00'),
    }),
    z.object({
      kind: z.literal('hash'),
      /** Rows with equal keys land in the same split (md5 of the key as text; NULL keys go to train). */
      key: z.string().min(1),
      evalPercent: z.number().gt(0).lt(100),
    }),
  ]),
});
export type IngestRequest = z.input<typeof IngestRequestSchema>;

/** A snapshot's description; these are the properties of its `Examples` artifact. */
export type IngestResult = {
  splits: SplitName[];
  rowCounts: Record<SplitName, number>;
  columns: { name: string; type: string }[];
  /** The absolute path of the source file. */
  source: string;
  /** `first..last` date of a time split's column; the source file's name for a hash split. */
  span: string;
  /** sha256 over the split files' bytes, in `SPLITS` order. */
  contentHash: string;
};

/** Reads `request.source` and writes `<outDir>/<split>/data.parquet` for each split. */
export async function ingestSnapshot(request: IngestRequest, outDir: string): Promise<IngestResult> {
  const parsed = IngestRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join('.');
    throw new LoomError('INVALID_ARGUMENT', `ingest request: ${field || '(root)'}: ${issue.message}`, { field });
  }
  const req = parsed.data;
  const source = resolve(req.source);
  const fileRead = readSource(source);
  await checkSourceFile(source);

  return withDuckDB(async (db) => {
    const sourceColumns = await guard(source, () => describe(db, `SELECT * FROM ${fileRead}`));
    if (sourceColumns.length === 1 && /[,;|\t]/.test(sourceColumns[0].name) && /\.[ct]sv$/i.test(source)) {
      // DuckDB's sniffer falls back to one column holding whole lines when rows disagree.
      throw readError(source, 'Error when sniffing file');
    }
    await db.run(`CREATE TEMP VIEW __loom_source AS SELECT * FROM ${fileRead}`);
    const available = [...new Set([...sourceColumns.map((c) => c.name), ...Object.keys(req.select ?? {})])];
    const projection = req.select
      ? Object.entries(req.select).map(([name, expr]) => `(${expr}) AS ${sqlIdent(name)}`).join(', ')
      : '*';
    const where = req.where ? `WHERE (${req.where})` : '';

    const outputColumns = await checkQuery(db, source, projection, req, sourceColumns, available);

    const split = planSplit(req.split, sourceColumns, outputColumns, available);
    const rowsQuery = `SELECT ${projection}, ${split.value} AS __loom_split FROM __loom_source ${where}`;
    const materialize = `CREATE TEMP TABLE __loom_rows AS SELECT *, coalesce(${split.isEval}, false) AS __loom_eval FROM (${rowsQuery})`;
    await guard(source, () => db.run(materialize), false);
    const summary = (
      await queryRows(
        db,
        `SELECT count(*) FILTER (WHERE NOT __loom_eval)::DOUBLE AS train, count(*) FILTER (WHERE __loom_eval)::DOUBLE AS eval,
           ${req.split.kind === 'time' ? `strftime(min(__loom_split), '%Y-%m-%d %H:%M:%S') AS first, strftime(max(__loom_split), '%Y-%m-%d %H:%M:%S') AS last` : `count(DISTINCT __loom_split)::DOUBLE AS keys`}
         FROM __loom_rows`,
      )
    )[0];
    const rowCounts = { train: Number(summary.train), eval: Number(summary.eval) };
    if (rowCounts.train + rowCounts.eval === 0) await explainNoRows(db, source, req.where);
    const empty = SPLITS.find((name) => rowCounts[name] === 0);
    if (empty && req.split.kind === 'time') {
      throw new LoomError(
        'INVALID_ARGUMENT',
        `the time split at ${req.split.evalFrom} leaves ${empty} empty: "${req.split.column}" ranges from ${summary.first} to ${summary.last}`,
        { field: 'split.evalFrom', fix: `choose evalFrom after ${summary.first} and at or before ${summary.last}` },
      );
    }
    if (empty && req.split.kind === 'hash') {
      throw new LoomError(
        'INVALID_ARGUMENT',
        `the hash split on "${req.split.key}" at ${req.split.evalPercent}% leaves ${empty} empty (${summary.keys} distinct keys in ${rowCounts.train + rowCounts.eval} rows)`,
        { field: 'split', fix: 'hash on a key with more distinct values, or change evalPercent' },
      );
    }

    const columnList = outputColumns.map((c) => sqlIdent(c.name)).join(', ');
    for (const name of SPLITS) {
      const dir = join(outDir, name);
      await mkdir(dir, { recursive: true });
      await db.run(
        `COPY (SELECT ${columnList} FROM __loom_rows WHERE ${name === 'eval' ? '' : 'NOT '}__loom_eval ORDER BY ${columnList})
         TO ${sqlString(join(dir, 'data.parquet'))} (FORMAT PARQUET, COMPRESSION ZSTD)`,
      );
    }
    const span = req.split.kind === 'time' ? `${String(summary.first).slice(0, 10)}..${String(summary.last).slice(0, 10)}` : basename(source);
    return {
      splits: [...SPLITS],
      rowCounts,
      columns: outputColumns,
      source,
      span,
      contentHash: await hashSplitFiles(outDir),
    };
  });
}

interface Column {
  name: string;
  type: string;
}

type IngestSettings = z.output<typeof IngestRequestSchema>;
type SplitSpec = IngestSettings['split'];

/** SQL for each row's split value and whether it goes to eval; checks the split column. */
function planSplit(split: SplitSpec, sourceColumns: Column[], outputColumns: Column[], available: string[]): { value: string; isEval: string } {
  const column = split.kind === 'time' ? split.column : split.key;
  if (!available.includes(column)) throw unknownColumn(column, split.kind === 'time' ? 'split.column' : 'split.key', available);
  // DuckDB resolves a name to the source column first, then to a select alias, so a
  // split column that is not selected is still there.
  if (split.kind === 'hash') {
    // The first 32 bits of md5 (stable across engines and versions), in basis points.
    const bucket = `CAST('0x' || md5(__loom_split)[1:8] AS UBIGINT) % 10000`;
    return { value: `CAST(${sqlIdent(column)} AS VARCHAR)`, isEval: `${bucket} < ${Math.round(split.evalPercent * 100)}` };
  }
  const type = [...sourceColumns, ...outputColumns].find((c) => c.name === column)?.type ?? '';
  if (!/^(DATE|TIMESTAMP)/.test(type)) {
    throw new LoomError('INVALID_ARGUMENT', `split.column "${column}" is ${type}, not a DATE or TIMESTAMP`, {
      field: 'split.column',
      fix: `name a date or timestamp column; columns: ${describeColumns(sourceColumns)}`,
    });
  }
  return { value: `CAST(${sqlIdent(column)} AS TIMESTAMP)`, isEval: `__loom_split >= CAST(${sqlString(split.evalFrom)} AS TIMESTAMP)` };
}

async function describe(db: DuckDBConnection, query: string): Promise<Column[]> {
  return (await queryRows(db, `DESCRIBE ${query}`)).map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

function describeColumns(columns: Column[]): string {
  return columns.map((c) => `${c.name} (${c.type})`).join(', ');
}

async function checkSourceFile(source: string): Promise<void> {
  if (/[*?[]/.test(source)) return; // a glob: DuckDB reports when nothing matches
  const info = await stat(source).catch(() => undefined);
  if (!info) {
    throw new LoomError('NOT_FOUND', `source file "${source}" does not exist`, {
      field: 'source',
      fix: `check the path; relative paths are resolved from ${process.cwd()}`,
    });
  }
  if (!info.isFile()) throw new LoomError('INVALID_ARGUMENT', `source "${source}" is not a file`, { field: 'source' });
  if (info.size === 0) {
    throw new LoomError('INVALID_ARGUMENT', `source file "${source}" is empty: it has no rows`, { field: 'source', fix: 'give a file with data' });
  }
}

/** Runs work that reads the source, turning DuckDB's reading errors into a readable LoomError. */
async function guard<T>(source: string, work: () => Promise<T>, onlyReading = true): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LoomError) throw error;
    throw readError(source, error instanceof Error ? error.message : String(error), onlyReading);
  }
}

/** `onlyReading`: the failed work only read the file, so any error is the file's. */
function readError(source: string, message: string, onlyReading = true): LoomError {
  if (/No files found that match/.test(message)) {
    return new LoomError('NOT_FOUND', `no file matches the source "${source}"`, { field: 'source' });
  }
  const kind = extname(source).slice(1).toUpperCase() || 'source';
  if (/Error when sniffing file/.test(message)) {
    return new LoomError('INVALID_ARGUMENT', `cannot read ${kind} file "${source}": its layout (delimiter, quoting, columns per row) could not be detected`, {
      field: 'source',
      fix: 'check that every row has as many fields as the header and that quotes are closed',
    });
  }
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const original = /Original Line: (.*)/.exec(message)?.[1];
  const problem = cleanDuckDBMessage(message).replace(/Expected Number of Columns: (\d+) Found: (\d+)/, 'expected $1 fields, found $2');
  if (line || onlyReading) {
    return new LoomError('INVALID_ARGUMENT', `cannot read ${kind} file "${source}"${line ? ` line ${line}` : ''}${original ? ` (${JSON.stringify(original)})` : ''}: ${problem}`, {
      field: 'source',
    });
  }
  // Not a reading problem: a select or where expression failed on some row.
  return new LoomError('INVALID_ARGUMENT', `cannot ingest "${source}": ${problem}`, { fix: 'check the select and where expressions against the data' });
}

/** DuckDB's message on one line, without its error class, its list of possible fixes, its SQL excerpt and the CSV line it quotes. */
function cleanDuckDBMessage(message: string): string {
  return message
    .split(/\n\s*(?:Possible fixes:|LINE \d+:|\n)/)[0]
    .replace(/^[A-Za-z ]+ Error: /, '')
    .split('\n')
    .filter((l) => !/^(CSV Error on Line|Original Line)/.test(l))
    .map((l) => l.trim())
    .join(' ');
}

/** Binds the query (reading no rows) and returns its columns; on failure names the field at fault. */
async function checkQuery(db: DuckDBConnection, source: string, projection: string, req: IngestSettings, sourceColumns: Column[], available: string[]): Promise<Column[]> {
  const query = `SELECT ${projection} FROM __loom_source ${req.where ? `WHERE (${req.where})` : ''}`;
  const statements = await db.extractStatements(query).catch(() => undefined);
  const columns = statements?.count === 1 ? await describe(db, query).catch(() => undefined) : undefined;
  if (columns) return columns;
  // Bind each part alone to find the one at fault.
  const parts = Object.entries(req.select ?? {}).map(([name, expr]) => [`select.${name}`, `SELECT (${expr}) FROM __loom_source`]);
  if (req.where) parts.push(['where', query]);
  for (const [field, sql] of parts) {
    const count = await db.extractStatements(sql).then((s) => s.count, () => 1);
    if (count !== 1) throw new LoomError('INVALID_ARGUMENT', `${field} must be a single SQL expression`, { field });
    const message = await describe(db, sql).then(() => undefined, (e: unknown) => (e instanceof Error ? e.message : String(e)));
    if (message === undefined) continue;
    const missing = /Referenced column "([^"]+)" not found/.exec(message)?.[1];
    if (missing) throw unknownColumn(missing, field, available);
    throw new LoomError('INVALID_ARGUMENT', `${field} is not a valid SQL expression over "${source}": ${cleanDuckDBMessage(message)}`, {
      field,
      fix: `columns: ${describeColumns(sourceColumns)}`,
    });
  }
  return guard(source, () => describe(db, query));
}

function unknownColumn(name: string, field: string, available: string[]): LoomError {
  return new LoomError('INVALID_ARGUMENT', `${field} refers to an unknown column "${name}"`, {
    field,
    fix: `use one of: ${available.join(', ')}`,
  });
}

async function explainNoRows(db: DuckDBConnection, source: string, where: string | undefined): Promise<never> {
  const total = where ? Number((await guard(source, () => queryRows(db, 'SELECT count(*)::DOUBLE AS n FROM __loom_source')))[0].n) : 0;
  if (total === 0) {
    const headerOnly = extname(source).toLowerCase() === '.csv' ? ' (a header only)' : '';
    throw new LoomError('INVALID_ARGUMENT', `source file "${source}" has no rows${headerOnly}`, { field: 'source', fix: 'give a file with data' });
  }
  throw new LoomError('INVALID_ARGUMENT', `where keeps none of the ${total} rows of "${source}"`, { field: 'where', fix: 'loosen the filter' });
}

async function hashSplitFiles(outDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const split of SPLITS) {
    hash.update(`${split}\u0000`);
    for await (const chunk of createReadStream(join(outDir, split, 'data.parquet'))) hash.update(chunk as Buffer);
    hash.update('\u0000');
  }
  return hash.digest('hex');
}
