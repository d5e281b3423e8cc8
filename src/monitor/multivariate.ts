/**
 * Multivariate drift as NannyML's `DataReconstructionDriftCalculator` measures it: fit PCA
 * on the training rows, then a window drifts when its rows are reconstructed worse (or
 * better) than training rows are.
 *
 * Fit (on the training rows): strings are frequency-encoded (the share of the value in
 * training; an unseen value is 0, NannyML's CountEncoder), missing values imputed with the
 * mean, every column standardised; PCA keeps the fewest components explaining 65% of the
 * variance (NannyML's default `n_components=0.65`). A row's error is the Euclidean distance
 * between its standardised point and its reconstruction, computed in SQL from its projections
 * on a few directions (`errorDirections`). The band is NannyML's default threshold: the mean
 * ± 3 standard deviations of the mean error of 10 training chunks.
 * Eigenvectors come from a cyclic Jacobi rotation of the covariance matrix (features are
 * few; the matrix is built by one SQL aggregate).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { LoomError } from '../core/errors.js';
import { queryRows, sqlIdent } from '../data/duckdb.js';
import type { SchemaFeature } from '../validate/schema.js';
import type { DatasetStatistics } from '../validate/statistics.js';
import { RECONSTRUCTION_FIT } from './fit-store-formats.js';
import { errorDirections, symmetricEigen, type ErrorDirections } from './pca-algebra.js';
import type { FitScope } from './version-fits.js';

export { complementBasis, errorDirections, symmetricEigen } from './pca-algebra.js';

/** NannyML's defaults. */
export const EXPLAINED_VARIANCE = 0.65;
export const REFERENCE_CHUNKS = 10;
export const BAND_STDS = 3;

export interface ReconstructionModel {
  /**
   * Each column's encoding, a SQL expression over the rows (aliased `__r`) and, for a string,
   * a LEFT JOIN of its training frequencies (a small temporary table: a hash join, where a
   * `CASE` of hundreds of branches cost more than the rest of the window together).
   */
  columns: ReconstructionColumn[];
  /** d × k, columns orthonormal. */
  components: number[][];
  lower: number;
  upper: number;
  /** The training chunks' mean errors the band came from. */
  referenceErrors: number[];
  /** The frequency tables the joins read; `dropReconstruction` drops them. */
  tables: string[];
  /** The directions the error is taken from, worked out once (`errorDirections`; from `components` when absent). */
  directions?: ErrorDirections;
}

/** A column as the model encodes it (see `ReconstructionModel.columns`). */
export interface ReconstructionColumn {
  name: string;
  /** The value to standardise, a DOUBLE (NULL when missing): the number, or a string's share in training. */
  encoded: string;
  join?: string;
  mean: number;
  std: number;
  /**
   * A string column's frequency table (created for a fit only: a kept fit's later windows look
   * the terms up instead, `lookupStandardised`), its alias in the join, the row's value (SQL)
   * and each training value's share, as the table holds it.
   */
  frequencies?: { table: string; alias: string; value: string; shares: { value: string; share: number }[] };
  /**
   * Set when the column's z-score and its terms of the projections (`__z`, `__p0`, `__p1`, …)
   * are looked up by its value from the joined table `alias` instead of computed from `encoded`.
   */
  lookup?: { alias: string; value: string };
}

let tableCounter = 0;

/** A fitted model as plain data (no tables, no SQL): what a served version keeps for its later windows. */
export interface ReconstructionFit {
  /** The columns kept, by feature name, with their encoding's training mean and standard deviation. */
  columns: { name: string; mean: number; std: number }[];
  components: number[][];
  lower: number;
  upper: number;
  referenceErrors: number[];
}

/**
 * The model of the served version: fitted on the training rows, or, with `fits`, fitted by
 * the version's first window and loaded by every later one (the fit reads every training
 * row three times; loading only rebuilds the frequency tables from `stats`). Drop it with
 * `dropReconstruction`.
 */
