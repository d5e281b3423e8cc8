/**
 * The prediction log's reader: the rows `loom serve` logged for one model, filtered by
 * version, role and time range, as a relation on a DuckDB connection, on either backend.
 *
 * - Embedded (Parquet files in the project's `predictions/` folder): the finished files
 *   (`*.parquet`; writers rename into place, so a spool or a `.tmp-` file never matches, nor
 *   a file's profile, `*.profile`, which log-profiles.ts reads)
 *   read in place by DuckDB, with the filters pushed down to the files' row groups. A file
 *   DuckDB cannot read (a torn or partial file: a copy cut short, a disk that filled up) is
 *   skipped and reported in `skipped`, never fatal: the other files are still read. Files are
 *   checked once per process (by their footers and `logged_at` pages); a file whose profile
 *   is trusted (log-profile-read.ts) was read whole when it was profiled and is not read to
 *   check it, and the profiles loaded for this are handed on (`profiles`, log-profiles.ts).
 * - Server (the PostgreSQL `prediction_log` table): the matching rows are streamed with
 *   `COPY … TO STDOUT` (DuckDB's postgres extension cannot be downloaded here) into a
 *   file DuckDB loads into a temporary table.
 *
 * Either way the relation has the same columns: request_id, model_name, model_version,
 * role, protocol, features, outputs, latency_ms and logged_at (TIMESTAMP, UTC). It holds the
 * answered requests only: failed ones (logged by serving with a status and no features) are
 * read only when asked for (`outcomes: 'all'`), with `status` and `error_code` besides. Features
 * and outputs are JSON objects, except on a log whose files are all columnar (the writer's
 * layout since issue 13: a STRUCT of one field per name), where they are those STRUCTs;
 * DuckDB's JSON operators (`->>`, `json_keys`, …) read either alike, and monitoring
 * windows read a STRUCT's fields directly. Files written with `logged_at` as epoch
 * milliseconds, or with another column order, read the same (columns are matched by name).
 *
 * Usage: `const log = await openPredictionLog(db, { kind: 'parquet', dir }, { model: 'flights', roles: ['primary'] })`
 *        then `SELECT … FROM (${log.relation})`.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { LoomError } from '../core/errors.js';
import { queryRows, sqlString } from '../data/duckdb.js';
import { loadLogProfiles, type LoadedProfiles } from './log-profile-read.js';
import { loggedAtSql } from './prediction-log-time.js';

/** Who answered a logged request (the serving roles). */
export const PREDICTION_ROLES = ['primary', 'canary', 'shadow'] as const;
export type PredictionLogRole = (typeof PREDICTION_ROLES)[number];

/** Where a project's prediction log is: its Parquet folder, or the PostgreSQL table. */
export type PredictionLogLocation = { kind: 'parquet'; dir: string } | { kind: 'postgres'; url: string; schema?: string };

/** Which rows to read. Times are epoch milliseconds; the range is [from, to). */
export interface PredictionLogFilter {
  model: string;
  version?: number;
  /** Default: every role. */
  roles?: readonly PredictionLogRole[];
  from?: number;
  to?: number;
  /**
   * 'answered' (the default): the requests a model answered, which monitoring reads.
   * 'all': failed requests too (one row each, no features or outputs), and two more
   * columns: `status` (the HTTP status, NULL on answered rows) and `error_code`.
   */
  outcomes?: 'answered' | 'all';
}

/** A file that could not be read, and why. */
export interface SkippedFile {
  file: string;
  reason: string;
}

/** The log's rows as a relation on the connection they were opened on. */
export interface OpenedPredictionLog {
  /** A SELECT over the matching rows, to use as a subquery. */
  relation: string;
  /** Parquet files read (empty on PostgreSQL). */
  files: string[];
  /** Parquet files skipped because they could not be read. */
  skipped: SkippedFile[];
  /** The filter the rows were read with (Parquet logs: their profiles are matched by it, log-profiles.ts). */
  filter?: PredictionLogFilter;
  /** The files' trusted profiles, when the reader loaded them to check the files (log-profiles.ts takes them). */
  profiles?: LoadedProfiles;
  /** Drops what was loaded (the PostgreSQL extract); the relation is unusable after. */
  close(): Promise<void>;
}

/** The columns every backend's relation has, in order. */
export const PREDICTION_LOG_COLUMNS = ['request_id', 'model_name', 'model_version', 'role', 'protocol', 'features', 'outputs', 'latency_ms', 'logged_at'] as const;

let tableCounter = 0;

/** Opens the matching rows of the log at `location` on `db`. */
export async function openPredictionLog(db: DuckDBConnection, location: PredictionLogLocation, filter: PredictionLogFilter): Promise<OpenedPredictionLog> {
  return location.kind === 'parquet' ? openParquetLog(db, location.dir, filter) : openPostgresLog(db, location, filter);
}

