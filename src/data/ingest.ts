/**
 * Ingestion: reads a source (files or PostgreSQL, through its connector), quarantines
 * bad rows, picks the span, derives columns, filters rows and writes a versioned
 * snapshot split into `train/data.parquet` and `eval/data.parquet`. All the work
 * happens in DuckDB under a memory limit (spilling to disk past it); no row passes
 * through JavaScript.
 *
 * Rows are written sorted by every output column, so a snapshot's bytes depend only on
 * its rows (not on the order the source lists them, the order of its files, or thread
 * scheduling) and `contentHash` is a true dataset version.
 *
 * Usage:
 *   const snapshot = await ingestSnapshot({ source: { kind: 'file', glob: 'landing/flights-{SPAN}.csv' },
 *     select: { date: 'date', origin: 'origin', delayed: 'delay > 15' },
 *     split: { kind: 'hash', key: 'origin', evalPercent: 20 }, maxBadRowFraction: 0.01 }, outDir);
 */
import { Examples } from '../pipeline/artifact-types.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { connectorFor } from './connectors/index.js';
import { CREATE_REJECTS } from './connectors/connector.js';
import { duckDBDefaults, MEMORY_LIMIT, queryRows, sqlIdent, sqlString, withDuckDB } from './duckdb.js';
import { checkDateColumn, checkQuery, describe, planSplit } from './ingest-query.js';
import { quarantineBadRows, type QuarantineSummary } from './quarantine.js';
import { guard, readError, type Column } from './read-errors.js';
import { describeSource, SourceSpecSchema, type SourceSpec } from './source-spec.js';
import { SPAN_UNITS, spanBucket } from './spans.js';

/** The splits every snapshot has, in the order they are hashed. */
export const SPLITS = ['train', 'eval'] as const;
export type SplitName = (typeof SPLITS)[number];

// Naive (time-zone free) dates, read the way DuckDB casts them to TIMESTAMP.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/;

/** What to ingest; validated (and defaulted) before any file is read. */
export const IngestRequestSchema = z.object({
  /** A path (.csv, .parquet, .ndjson), or a source spec: files by path/directory/glob, or PostgreSQL. */
  source: SourceSpecSchema,
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
  /** The span number. With a `{SPAN}` glob or `spanColumn` it selects that span (default: the newest); otherwise it is recorded as given (default 0). */
  span: z.number().int().nonnegative().optional(),
  /** Derive spans by bucketing a date column: `month` numbers spans YYYYMM, `day` YYYYMMDD. */
  spanColumn: z.object({ column: z.string().min(1), unit: z.enum(SPAN_UNITS) }).strict().optional(),
  /** Fail when more rows than this are bad (default 0 unless maxBadRowFraction is set). */
  maxBadRows: z.number().int().nonnegative().optional(),
  /** Fail when more than this share (0–1) of the rows read is bad. */
  maxBadRowFraction: z.number().min(0).max(1).optional(),
  /** Bad rows kept in `quarantine/rejects.ndjson`. */
  quarantineSample: z.number().int().min(1).max(100_000).default(100),
  /** DuckDB's memory limit for this ingest, e.g. '512MB' (default: LOOM_DUCKDB_MEMORY_LIMIT). */
  memoryLimit: z.string().regex(MEMORY_LIMIT, 'expected a memory size such as 64MB or 2GB').optional(),
  /** Where the ingest keeps temporary files and DuckDB spills past its memory limit (default: LOOM_DUCKDB_TEMP_DIRECTORY, else the system's). */
  tempDirectory: z.string().min(1).optional(),
});
export type IngestRequest = z.input<typeof IngestRequestSchema>;

/** A snapshot's description; these are the properties of its `Examples` artifact. */
export type IngestResult = {
  splits: SplitName[];
  rowCounts: Record<SplitName, number>;
  columns: { name: string; type: string }[];
  /** The source: an absolute path or glob, or a PostgreSQL URL (no password) with the table or query. */
  source: string;
  sourceKind: 'csv' | 'parquet' | 'ndjson' | 'postgres';
  /** Files read, absolute and sorted; empty for a database. */
  files: string[];
  /** The span number (see `IngestRequest.span`). */
  span: number;
  /** `first..last` day of the time split's (or span column's) values; '' without a time column. */
  timeRange: string;
  /** sha256 over the split files' bytes, in `SPLITS` order: the dataset version. */
  contentHash: string;
  badRows: number;
  quarantine: QuarantineSummary;
};

