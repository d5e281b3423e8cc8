/**
 * The prediction log's profiles (log-profile-write.ts) read back for monitoring windows: a
 * window whose rows are all in profiled files, each (model, version, role) group of which
 * lies wholly inside the window, gets its per-column value counts by summing the profiles,
 * with no scan of the rows. Everything else is scanned as before: a window is profiled
 * whole or not at all (a file straddling it, a file without a trusted profile that has rows
 * in it, a column capped or typed otherwise in some file: the whole window is scanned).
 *
 * A profile is trusted only when it belongs to its file: the same stem, its layout version,
 * and the file's row count and byte size recorded in it equal to the file's own (a file
 * rewritten or replaced since, or a torn profile, is not). Files without one have their
 * time range read (one column) so windows elsewhere can still use the others' profiles.
 *
 * Usage: `const profiles = await openLogProfiles(db, log)` (the reader's opened log), then
 *        `await profiles?.counts({ from, to }, columns)`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../data/duckdb.js';
import { statisticsColumns, statisticsOfValueCounts, type DatasetStatistics, type FeatureType, type ValueCounts } from '../validate/statistics.js';
import { groupedScoreCounts, type ScoreCounts } from './cbpe.js';
import { loadLogProfiles, profileRows, type ProfileRow } from './log-profile-read.js';
import type { OpenedPredictionLog, PredictionLogFilter } from './prediction-log-reader.js';
import { loggedAtSql } from './prediction-log-time.js';

/** A window's column to count: a field of `features` or `outputs`, typed as the window types it; `fieldType` its type in the log's STRUCT (undefined: no file has it). */
export interface ProfiledColumn {
  col: 'features' | 'outputs';
  field: string;
  type: FeatureType;
  fieldType: string | undefined;
}

/** Epoch ms, [from, to). */
export interface TimeRange {
  from: number;
  to: number;
}

/** The rows of a range as the profiles count them: how many, and the first and last `logged_at` (epoch ms; undefined when none). */
export interface ProfiledExtent {
  rows: number;
  start?: number;
  end?: number;
}

export interface LogProfiles {
  /**
   * The number of rows of `range` (the log's filter applied) and their first and last time,
   * from the profiles' group rows (no scan of the log); undefined when some of those rows are
   * not wholly profiled.
   */
  extent(range: TimeRange): Promise<ProfiledExtent | undefined>;
  /**
   * The rows of `range` (the log's filter applied) as value counts: `counts` a relation of
   * `(col, v, s, n)` (col: the column's index in `columns`), as statistics.ts's
   * `statisticsOfValueCounts` takes it, and their number of rows; undefined when some of
   * those rows are not wholly profiled for every column.
   */
  counts(range: TimeRange, columns: readonly ProfiledColumn[]): Promise<{ counts: string; rows: number } | undefined>;
  /** Drops the loaded profiles. */
  close(): Promise<void>;
}

/**
 * How a profile's stored values give the window's value, by the window's type and the
 * field's: only where the two agree, so the values are those the window's rows hold
 * (logged-fields.ts `loggedValue`); other pairs are scanned.
 */
const VALUE_OF: Record<FeatureType, Record<string, { v?: string; s?: string }>> = {
  // An integer field is read as the window reads it: TRY_CAST to BIGINT (a UBIGINT past its range is missing).
  INT: { BIGINT: { v: 'i::DOUBLE' }, UBIGINT: { v: 'TRY_CAST(u AS BIGINT)::DOUBLE' } },
  FLOAT: { DOUBLE: { v: 'd' }, BIGINT: { v: 'i::DOUBLE' }, UBIGINT: { v: 'u::DOUBLE' } },
  STRING: { VARCHAR: { s: 's' }, BIGINT: { s: 'i::VARCHAR' }, UBIGINT: { s: 'u::VARCHAR' } },
  BOOL: { BOOLEAN: { v: 'b::INTEGER::DOUBLE' } },
  TIMESTAMP: {},
};