/** The finished Parquet files of a prediction log folder, sorted by name (no folder: none). */
export async function predictionLogFiles(dir: string): Promise<string[]> {
  return logDirectoryFiles(dir, '.parquet');
}

/** The finished files of a log directory ending in `extension` (none when the directory does not exist), sorted, with their paths. */
export async function logDirectoryFiles(dir: string, extension: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // Spools and temporary files start with a dot or end otherwise (`….tmp-N`): never matched.
  return names.filter((name) => name.endsWith(extension) && !name.startsWith('.')).sort().map((name) => join(dir, name));
}

async function openParquetLog(db: DuckDBConnection, dir: string, filter: PredictionLogFilter): Promise<OpenedPredictionLog> {
  const where = whereClause(filter, 'duckdb');
  const all = await predictionLogFiles(dir);
  const skipped: SkippedFile[] = [];
  let files = all;
  // Only files not already found readable as they are now are read to check them (a scan of every file's logged_at otherwise).
  const signatures = await Promise.all(all.map(fileSignature));
  const unknown = all.filter((file, i) => signatures[i] === undefined || checkedReadable.get(file) !== signatures[i]);
  // A file whose profile is trusted (log-profile-read.ts) was read whole when it was profiled: not read again to check it.
  // Only the files not known readable have their profiles loaded (a long-running server meets a few new files at a time).
  const profiles = unknown.length > 0 ? await loadLogProfiles(db, unknown) : undefined;
  const trusted = new Set(profiles?.trusted);
  const unchecked = unknown.filter((file) => !trusted.has(file));
  if (unchecked.length > 0 && !(await readable(db, unchecked))) {
    // Some file is unreadable: find which, one by one (only on this slow path).
    const toCheck = new Set(unchecked);
    files = [];
    for (const file of all) {
      const problem = toCheck.has(file) ? await readProblem(db, [file]) : undefined;
      if (problem === undefined) files.push(file);
      else skipped.push({ file, reason: problem });
    }
  }
  const read = new Set(files);
  all.forEach((file, i) => {
    if (read.has(file) && signatures[i] !== undefined) rememberReadable(file, signatures[i]!);
  });
  if (files.length === 0) return { relation: emptyRelation(filter), files, skipped, close: async () => {} };
  const source = `read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`;
  const types = new Map((await queryRows(db, `DESCRIBE SELECT * FROM ${source}`)).map((r) => [String(r.column_name), String(r.column_type)]));
  const loggedAt = loggedAtSql(types.get('logged_at'));
  // Columnar files' STRUCTs stay STRUCTs (typed columns, no JSON to parse); with older JSON files among them DuckDB unites both as JSON.
  const object = (name: string) => (types.get(name)?.startsWith('STRUCT(') ? `${name} AS ${name}` : `${name}::JSON AS ${name}`);
  const columns = `request_id::VARCHAR AS request_id, model_name::VARCHAR AS model_name, model_version::INTEGER AS model_version, role::VARCHAR AS role,
    protocol::VARCHAR AS protocol, ${object('features')}, ${object('outputs')}, latency_ms::DOUBLE AS latency_ms, ${loggedAt} AS logged_at,
    ${types.has('status') ? 'status::INTEGER' : 'NULL::INTEGER'} AS status, ${types.has('error_code') ? 'error_code::VARCHAR' : 'NULL::VARCHAR'} AS error_code`;
  // They serve the windows too (openLogProfiles) when they are every file's; with a file skipped, the profiles' footers
  // could not all be read: openLogProfiles then loads those of the files read.
  const loaded = profiles && unknown.length === all.length && skipped.length === 0 ? { profiles } : {};
  return { relation: `SELECT ${outcomeColumns(filter)} FROM (SELECT ${columns} FROM ${source}) WHERE ${where}`, files, skipped, filter, ...loaded, close: async () => {} };
}

/**
 * Files DuckDB read whole, by path, with the signature (size, modification and change times,
 * inode) they had then. Finished log files are never rewritten in place (writers rename into
 * place), so a file with the same signature is the file that was read; a file cut short,
 * replaced or touched since has another one and is checked again. The change time is in it
 * because a copy that keeps times (cp -p, rsync) or a filesystem of whole-second times can
 * leave size and modification time as they were; no program sets the change time back. At
 * most `CHECKED_KEPT` kept, oldest dropped first.
 */
const checkedReadable = new Map<string, string>();
const CHECKED_KEPT = 100_000;

function rememberReadable(file: string, signature: string): void {
  checkedReadable.delete(file);
  checkedReadable.set(file, signature);
  if (checkedReadable.size > CHECKED_KEPT) checkedReadable.delete(checkedReadable.keys().next().value!);
}

/** A file's size, modification and change times and inode; undefined when it cannot be stat'ed (DuckDB then says why). */
async function fileSignature(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether DuckDB reads every file's footer and its `logged_at` pages (a count reads the
 * footers). The pages are read for a hash of every value: DuckDB answers `max(logged_at)`
 * from the footer's statistics, so a file whose pages are damaged behind an intact footer
 * passed such a check. Other columns' pages are not read (that would cost a scan).
 */
