/**
 * Mergeable profiles of the prediction log's Parquet files (whylogs' idea, issue 13 speed):
 * when a log file is finished, a small profile is written beside it, and monitoring windows
 * that cover whole files sum the profiles instead of scanning the rows (log-profiles.ts).
 *
 * A profile (`predictions-….profile`, a Parquet file: never matched by the reader's
 * `*.parquet`) holds, per (model_name, model_version, role) of the file's answered rows
 * (`status` NULL, what monitoring reads):
 * - a `group` row: its rows and the first and last `logged_at` (epoch ms);
 * - a `field` row per feature and output field of the file's STRUCTs: the field's type in
 *   this file and whether it is `capped` (more distinct values than `maxDistinct`, or a type
 *   not counted: such a field is scanned);
 * - `value` rows for each field not capped: every present value (in `s`, `d`, `i`, `u` or
 *   `b` by its type: VARCHAR, DOUBLE, BIGINT, UBIGINT, BOOLEAN) and its rows `n`. Statistics of numbers
 *   and strings are functions of these full counts (validate/statistics.ts).
 * and one `file` row that ties it to its Parquet file: the profile's layout version, the
 * file's rows and size in bytes. A profile whose file row does not match is not trusted.
 *
 * Written under a temporary name and renamed, like the log's files. Files of the JSON layout
 * (no STRUCTs) get no profile.
 *
 * Usage: `await writeLogProfile(db, '/project/predictions/predictions-….parquet')`
 */