/**
 * Loads the trusted profiles of the log's files (or takes those the reader loaded to check
 * the files, `log.profiles`); undefined when none can serve (PostgreSQL, no profiles).
 */
export async function openLogProfiles(db: DuckDBConnection, log: Pick<OpenedPredictionLog, 'files' | 'filter' | 'profiles'>): Promise<LogProfiles | undefined> {
  // Profiles count the answered rows only.
  if (log.files.length === 0 || !log.filter || log.filter.outcomes === 'all') return undefined;
  const filter = log.filter;
  const { trusted, rows: loaded } = log.profiles ?? (await loadLogProfiles(db, log.files));
  if (trusted.length === 0) return undefined;
  const profiled = new Set(trusted);
  const unprofiled = await timeRanges(db, log.files.filter((f) => !profiled.has(f)));
  // The profiles' group and field rows are few: held here, so a window's coverage is worked out without a query.
  const allGroups = loaded.filter((r) => r.kind === 'group');
  const groups = allGroups.filter((r) => inFilter(r, filter));
  const fieldRows = loaded.filter((r) => r.kind === 'field');
  /**
   * The range clamped to the log's filter and its groups' rows and times, the groups (as a
   * relation `g` the value rows are semi-joined to) and how many of the field rows of those
   * groups `bad` holds (a field some group cannot serve); undefined when an unprofiled file or a
   * group straddling the range has rows in it.
   */
  const coverage = (range: TimeRange, bad: (field: ProfileRow) => boolean = () => false) => {
    const from = Math.max(range.from, filter.from ?? -Infinity);
    const to = Math.min(range.to, filter.to ?? Infinity);
    if (unprofiled.some((r) => r.max >= from && r.min < to)) return undefined;
    // As SQL compares them (times are epoch ms, safe integers, so exact as numbers): a group without times (NULL) is in no range.
    const [lower, upper] = [Number(bound(from)), Number(bound(to))];
    const at = (ms: bigint | null) => (ms === null ? Number.NaN : Number(ms));
    const overlapping = groups.filter((g) => at(g.max_at) >= lower && at(g.min_at) < upper);
    if (overlapping.some((g) => !(at(g.min_at) >= lower && at(g.max_at) < upper))) return undefined;
    const inside = new Set(overlapping.map(groupKey));
    const rows = overlapping.reduce((sum, g) => sum + (g.rows ?? 0n), 0n);
    const times = (pick: (g: ProfileRow) => bigint, better: (a: bigint, b: bigint) => boolean) =>
      overlapping.length === 0 ? undefined : Number(overlapping.map(pick).reduce((a, b) => (better(b, a) ? b : a)));
    // A group's version or role may be NULL (the reader keeps such rows when it does not filter on them): matched as equal, not dropped as USING would.
    // A value row belongs to a group row of its profile: when every group of the profiles is in (one model's log, read
    // whole), every value row is, and the join that picks them (a tenth of the window's statistics) is left out.
    const inWindow =
      overlapping.length === allGroups.length
        ? 'p'
        : `p SEMI JOIN ${groupsRelation(overlapping)} ON p.profile = g.profile AND p.model_name = g.model_name AND p.model_version IS NOT DISTINCT FROM g.model_version AND p.role IS NOT DISTINCT FROM g.role`;
    return {
      inWindow,
      rows: Number(rows),
      start: times((g) => g.min_at!, (a, b) => a < b),
      end: times((g) => g.max_at!, (a, b) => a > b),
      bad: fieldRows.filter((f) => inside.has(groupKey(f)) && bad(f)).length,
    };
  };
  return {
    async extent(range) {
      const covered = coverage(range);
      return covered && { rows: covered.rows, ...(covered.start !== undefined && { start: covered.start }), ...(covered.end !== undefined && { end: covered.end }) };
    },
    async counts(range, columns) {
      const counted = columns.map((c, index) => ({ ...c, index, value: c.fieldType === undefined ? undefined : VALUE_OF[c.type][c.fieldType] }));
      if (counted.some((c) => c.fieldType !== undefined && c.value === undefined)) return undefined;
      const present = counted.filter((c) => c.fieldType !== undefined);
      // Every group's field must be counted, in the type the window reads (a file may type a field otherwise than the union of all).
      // As SQL's `capped OR type <> t` is true: NULLs make neither side true.
      const covered = coverage(range, (f) => present.some((c) => f.col === c.col && f.field === c.field && (f.capped === true || (f.type !== null && f.type !== c.fieldType))));
      if (!covered || covered.bad > 0) return undefined;
      if (present.length === 0) return { counts: 'SELECT NULL::INTEGER AS col, NULL::DOUBLE AS v, NULL::VARCHAR AS s, NULL::DOUBLE AS n WHERE false', rows: covered.rows };
      const values = `(${profileRows(trusted)} WHERE kind = 'value') ${covered.inWindow}`;
      if (present.length === 1) {
        // One column (a score): its value rows filtered where they are read, no join.
        const [c] = present as [(typeof present)[number]];
        const counts = `SELECT ${c.index} AS col, ${c.value!.v ?? 'NULL::DOUBLE'} AS v, ${c.value!.s ?? 'NULL::VARCHAR'} AS s, rows::DOUBLE AS n
          FROM ${values} WHERE p.col = ${sqlString(c.col)} AND p.field = ${sqlString(c.field)}`;
        return { counts, rows: covered.rows };
      }
      // One pass over the profiles' value rows for every column: each row's column found by a join on its (col, field) and
      // its value picked by the column's number (a CASE on strings per row cost twice as much).
      const which = (pick: (c: (typeof present)[number]) => string | undefined, type: string) => `CASE m.col ${present.map((c) => `WHEN ${c.index} THEN ${pick(c) ?? `NULL::${type}`}`).join(' ')} END`;
      const wanted = `(VALUES ${present.map((c) => `(${c.index}, ${sqlString(c.col)}, ${sqlString(c.field)})`).join(', ')}) AS m(col, struct, field)`;
      const counts = `SELECT m.col AS col, ${which((c) => c.value!.v, 'DOUBLE')} AS v, ${which((c) => c.value!.s, 'VARCHAR')} AS s, rows::DOUBLE AS n
        FROM ${values} JOIN ${wanted} ON p.col = m.struct AND p.field = m.field`;
      return { counts, rows: covered.rows };
    },
    // Nothing was loaded into the database: the value rows are read where they are.
    close: async () => {},
  };
}

