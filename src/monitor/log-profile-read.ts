/**
 * The prediction log's profiles (log-profile-write.ts) loaded and checked against their log
 * files: each profile's file, group and field rows (not its value rows, the bulk of it,
 * which log-profiles.ts reads where they are) and each log file's footer, read in one query,
 * and a profile kept (trusted) only when it belongs to its file: its layout version, and the
 * file's row count and byte size recorded in it equal to those in the file's footer.
 *
 * Both the log's reader (prediction-log-reader.ts: a file with a trusted profile was read
 * whole when it was profiled, so its readability is not checked by reading it again) and the
 * windows' profiles (log-profiles.ts) take what one load found.
 *
 * Usage: `const { trusted, rows } = await loadLogProfiles(db, files)`
 */
import { stat } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { queryRows, sqlString } from '../data/duckdb.js';
import { PROFILE_COLUMN_TYPES, PROFILE_VERSION, profilePath } from './log-profile-write.js';

/** A profile's file, group or field row (value rows are read where they are, by the query that sums them). */
export interface ProfileRow {
  kind: string;
  /** The profile's path. */
  profile: string;
  model_name: string | null;
  model_version: number | null;
  role: string | null;
  rows: bigint | null;
  min_at: bigint | null;
  max_at: bigint | null;
  col: string | null;
  field: string | null;
  type: string | null;
  capped: boolean | null;
  size: bigint | null;
  version: number | null;
}

/** The log files whose profile is trusted, and those profiles' file, group and field rows. */
export interface LoadedProfiles {
  trusted: string[];
  rows: ProfileRow[];
}

/** The trusted profiles of `files` (log files; those without a profile beside them have none). */
export async function loadLogProfiles(db: DuckDBConnection, files: readonly string[]): Promise<LoadedProfiles> {
  const found = (await Promise.all(files.map(async (file) => ((await stat(profilePath(file)).catch(() => undefined)) ? file : undefined)))).filter((f) => f !== undefined);
  return found.length === 0 ? { trusted: [], rows: [] } : loadProfiles(db, found);
}

/**
 * Reads the profiles' file, group and field rows of `files` (`profileRows`) and keeps those
 * that belong to their file; returns the files whose profile was kept, and their rows. A
 * profile DuckDB cannot read (torn) or of another layout (columns other than this version's:
 * read together, DuckDB refuses the whole set) is left out, found one by one only when reading
 * all at once fails; when even the rest cannot be read, every file is scanned.
 */
async function loadProfiles(db: DuckDBConnection, files: string[]): Promise<LoadedProfiles> {
  let readable = files;
  let read: Record<string, DuckDBValue>[];
  try {
    read = await readWithFooters(db, files);
  } catch {
    readable = [];
    for (const file of files) if (await hasProfileLayout(db, profilePath(file))) readable.push(file);
    if (readable.length === 0) return { trusted: [], rows: [] };
    try {
      read = await readWithFooters(db, readable);
    } catch {
      return { trusted: [], rows: [] };
    }
  }
  const rows = read.filter((r) => r.kind !== FOOTER) as unknown as ProfileRow[];
  // Each profile's file row against its file's footer: kept where both the rows and the size are the file's (compared as DOUBLEs, as before).
  const footers = new Map(read.filter((r) => r.kind === FOOTER).map((r) => [String(r.profile), r]));
  // Each profile's file rows by its path, found once: looking them up per file among all rows grows with files × rows.
  const fileRows = new Map<string, ProfileRow[]>();
  for (const r of rows) if (r.kind === 'file') fileRows.set(r.profile, [...(fileRows.get(r.profile) ?? []), r]);
  const matches = (file: string) => {
    const footer = footers.get(file);
    return footer !== undefined && (fileRows.get(profilePath(file)) ?? []).some((r) => r.version === PROFILE_VERSION && r.rows !== null && r.size !== null
      && Number(footer.rows) === Number(r.rows) && Number(footer.size) === Number(r.size));
  };
  const trusted = readable.filter(matches);
  const kept = new Set(trusted.map(profilePath));
  return { trusted, rows: rows.filter((r) => kept.has(r.profile)) };
}

/** The columns of the rows read (`ProfileRow`): not the value columns, the bulk of a profile, which these rows do not use. */
const PROFILE_ROW_COLUMNS = ['kind', 'profile', 'model_name', 'model_version', 'role', 'rows', 'min_at', 'max_at', 'col', 'field', 'type', 'capped', 'size', 'version'] as const satisfies readonly (keyof ProfileRow)[];

/** The kind given to a log file's footer row among the profiles' rows. */
const FOOTER = 'footer';

/**
 * The profiles' file, group and field rows of `files` and, in the same query (one statement),
 * each log file's rows and size from its footer (a row of kind `FOOTER`, `profile` the log file).
 */
function readWithFooters(db: DuckDBConnection, files: string[]): Promise<Record<string, DuckDBValue>[]> {
  return queryRows(
    db,
    `SELECT ${PROFILE_ROW_COLUMNS.join(', ')} FROM (${profileRows(files)}) WHERE kind <> 'value'
     UNION ALL BY NAME
     SELECT '${FOOTER}' AS kind, file_name AS profile, num_rows::BIGINT AS rows, file_size_bytes::BIGINT AS size FROM parquet_file_metadata([${files.map(sqlString).join(', ')}])`,
  );
}

/** The columns (and their types) a profile of this layout version has, as DuckDB describes them. */
const PROFILE_LAYOUT = JSON.stringify([['kind', 'VARCHAR'], ...Object.entries(PROFILE_COLUMN_TYPES)]);

/** Whether DuckDB reads `profile`'s footer and finds this version's columns (a torn profile, or one of another layout, is not). */
async function hasProfileLayout(db: DuckDBConnection, profile: string): Promise<boolean> {
  try {
    const described = await queryRows(db, `DESCRIBE SELECT * FROM read_parquet(${sqlString(profile)})`);
    return JSON.stringify(described.map((r) => [String(r.column_name), String(r.column_type)])) === PROFILE_LAYOUT;
  } catch {
    return false;
  }
}

/**
 * The rows of the profiles of `files`, with `profile` (the profile's path). Only the few
 * file, group and field rows are loaded into a table; the value rows are read where they
 * are by the one query that sums them (loading them first costs twice that).
 */
export function profileRows(files: readonly string[]): string {
  return `SELECT * EXCLUDE (filename), filename AS profile FROM read_parquet([${files.map((f) => sqlString(profilePath(f))).join(', ')}], filename = true)`;
}