/** Reads `request.source` and writes `<outDir>/<split>/data.parquet` for each split. */
export async function ingestSnapshot(request: IngestRequest, outDir: string): Promise<IngestResult> {
  const req = parseInput(IngestRequestSchema, request, { what: 'ingest request', fix: 'see the ingest step parameters in src/data/ingest.ts' });
  const spec = absoluteSource(req.source);
  if (spec.kind === 'file' && spec.glob?.includes('{SPAN}') && req.spanColumn) {
    throw new LoomError('INVALID_ARGUMENT', 'give spans either by a {SPAN} glob or by spanColumn, not both', { field: 'spanColumn' });
  }
  const label = describeSource(spec);
  // A private directory (under tempDirectory) for a PostgreSQL extract and DuckDB's spill files, removed after.
  const parent = req.tempDirectory ?? duckDBDefaults().tempDirectory ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const workDir = await mkdtemp(join(parent, 'loom-ingest-'));
  const tempDirectory = join(workDir, 'spill');
  try {
    return await withDuckDB((db) => ingestWith(db, req, spec, label, workDir, outDir), { memoryLimit: req.memoryLimit, tempDirectory }).catch((error: unknown) => {
      // Any stage (sorting, writing) may run out of DuckDB's memory: say so, not INTERNAL.
      const message = error instanceof Error ? error.message : String(error);
      throw error instanceof LoomError || !/Out of Memory|could not allocate block/.test(message) ? error : readError(label, message);
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

type IngestSettings = z.output<typeof IngestRequestSchema>;

async function ingestWith(db: DuckDBConnection, req: IngestSettings, spec: SourceSpec, label: string, workDir: string, outDir: string): Promise<IngestResult> {
  await db.run(CREATE_REJECTS);
  const loaded = await guard(label, () => connectorFor(spec).load({ db, workDir, span: req.span }));
  const inputColumns = await describe(db, 'SELECT * FROM __loom_input');
  if (loaded.format === 'csv' && inputColumns.length === 1 && /[,;|\t]/.test(inputColumns[0]!.name)) {
    // DuckDB's sniffer falls back to one column holding whole lines when rows disagree.
    throw readError(label, 'Error when sniffing file');
  }
  const quarantine = await quarantineBadRows(db, outDir, { maxBadRows: req.maxBadRows, maxBadRowFraction: req.maxBadRowFraction, sampleSize: req.quarantineSample }, loaded.format);

  let span = loaded.span ?? req.span ?? 0;
  let spanFilter = '';
  if (req.spanColumn) {
    checkDateColumn(req.spanColumn.column, 'spanColumn.column', inputColumns, inputColumns);
    const bucket = spanBucket(req.spanColumn.column, req.spanColumn.unit);
    const spans = (await queryRows(db, `SELECT DISTINCT ${bucket} AS span FROM __loom_input WHERE ${sqlIdent(req.spanColumn.column)} IS NOT NULL ORDER BY span`)).map((r) => Number(r.span));
    if (spans.length === 0) throw new LoomError('INVALID_ARGUMENT', `spanColumn "${req.spanColumn.column}" has no values`, { field: 'spanColumn.column' });
    span = req.span ?? spans[spans.length - 1]!;
    if (!spans.includes(span)) throw new LoomError('NOT_FOUND', `span ${span} has no rows in "${label}"`, { field: 'span', fix: `spans found: ${spans.join(', ')}` });
    spanFilter = `WHERE ${bucket} = ${span}`;
  }
  await db.run(`CREATE TEMP VIEW __loom_source AS SELECT * FROM __loom_input ${spanFilter}`);

  const sourceColumns = inputColumns;
  const available = [...new Set([...sourceColumns.map((c) => c.name), ...Object.keys(req.select ?? {})])];
  const projection = req.select ? Object.entries(req.select).map(([name, expr]) => `(${expr}) AS ${sqlIdent(name)}`).join(', ') : '*';
  const where = req.where ? `WHERE (${req.where})` : '';
  const outputColumns = await checkQuery(db, label, projection, req, sourceColumns, available);
  const split = planSplit(req.split, sourceColumns, outputColumns, available);
  const timeColumn = req.split.kind === 'time' ? '__loom_split' : req.spanColumn ? `CAST(${sqlIdent(req.spanColumn.column)} AS TIMESTAMP)` : undefined;
  const timeSelect = timeColumn && timeColumn !== '__loom_split' ? `, ${timeColumn} AS __loom_time` : '';
  const rowsQuery = `SELECT ${projection}, ${split.value} AS __loom_split${timeSelect} FROM __loom_source ${where}`;
  await guard(label, () => db.run(`CREATE TEMP TABLE __loom_rows AS SELECT *, coalesce(${split.isEval}, false) AS __loom_eval FROM (${rowsQuery})`), false);
  const time = timeColumn === '__loom_split' ? '__loom_split' : timeSelect ? '__loom_time' : undefined;
  const summary = (
    await queryRows(
      db,
      `SELECT count(*) FILTER (WHERE NOT __loom_eval)::DOUBLE AS train, count(*) FILTER (WHERE __loom_eval)::DOUBLE AS eval,
         ${time ? `strftime(min(${time}), '%Y-%m-%d %H:%M:%S') AS first, strftime(max(${time}), '%Y-%m-%d %H:%M:%S') AS last,` : ''}
         count(DISTINCT __loom_split)::DOUBLE AS keys
       FROM __loom_rows`,
    )
  )[0]!;
  const rowCounts = { train: Number(summary.train), eval: Number(summary.eval) };
  if (rowCounts.train + rowCounts.eval === 0) await explainNoRows(db, label, loaded.format, req.where);
  checkSplitsFilled(req, rowCounts, summary);

  const columnList = outputColumns.map((c) => sqlIdent(c.name)).join(', ');
  for (const name of SPLITS) {
    const file = Examples.files.split(outDir, name);
    await mkdir(dirname(file), { recursive: true });
    await db.run(
      `COPY (SELECT ${columnList} FROM __loom_rows WHERE ${name === 'eval' ? '' : 'NOT '}__loom_eval ORDER BY ${columnList})
       TO ${sqlString(file)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
    );
  }
  return {
    splits: [...SPLITS],
    rowCounts,
    columns: outputColumns,
    source: label,
    sourceKind: loaded.format,
    files: loaded.files,
    span,
    timeRange: time ? `${String(summary.first).slice(0, 10)}..${String(summary.last).slice(0, 10)}` : '',
    contentHash: await hashSplitFiles(outDir),
    badRows: quarantine.badRows,
    quarantine,
  };
}

/** Relative paths resolve from the working directory, once, so the record names the real files. */
function absoluteSource(spec: SourceSpec): SourceSpec {
  if (spec.kind !== 'file') return spec;
  return { ...spec, ...(spec.path ? { path: resolve(spec.path) } : {}), ...(spec.glob ? { glob: resolve(spec.glob) } : {}) };
}

function checkSplitsFilled(req: IngestSettings, rowCounts: Record<SplitName, number>, summary: Record<string, unknown>): void {
  const empty = SPLITS.find((name) => rowCounts[name] === 0);
  if (empty && req.split.kind === 'time') {
    throw new LoomError(
      'INVALID_ARGUMENT',
      `the time split at ${req.split.evalFrom} leaves ${empty} empty: "${req.split.column}" ranges from ${String(summary.first)} to ${String(summary.last)}`,
      { field: 'split.evalFrom', fix: `choose evalFrom after ${String(summary.first)} and at or before ${String(summary.last)}` },
    );
  }
  if (empty && req.split.kind === 'hash') {
    throw new LoomError(
      'INVALID_ARGUMENT',
      `the hash split on "${req.split.key}" at ${req.split.evalPercent}% leaves ${empty} empty (${String(summary.keys)} distinct keys in ${rowCounts.train + rowCounts.eval} rows)`,
      { field: 'split', fix: 'hash on a key with more distinct values, or change evalPercent' },
    );
  }
}

async function explainNoRows(db: DuckDBConnection, source: string, format: string, where: string | undefined): Promise<never> {
  const total = where ? Number((await queryRows(db, 'SELECT count(*)::DOUBLE AS n FROM __loom_source'))[0]!.n) : 0;
  if (total === 0) {
    const headerOnly = format === 'csv' ? ' (a header only)' : '';
    throw new LoomError('INVALID_ARGUMENT', `source "${source}" has no rows${headerOnly}`, { field: 'source', fix: 'give a file with data' });
  }
  throw new LoomError('INVALID_ARGUMENT', `where keeps none of the ${total} rows of "${source}"`, { field: 'where', fix: 'loosen the filter' });
}

async function hashSplitFiles(outDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const split of SPLITS) {
    hash.update(`${split}\u0000`);
    for await (const chunk of createReadStream(Examples.files.split(outDir, split))) hash.update(chunk as Buffer);
    hash.update('\u0000');
  }
  return hash.digest('hex');
}

export type { Column };