/** Whether a group row passes the reader's filter (its rows are the answered ones already), as SQL compares: a NULL version or role passes only where not filtered on. */
function inFilter(group: ProfileRow, filter: PredictionLogFilter): boolean {
  if (group.model_name !== filter.model) return false;
  if (filter.version !== undefined && group.model_version !== Math.trunc(filter.version)) return false;
  return !filter.roles || filter.roles.length === 0 || (group.role !== null && (filter.roles as readonly string[]).includes(group.role));
}

/** A group's identity in its profile (NULLs equal, as IS NOT DISTINCT FROM compares them). */
function groupKey(row: ProfileRow): string {
  return JSON.stringify([row.profile, row.model_name, row.model_version, row.role]);
}

/** The groups as a relation `g` of (profile, model_name, model_version, role), typed as the profiles' columns. */
function groupsRelation(groups: ProfileRow[]): string {
  const text = (value: string | null) => (value === null ? 'NULL::VARCHAR' : sqlString(value));
  if (groups.length === 0) return '(SELECT NULL::VARCHAR AS profile, NULL::VARCHAR AS model_name, NULL::INTEGER AS model_version, NULL::VARCHAR AS role WHERE false) AS g';
  const rows = groups.map((g) => `(${text(g.profile)}, ${text(g.model_name)}, ${g.model_version === null ? 'NULL' : Math.trunc(g.model_version)}::INTEGER, ${text(g.role)})`);
  return `(VALUES ${rows.join(', ')}) AS g(profile, model_name, model_version, role)`;
}