export async function reconstructionModel(db: DuckDBConnection, trainingRows: string, features: SchemaFeature[], stats: DatasetStatistics, fits?: FitScope): Promise<ReconstructionModel | undefined> {
  if (!fits) {
    const model = await fitReconstruction(db, trainingRows, features, stats);
    return model && lookupStandardised(db, model);
  }
  const fit = await fits.get('reconstruction', async (): Promise<ReconstructionFit | null> => {
    const model = await fitReconstruction(db, trainingRows, features, stats);
    if (!model) return null;
    await dropReconstruction(db, model);
    return { columns: model.columns.map(({ name, mean, std }) => ({ name, mean, std })), components: model.components, lower: model.lower, upper: model.upper, referenceErrors: model.referenceErrors };
  }, RECONSTRUCTION_FIT);
  return fit ? lookupStandardised(db, await loadReconstruction(db, fit, features, stats, false)) : undefined;
}

/**
 * The model made cheaper to score rows with: each string column's z-score and its terms of the
 * error's projections looked up from a table of its training values', instead of its share
 * looked up and standardised and weighted on every row. The terms are worked out here, with the
 * very operations the row-wise error's SQL does on the same doubles (a subtraction, then a
 * division by the standard deviation or a product with the weight over it: each correctly
 * rounded in both, so the same doubles), and appended: every column's table is created by one
 * statement. An unseen value's terms are those of share 0, a missing value's 0 (the mean
 * imputed), as row-wise.
 */