import { rename, rm, stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../data/duckdb.js';
import { loggedAtSql } from './prediction-log-time.js';

/** The profile layout's version, in every profile's `file` row. */
export const PROFILE_VERSION = 1;

/** A field with more distinct values than this in a group of a file is not counted (scanned instead). */
export const MAX_PROFILE_DISTINCT = 65_536;

/**
 * Below this many distinct values a field is always counted: a quarter of a small file's rows
 * would cap every continuous field (a score) of the files an idle server finishes, while a
 * profile of a few thousand values is small anyway.
 */
export const MIN_PROFILE_CAP = 4096;

/** The columns value rows keep a field's values in, by the field's type. */
export const PROFILE_VALUE_COLUMNS: Readonly<Record<string, 's' | 'd' | 'i' | 'u' | 'b'>> = { VARCHAR: 's', DOUBLE: 'd', BIGINT: 'i', UBIGINT: 'u', BOOLEAN: 'b' };

/** The profile beside a log file: the same stem, `.profile`. */
export function profilePath(logFile: string): string {
  return `${logFile.replace(/\.parquet$/, '')}.profile`;
}

/** The log file a profile belongs to (`profilePath`'s inverse). */
export function profiledFile(profile: string): string {
  return `${profile.replace(/\.profile$/, '')}.parquet`;
}

export interface ProfileOptions {
  /** Default: `MAX_PROFILE_DISTINCT`, and at most a quarter of the file's rows (at least `MIN_PROFILE_CAP`). */
  maxDistinct?: number;
}

/**
 * Writes `logFile`'s profile beside it (temporary name, then renamed); its path, or
 * undefined for a file of the JSON layout. One scan of the file.
 */
export async function writeLogProfile(db: DuckDBConnection, logFile: string, options: ProfileOptions = {}): Promise<string | undefined> {
  const source = `read_parquet(${sqlString(logFile)})`;
  const types = new Map((await queryRows(db, `DESCRIBE SELECT * FROM ${source}`)).map((r) => [String(r.column_name), String(r.column_type)]));
  if (!types.get('features')?.startsWith('STRUCT(') || !types.get('outputs')?.startsWith('STRUCT(')) return undefined;
  const fields: { col: 'features' | 'outputs'; name: string; type: string }[] = [];
  for (const col of ['features', 'outputs'] as const) {
    for (const r of await queryRows(db, `DESCRIBE SELECT ${col}.* FROM ${source}`)) fields.push({ col, name: String(r.column_name), type: String(r.column_type) });
  }
  const [{ rows: fileRows }] = (await queryRows(db, `SELECT count(*)::BIGINT AS rows FROM ${source}`)) as [{ rows: bigint }];
  const size = (await stat(logFile)).size;
  const cap = options.maxDistinct ?? Math.min(MAX_PROFILE_DISTINCT, Math.max(MIN_PROFILE_CAP, Math.ceil(Number(fileRows) / 4)));
  const counted = fields.map((f, j) => ({ ...f, j, into: PROFILE_VALUE_COLUMNS[f.type] })).filter((f) => f.into !== undefined);
  const at = loggedAtSql(types.get('logged_at'));
  const group = 'model_name, model_version, role';
  const valueOf = (into: string) => {
    const picked = counted.filter((f) => f.into === into).map((f) => `f${f.j}`);
    return picked.length > 0 ? `coalesce(${picked.join(', ')}, NULL)` : 'NULL';
  };
  const which = counted.length > 0 ? `CASE ${counted.map((f) => `WHEN GROUPING(f${f.j}) = 0 THEN ${f.j}`).join(' ')} END` : 'NULL::INTEGER';
  const fieldList = fields.length > 0 ? `(VALUES ${fields.map((f, j) => `(${j}, ${sqlString(f.col)}, ${sqlString(f.name)}, ${sqlString(f.type)})`).join(', ')}) AS fl(j, col, field, type)` : undefined;
  const columns = (kind: string, rest: Partial<Record<(typeof PROFILE_COLUMNS)[number], string>>) =>
    `SELECT '${kind}' AS kind, ${PROFILE_COLUMNS.map((c) => `${rest[c] ?? `NULL::${PROFILE_COLUMN_TYPES[c]}`}::${PROFILE_COLUMN_TYPES[c]} AS ${c}`).join(', ')}`;
  const sql = `
    WITH grouped AS MATERIALIZED (
      SELECT ${group}, ${which} AS j, ${valueOf('s')}::VARCHAR AS s, ${valueOf('d')}::DOUBLE AS d, ${valueOf('i')}::BIGINT AS i, ${valueOf('u')}::UBIGINT AS u, ${valueOf('b')}::BOOLEAN AS b,
        count(*) AS n, epoch_ms(min(logged)) AS min_at, epoch_ms(max(logged)) AS max_at
      FROM (SELECT model_name::VARCHAR AS model_name, model_version::INTEGER AS model_version, role::VARCHAR AS role, ${at} AS logged
              ${counted.map((f) => `, struct_extract(${f.col}, ${sqlString(f.name)}) AS f${f.j}`).join('')}
            FROM ${source} ${types.has('status') ? 'WHERE status IS NULL' : ''})
      GROUP BY GROUPING SETS ((${group})${counted.map((f) => `, (${group}, f${f.j})`).join('')})
    ), distinct_values AS (
      SELECT ${group}, j, count(*) FILTER (WHERE (s IS NOT NULL OR d IS NOT NULL OR i IS NOT NULL OR u IS NOT NULL OR b IS NOT NULL)) AS distinct_values
      FROM grouped WHERE j IS NOT NULL GROUP BY ALL
    )
    ${columns('file', { rows: `${fileRows}`, size: `${size}`, version: `${PROFILE_VERSION}` })}
    UNION ALL ${columns('group', { model_name: 'model_name', model_version: 'model_version', role: 'role', rows: 'n', min_at: 'min_at', max_at: 'max_at' })} FROM grouped WHERE j IS NULL
    ${
      fieldList
        ? `UNION ALL ${columns('field', { model_name: 'g.model_name', model_version: 'g.model_version', role: 'g.role', col: 'fl.col', field: 'fl.field', type: 'fl.type', capped: `coalesce(dv.distinct_values > ${cap}, true)` })}
           FROM (SELECT ${group} FROM grouped WHERE j IS NULL) g CROSS JOIN ${fieldList}
           LEFT JOIN distinct_values dv ON dv.model_name IS NOT DISTINCT FROM g.model_name AND dv.model_version IS NOT DISTINCT FROM g.model_version AND dv.role IS NOT DISTINCT FROM g.role AND dv.j = fl.j
           UNION ALL ${columns('value', { model_name: 'v.model_name', model_version: 'v.model_version', role: 'v.role', col: 'fl.col', field: 'fl.field', type: 'fl.type', s: 's', d: 'd', i: 'i', u: 'u', b: 'b', rows: 'n' })}
           FROM grouped v JOIN ${fieldList} ON v.j = fl.j
           JOIN distinct_values dv ON dv.model_name IS NOT DISTINCT FROM v.model_name AND dv.model_version IS NOT DISTINCT FROM v.model_version AND dv.role IS NOT DISTINCT FROM v.role AND dv.j = v.j
           WHERE dv.distinct_values <= ${cap} AND (s IS NOT NULL OR d IS NOT NULL OR i IS NOT NULL OR u IS NOT NULL OR b IS NOT NULL)`
        : ''
    }`;
  const target = profilePath(logFile);
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    await db.run(`COPY (${sql}) TO ${sqlString(temporary)} (FORMAT PARQUET)`);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return target;
}

/** A profile's columns (after `kind`), with their types. */
export const PROFILE_COLUMN_TYPES = {
  model_name: 'VARCHAR',
  model_version: 'INTEGER',
  role: 'VARCHAR',
  rows: 'BIGINT',
  min_at: 'BIGINT',
  max_at: 'BIGINT',
  col: 'VARCHAR',
  field: 'VARCHAR',
  type: 'VARCHAR',
  capped: 'BOOLEAN',
  s: 'VARCHAR',
  d: 'DOUBLE',
  i: 'BIGINT',
  u: 'UBIGINT',
  b: 'BOOLEAN',
  size: 'BIGINT',
  version: 'INTEGER',
} as const;
const PROFILE_COLUMNS = Object.keys(PROFILE_COLUMN_TYPES) as (keyof typeof PROFILE_COLUMN_TYPES)[];