/**
 * The statistics (and value counts) of a window's rows from the profiles, the same as
 * `statisticsWithValueCounts` of `relation` (its rows: `columns`, in order) gives; undefined
 * (scan them) when the profiles do not cover them wholly or count other than `rows` rows.
 */
export async function statisticsFromProfiles(
  db: DuckDBConnection,
  profiles: LogProfiles,
  range: TimeRange,
  relation: string,
  columns: readonly ProfiledColumn[],
  rows: number,
): Promise<{ statistics: DatasetStatistics; valueCounts: Map<string, ValueCounts> } | undefined> {
  const counted = await profiles.counts(range, columns);
  if (!counted || counted.rows !== rows) return undefined;
  const described = await statisticsColumns(db, relation);
  // A timestamp column is counted only when no file has its field (all missing).
  if (described.length !== columns.length || described.some((c, i) => c.type === 'TIMESTAMP' && columns[i]!.fieldType !== undefined)) return undefined;
  return statisticsOfValueCounts(db, described, counted.counts, counted.rows);
}

/**
 * A numeric output's scores counted from the profiles (CBPE's input, cbpe.ts): the same
 * counts as `readScoreCounts` of the range's rows (`outputs.<output>` as a DOUBLE); undefined
 * when the profiles do not cover them wholly.
 */
export async function scoreCountsFromProfiles(db: DuckDBConnection, profiles: LogProfiles, range: TimeRange, output: string, fieldType: string | undefined): Promise<ScoreCounts | undefined> {
  const counted = await profiles.counts(range, [{ col: 'outputs', field: output, type: 'FLOAT', fieldType }]);
  if (!counted) return undefined;
  // ORDER BY puts NaN last, as the scan's sort does; GROUP BY puts -0 with 0, as it does.
  const read = await queryRows(db, `SELECT v, sum(n)::DOUBLE AS n FROM (${counted.counts}) WHERE v IS NOT NULL GROUP BY v ORDER BY v`);
  return groupedScoreCounts(Float64Array.from(read, (r) => Number(r.v)), Float64Array.from(read, (r) => Number(r.n)));
}

/**
 * The first and last `logged_at` (epoch ms) of each of `files`, read from the files (one
 * column): in one query, or file by file when their `logged_at` types differ; a file that
 * cannot be read spans all time.
 */
async function timeRanges(db: DuckDBConnection, files: string[]): Promise<{ min: number; max: number }[]> {
  if (files.length === 0) return [];
  try {
    return await timeRangesOf(db, files);
  } catch {
    return (await Promise.all(files.map((file) => timeRangesOf(db, [file]).catch(() => [{ min: -Infinity, max: Infinity }])))).flat();
  }
}

/** Each file's range (a file with no rows has none). */
async function timeRangesOf(db: DuckDBConnection, files: string[]): Promise<{ min: number; max: number }[]> {
  const source = `read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true, filename = true)`;
  const [described] = await queryRows(db, `DESCRIBE SELECT logged_at FROM ${source}`);
  const at = `epoch_ms(${loggedAtSql(described ? String(described.column_type) : undefined)})`;
  const rows = await queryRows(db, `SELECT min(${at})::DOUBLE AS min, max(${at})::DOUBLE AS max FROM ${source} GROUP BY filename`);
  return rows.filter((row) => row.min !== null).map((row) => ({ min: Number(row.min), max: Number(row.max) }));
}

/** A time bound as a BIGINT literal (infinite bounds clamped). */
function bound(ms: number): string {
  return String(Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, ms)));
}