async function lookupStandardised(db: DuckDBConnection, model: ReconstructionModel): Promise<ReconstructionModel> {
  const directions = model.directions ?? errorDirections(model.components);
  const looked = model.columns.flatMap((column, i) => (column.frequencies ? [{ column, i, frequencies: column.frequencies, table: `${column.frequencies.table}_terms` }] : []));
  if (looked.length === 0) return { ...model, directions };
  const projections = directions.vectors.map((_, j) => `__p${j} DOUBLE`);
  await db.run(looked.map(({ table }) => `CREATE TEMP TABLE ${table} (value VARCHAR, __z DOUBLE${projections.map((p) => `, ${p}`).join('')})`).join('; '));
  for (const { column, i, frequencies, table } of looked) {
    // Factors as `term` writes them into SQL: the weight over the standard deviation, one double.
    const factors = directions.vectors.map((v) => v[i]! / column.std);
    const appender = await db.createAppender(table);
    try {
      for (const { value, share } of frequencies.shares) {
        const centred = share - column.mean;
        appender.appendVarchar(value);
        appender.appendDouble(centred / column.std);
        for (const factor of factors) appender.appendDouble(centred * factor);
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
  }
  const terms = new Map(looked.map((l) => [l.i, l]));
  const columns = model.columns.map((column, i): ReconstructionColumn => {
    const { frequencies, table } = terms.get(i) ?? {};
    if (!frequencies) return column;
    return { ...column, join: `LEFT JOIN ${table} AS ${frequencies.alias} ON ${frequencies.value}::VARCHAR = ${frequencies.alias}.value`, lookup: { alias: frequencies.alias, value: frequencies.value } };
  });
  return { ...model, columns, tables: [...model.tables, ...looked.map((l) => l.table)], directions };
}

/**
 * A kept fit made usable on `db`: its columns encoded again from the same training statistics.
 * `frequencyTables` false: the strings' frequency tables are not created (a model only scored
 * through `lookupStandardised`, which needs their shares, not the tables).
 */
export async function loadReconstruction(db: DuckDBConnection, fit: ReconstructionFit, features: SchemaFeature[], stats: DatasetStatistics, frequencyTables = true): Promise<ReconstructionModel> {
  const { encoded, tables } = await encodeFeatures(db, features, stats, frequencyTables);
  const columns = fit.columns.map(({ name, mean, std }) => {
    const column = encoded.find((e) => e.name === name);
    if (!column) {
      throw new LoomError('INTERNAL', `the kept PCA fit has column "${name}", which the training statistics no longer encode`, { fix: 'run the monitor again: a fit is kept per version and its statistics' });
    }
    return { ...column, mean, std };
  });
  return { columns, components: fit.components, lower: fit.lower, upper: fit.upper, referenceErrors: fit.referenceErrors, tables };
}

/** Fits the model on `trainingRows`; undefined when fewer than two usable columns. Drop it with `dropReconstruction`. */
export async function fitReconstruction(db: DuckDBConnection, trainingRows: string, features: SchemaFeature[], stats: DatasetStatistics): Promise<ReconstructionModel | undefined> {
  const { encoded, tables } = await encodeFeatures(db, features, stats);
  const model: ReconstructionModel = { columns: [], components: [], lower: 0, upper: 0, referenceErrors: [], tables };
  if (encoded.length < 2) return dropReconstruction(db, model).then(() => undefined);
  // The training rows encoded once, in their order (the chunks are consecutive rows), for the three passes below.
  const rows = `__loom_reconstruction_${tableCounter++}`;
  await db.run(`CREATE TEMP TABLE ${rows} AS ${encodedSelect(encoded, `SELECT row_number() OVER () AS __loom_row, * FROM (${trainingRows})`, '__r.__loom_row, ')}`);
  try {
    const moments = await queryRows(db, `SELECT count(*)::DOUBLE AS n, ${encoded.map((_, i) => `avg(e${i}) AS m${i}, stddev_pop(e${i}) AS s${i}`).join(', ')} FROM ${rows}`);
    const kept = encoded.map((e, i) => ({ ...e, source: i, mean: Number(moments[0]![`m${i}`] ?? 0), std: Number(moments[0]![`s${i}`] ?? 0) })).filter((c) => c.std > 0);
    if (kept.length < 2) return dropReconstruction(db, model).then(() => undefined);
    const columns = kept.map(({ source: _, ...c }) => c);
    const keptRows = `SELECT __loom_row, ${kept.map((c, j) => `e${c.source} AS e${j}`).join(', ')} FROM ${rows}`;
    // The kept columns as the materialised rows hold them (encoded, strings joined already).
    const materialised = columns.map((c, j) => ({ name: c.name, mean: c.mean, std: c.std, encoded: `__r.e${j}` }));
    const z = materialised.map((c) => standardScore(c, c.encoded));
    const pairs: string[] = [];
    for (let i = 0; i < z.length; i++) for (let j = i; j < z.length; j++) pairs.push(`avg(${z[i]} * ${z[j]}) AS c${i}_${j}`);
    const [cov] = await queryRows(db, `SELECT ${pairs.join(', ')} FROM (${keptRows}) AS __r`);
    const d = z.length;
    const matrix = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => Number(cov![`c${Math.min(i, j)}_${Math.max(i, j)}`])));
    const { values, vectors } = symmetricEigen(matrix);
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
    const total = values.reduce((a, b) => a + Math.max(0, b), 0);
    const chosen: number[] = [];
    let explained = 0;
    for (const [value, i] of order) {
      chosen.push(i);
      explained += Math.max(0, value) / total;
      if (explained >= EXPLAINED_VARIANCE) break;
    }
    const components = Array.from({ length: d }, (_, row) => chosen.map((col) => vectors[row]![col]!));
    Object.assign(model, { columns, components, directions: errorDirections(components) });
    const chunks = await queryRows(
      db,
      `SELECT chunk, avg(e) AS e FROM (SELECT ${ntileOfRow('__loom_row', Number(moments[0]!.n), REFERENCE_CHUNKS)} AS chunk, e FROM (${reconstructionErrors({ ...model, columns: materialised }, keptRows, ['__loom_row'])})) GROUP BY chunk ORDER BY chunk`,
    );
    const errors = chunks.map((r) => Number(r.e));
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    const std = Math.sqrt(errors.reduce((a, b) => a + (b - mean) ** 2, 0) / errors.length);
    return { ...model, lower: Math.max(0, mean - BAND_STDS * std), upper: mean + BAND_STDS * std, referenceErrors: errors };
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${rows}`);
  }
}

/** Each usable feature's encoding (strings by their training frequencies, in temporary tables the model lists unless `createTables` is false). */
async function encodeFeatures(
  db: DuckDBConnection,
  features: SchemaFeature[],
  stats: DatasetStatistics,
  createTables = true,
): Promise<{ encoded: Omit<ReconstructionColumn, 'mean' | 'std'>[]; tables: string[] }> {
  const encoded: Omit<ReconstructionColumn, 'mean' | 'std'>[] = [];
  const tables: string[] = [];
  let strings = 0;
  for (const f of features) {
    const stat = stats.features.find((s) => s.name === f.name);
    if (!stat || stat.count === 0) continue;
    const c = `__r.${sqlIdent(f.name)}`;
    if (stat.numeric && f.type !== 'TIMESTAMP') {
      encoded.push({ name: f.name, encoded: f.type === 'BOOL' ? `${c}::INTEGER::DOUBLE` : finiteDouble(c) });
    } else if (stat.string && f.type === 'STRING') {
      if (stat.string.rankHistogram.length === 0) {
        encoded.push({ name: f.name, encoded: '0::DOUBLE' });
        continue;
      }
      // The share of the value in training; an unseen value is 0 (NannyML's CountEncoder).
      const table = `__loom_frequencies_${tableCounter++}`;
      const alias = `__f${strings++}`;
      const shares = stat.string.rankHistogram.map((v) => ({ value: v.value, share: v.count / stat.count }));
      if (createTables) {
        tables.push(table);
        // Appended, not written as a VALUES list: parsing hundreds of literals cost more than the appends (the same doubles either way).
        await db.run(`CREATE TEMP TABLE ${table} (value VARCHAR, share DOUBLE)`);
        const appender = await db.createAppender(table);
        try {
          for (const { value, share } of shares) {
            appender.appendVarchar(value);
            appender.appendDouble(share);
            appender.endRow();
          }
        } finally {
          appender.closeSync();
        }
      }
      encoded.push({
        name: f.name,
        encoded: `(CASE WHEN ${c} IS NULL THEN NULL ELSE coalesce(${alias}.share, 0) END)`,
        join: `LEFT JOIN ${table} AS ${alias} ON ${c}::VARCHAR = ${alias}.value`,
        frequencies: { table, alias, value: c, shares },
      });
    }
  }
  return { encoded, tables };
}

/** DuckDB's integer types, whose values are all finite as DOUBLEs. */
const INTEGER_TYPES = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT'];

/**
 * A number as a DOUBLE, NULL when not finite (NaN and ±∞ imputed as missing values are). An
 * integer column skips the test: `typeof` is a constant when the query is planned, so DuckDB
 * keeps one branch of the CASE, and a window's integers (the schema's INT) are not tested
 * row by row.
 */
function finiteDouble(c: string): string {
  return `(CASE WHEN typeof(${c}) IN (${INTEGER_TYPES.map((t) => `'${t}'`).join(', ')}) THEN ${c}::DOUBLE WHEN isfinite(${c}::DOUBLE) THEN ${c}::DOUBLE END)`;
}

/**
 * `ntile(chunks) OVER (ORDER BY row)` for rows numbered 1..n, as arithmetic instead of a
 * sort: the first n mod chunks chunks hold ⌊n / chunks⌋ + 1 rows, the others ⌊n / chunks⌋.
 */
export function ntileOfRow(row: string, count: number, chunks: number): string {
  const [q, r] = [Math.floor(count / chunks), count % chunks];
  return `(CASE WHEN ${row} <= ${r * (q + 1)} THEN (${row} - 1) // ${q + 1} ELSE ${r} + (${row} - ${r * (q + 1) + 1}) // ${Math.max(1, q)} END + 1)`;
}

/** Drops the model's frequency tables (after the last window is scored), in one call. */
export async function dropReconstruction(db: DuckDBConnection, model: Pick<ReconstructionModel, 'tables'>): Promise<void> {
  const drops = reconstructionDrops(model);
  if (drops.length > 0) await db.run(drops.join('; '));
}

/** The statements that drop the model's tables, for a caller dropping more in the same call (each call is a round trip). */
export function reconstructionDrops(model: Pick<ReconstructionModel, 'tables'>): string[] {
  return model.tables.map((table) => `DROP TABLE IF EXISTS ${table}`);
}

/**
 * A SELECT of each row's reconstruction error (column `e`, after the `keep` columns of `rows`)
 * over `rows`, which have the feature columns: the root of the squared projections on the
 * model's directions (of the norm less them, `errorDirections`). A projection is a sum of one
 * term per column, each column's weight and standard deviation folded into one factor, and
 * looked up for a string column (see `lookupStandardised`).
 */
export function reconstructionErrors(model: Pick<ReconstructionModel, 'columns' | 'components' | 'directions'>, rows: string, keep: string[] = []): string {
  const { vectors, fromNorm } = model.directions ?? errorDirections(model.components);
  // A looked-up column misses an unseen value (share 0: its terms are constants DuckDB folds) and a missing one (0).
  const looked = (c: ReconstructionColumn, column: string, rowWise: (value: string) => string) =>
    c.lookup ? `coalesce(${c.lookup.alias}.${column}, CASE WHEN ${c.lookup.value} IS NULL THEN 0 ELSE ${rowWise('0::DOUBLE')} END)` : rowWise(c.encoded);
  const projections = vectors.map((v, j) => `${model.columns.map((c, i) => looked(c, `__p${j}`, (value) => term(c, value, v[i]!))).join(' + ')} AS __p${j}`);
  const squares = vectors.map((_, j) => `__p${j} * __p${j}`).join(' + ') || '0';
  const z = fromNorm ? model.columns.map((c) => looked(c, '__z', (value) => standardScore(c, value))) : [];
  const norm = fromNorm ? [`${z.map((zi) => `(${zi}) * (${zi})`).join(' + ')} AS __norm`] : [];
  // √(p·p) is |p| in floating point (a correctly rounded root of a rounded square): one direction needs no square.
  const error = fromNorm ? `sqrt(greatest(0, __norm - (${squares})))` : vectors.length === 1 ? 'abs(__p0)' : `sqrt(${squares})`;
  const joins = model.columns.map((c) => c.join ?? '').join(' ');
  const inner = [...keep, ...norm, ...projections];
  return `SELECT ${[...keep, `${error} AS e`].join(', ')} FROM (SELECT ${inner.join(', ') || '0 AS __none'} FROM (${rows}) AS __r ${joins})`;
}

/** The rows' encoded columns e0, e1, … (strings joined to their frequencies). */
function encodedSelect(columns: { encoded: string; join?: string }[], rows: string, extra = ''): string {
  return `SELECT ${extra}${columns.map((c, i) => `${c.encoded} AS e${i}`).join(', ')} FROM (${rows}) AS __r ${columns.map((c) => c.join ?? '').join(' ')}`;
}

/** A column's z-score, `value` its encoded value (NULL when missing: the mean imputed, z = 0). */
function standardScore(column: { mean: number; std: number }, value: string): string {
  return `((coalesce(${value}, ${sqlDouble(column.mean)}) - ${sqlDouble(column.mean)}) / ${sqlDouble(column.std)})`;
}

/**
 * A column's term of a projection, its z-score times `weight`, as one product: the weight over
 * the standard deviation folded into one factor (a division less per row and term; the same
 * value to an ulp or two). The mean is taken off first, as in the z-score, so no precision is
 * lost to a mean far from zero.
 */
function term(column: { mean: number; std: number }, value: string, weight: number): string {
  return `(coalesce(${value}, ${sqlDouble(column.mean)}) - ${sqlDouble(column.mean)}) * ${sqlDouble(weight / column.std)}`;
}

/**
 * `x` as a SQL DOUBLE literal, exactly: a literal in decimal notation is read as a DECIMAL,
 * whose cast to DOUBLE can land an ulp away; exponent notation is read as a DOUBLE.
 */
export function sqlDouble(x: number): string {
  return Number.isFinite(x) ? x.toExponential() : `'${x}'::DOUBLE`;
}