async function readable(db: DuckDBConnection, files: string[]): Promise<boolean> {
  return (await readProblem(db, files)) === undefined;
}

async function readProblem(db: DuckDBConnection, files: string[]): Promise<string | undefined> {
  try {
    await db.run(`SELECT count(*), max(hash(logged_at)) FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

function emptyRelation(filter: PredictionLogFilter): string {
  return `SELECT ${outcomeColumns(filter)} FROM (SELECT NULL::VARCHAR AS request_id, NULL::VARCHAR AS model_name, NULL::INTEGER AS model_version, NULL::VARCHAR AS role,
    NULL::VARCHAR AS protocol, NULL::JSON AS features, NULL::JSON AS outputs, NULL::DOUBLE AS latency_ms, NULL::TIMESTAMP AS logged_at,
    NULL::INTEGER AS status, NULL::VARCHAR AS error_code) WHERE false`;
}

/** The relation's columns: the failure columns only when failed requests are asked for. */
function outcomeColumns(filter: PredictionLogFilter): string {
  return filter.outcomes === 'all' ? '*' : '* EXCLUDE (status, error_code)';
}

/**
 * The filter as SQL. Values are literals (COPY takes no bind parameters); names pass through
 * `literal`, the version and times are checked numbers.
 */
function whereClause(filter: PredictionLogFilter, dialect: 'duckdb' | 'postgres', literal: (s: string) => string = sqlString): string {
  const parts = [`model_name = ${literal(filter.model)}`];
  // Failed requests carry no features or outputs: monitoring never sees them unless asked.
  if (filter.outcomes !== 'all') parts.push('status IS NULL');
  if (filter.version !== undefined) parts.push(`model_version = ${integer(filter.version, 'version')}`);
  if (filter.roles && filter.roles.length > 0) {
    for (const role of filter.roles) {
      if (!PREDICTION_ROLES.includes(role)) throw new LoomError('INVALID_ARGUMENT', `unknown role "${role}"`, { field: 'role', fix: `use one of ${PREDICTION_ROLES.join(', ')}` });
    }
    parts.push(`role IN (${filter.roles.map((r) => literal(r)).join(', ')})`);
  }
  const time = (ms: number) => (dialect === 'duckdb' ? `epoch_ms(${integer(ms, 'time')}::BIGINT)` : String(integer(ms, 'time')));
  if (filter.from !== undefined) parts.push(`logged_at >= ${time(filter.from)}`);
  if (filter.to !== undefined) parts.push(`logged_at < ${time(filter.to)}`);
  return parts.join(' AND ');
}

function integer(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw new LoomError('INVALID_ARGUMENT', `${field} ${value} is not a whole number`, { field });
  return value;
}

async function openPostgresLog(db: DuckDBConnection, location: Extract<PredictionLogLocation, { kind: 'postgres' }>, filter: PredictionLogFilter): Promise<OpenedPredictionLog> {
  const client = new pg.Client({ connectionString: location.url, options: `-c search_path=${location.schema ?? 'public'}` });
  await client.connect().catch((error: unknown) => {
    throw new LoomError('UNAVAILABLE', `cannot connect to the PostgreSQL prediction log: ${error instanceof Error ? error.message : String(error)}`, {
      fix: 'check that the database server is running and LOOM_DATABASE_URL is right',
    });
  });
  const work = await mkdtemp(join(tmpdir(), 'loom-prediction-log-'));
  const table = `__loom_prediction_log_${tableCounter++}`;
  try {
    const extract = join(work, 'rows.csv');
    const where = whereClause(filter, 'postgres', (s) => client.escapeLiteral(s));
    const select = `SELECT request_id, model_name, model_version, role, protocol, features::text, outputs::text, latency_ms, logged_at, status, error_code FROM prediction_log WHERE ${where}`;
    await pipeline(client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER true)`)), createWriteStream(extract));
    const types = `{request_id: 'VARCHAR', model_name: 'VARCHAR', model_version: 'INTEGER', role: 'VARCHAR', protocol: 'VARCHAR', features: 'VARCHAR', outputs: 'VARCHAR', latency_ms: 'DOUBLE', logged_at: 'BIGINT', status: 'INTEGER', error_code: 'VARCHAR'}`;
    await db.run(`CREATE TEMP TABLE ${table} AS SELECT request_id, model_name, model_version, role, protocol, features::JSON AS features, outputs::JSON AS outputs, latency_ms,
      epoch_ms(logged_at) AS logged_at, status, error_code FROM read_csv(${sqlString(extract)}, header = true, columns = ${types}, quote = '"', escape = '"')`);
  } finally {
    await client.end().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
  return { relation: `SELECT ${outcomeColumns(filter)} FROM ${table}`, files: [], skipped: [], close: () => db.run(`DROP TABLE IF EXISTS ${table}`).then(() => undefined) };
}
