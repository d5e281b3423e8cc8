/**
 * Analyzers: DuckDB SQL over the training split fits each feature's transform, and the
 * result is a plain `FittedTransform` (fitted.ts) that graph.ts turns into ONNX.
 *
 * The analyzer of a feature follows its column type unless `overrides` names one:
 * - float columns: z-score (missing values become the mean);
 * - integer columns with at most `maxCategoricalCardinality` distinct values (hour,
 *   weekday): a vocabulary of all their values; other integers: z-score;
 * - strings: a vocabulary of the `topK` most frequent values;
 * - timestamps (only when listed in `features` or overridden): hour, weekday, month one-hot;
 *   text (ISO 8601) and integer (epoch) columns too, with analyzer "datetime" (datetime.ts).
 * Also available: minmax, quantiles (bucketize), hash (N buckets), imputation options,
 * and `crosses` of two categorical columns. See config.ts for every option.
 *
 * Usage: `const fitted = await fitTransform('train/data.parquet', { labelColumn: 'delayed' });`
 */
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { sqlIdent, sqlString, withDuckDB } from '../data/duckdb.js';
import { fitCategoryTable, fitCrossTable, type Query } from './categories.js';
import {
  CATEGORICAL_ANALYZERS,
  crossName,
  transformConfig,
  type AnalyzerKind,
  type FeatureOverride,
  type TransformConfig,
  type TransformConfigInput,
} from './config.js';
import { fitDatetime } from './datetime.js';
import { tableColumn, type CategoricalFeature, type FittedFeature, type FittedImpute, type FittedTransform, type RawType } from './fitted.js';

export { ANALYZERS, type AnalyzerKind, type FeatureOverride } from './config.js';
export type * from './fitted.js';

export type FitOptions = TransformConfigInput & {
  /** Told about columns skipped by the default feature list and buckets merged by ties. */
  log?: (message: string) => void;
};

export const OOV_SUFFIX = '=<OOV>';

interface Column {
  name: string;
  type: string;
}

/** The raw type of a DuckDB column type, or undefined when no analyzer handles it. */
export function rawTypeOf(duckdbType: string): RawType | undefined {
  const type = duckdbType.toUpperCase();
  if (type === 'FLOAT' || type === 'DOUBLE' || type === 'REAL' || type.startsWith('DECIMAL')) return 'float';
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(type) || type === 'BOOLEAN') return 'int';
  if (type === 'VARCHAR' || type.startsWith('ENUM')) return 'string';
  if (type.startsWith('TIMESTAMP') || type === 'DATE') return 'timestamp';
  return undefined;
}

/** Fits every feature's analyzer on the Parquet file at `parquetPath` (the training split). */
export async function fitTransform(parquetPath: string, options: FitOptions): Promise<FittedTransform> {
  const { log, ...raw } = options;
  const config = parseConfig(raw);
  const source = `read_parquet(${sqlString(parquetPath)})`;
  return withDuckDB(async (db) => {
    const query: Query = async (sql) => (await db.runAndReadAll(sql)).getRowObjects();
    const columns: Column[] = (await query(`DESCRIBE SELECT * FROM ${source}`)).map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
    const selected = selectFeatures(columns, config, log);
    for (const name of Object.keys(config.overrides)) {
      if (!selected.some((column) => column.name === name)) {
        throw new LoomError('INVALID_ARGUMENT', `override for "${name}", which is not a feature`, {
          field: `overrides.${name}`,
          fix: `add "${name}" to features, or remove the override (features: ${selected.map((c) => c.name).join(', ')})`,
        });
      }
    }

    // One scan for the counts, moments, ranges and cardinalities of every numeric feature.
    const aggregates = ['count(*)::BIGINT AS "rows"'];
    selected.forEach((column, i) => {
      const rawType = rawTypeOf(column.type);
      if (rawType !== 'float' && rawType !== 'int') return;
      const value = `${sqlIdent(column.name)}::DOUBLE`;
      const finite = `FILTER (WHERE isfinite(${value}))`;
      aggregates.push(`avg(${value}) ${finite} AS m${i}`, `stddev_pop(${value}) ${finite} AS s${i}`);
      aggregates.push(`min(${value}) ${finite} AS lo${i}`, `max(${value}) ${finite} AS hi${i}`);
      if (rawType === 'int') aggregates.push(`count(DISTINCT ${sqlIdent(column.name)})::BIGINT AS d${i}`);
    });
    const stats = (await query(`SELECT ${aggregates.join(', ')} FROM ${source}`))[0] ?? {};
    const rowCount = Number(stats.rows ?? 0);
    if (rowCount === 0) throw new LoomError('INVALID_ARGUMENT', `${parquetPath} has no rows to fit the transform on`);

    const features: FittedFeature[] = [];
    for (const [i, column] of selected.entries()) {
      const rawType = rawTypeOf(column.type) as RawType;
      const override = config.overrides[column.name] ?? {};
      const distinct = Number(stats[`d${i}`] ?? 0);
      const analyzer = chooseAnalyzer(column, rawType, override, distinct, config.maxCategoricalCardinality);
      const name = column.name;
      if (analyzer === 'datetime') {
        features.push(await fitDatetime(parquetPath, column, rawType, override));
        continue;
      }
      if (rawType === 'float' || rawType === 'int') {
        if (analyzer === 'zscore' || analyzer === 'minmax' || analyzer === 'quantiles') {
          if (stats[`m${i}`] === null || stats[`m${i}`] === undefined) throw noValues(name);
          const impute = await fitNumericImpute(query, source, name, override, Number(stats[`m${i}`]));
          if (analyzer === 'zscore') {
            const std = Number(stats[`s${i}`] ?? 0);
            features.push({ name, rawType, analyzer, mean: Number(stats[`m${i}`]), std: std > 0 ? std : 1, impute, outputs: [name] });
          } else if (analyzer === 'minmax') {
            features.push({ name, rawType, analyzer, min: Number(stats[`lo${i}`]), max: Number(stats[`hi${i}`]), impute, outputs: [name] });
          } else {
            const boundaries = await fitBoundaries(query, source, name, override.buckets!);
            if (boundaries.length + 1 < override.buckets!) {
              log?.(`transform: ${name} has ${boundaries.length + 1} quantile buckets, not ${override.buckets}: tied quantiles merged`);
            }
            const outputs = Array.from({ length: boundaries.length + 1 }, (_, k) => `${name}=q${k}`);
            features.push({ name, rawType, analyzer, boundaries, impute, outputs });
          }
          continue;
        }
      }
      if (rawType === 'float' || rawType === 'timestamp') throw new LoomError('INTERNAL', `no ${analyzer} analyzer for ${rawType} feature "${name}"`);
      features.push(await fitCategorical(query, source, column.name, rawType, analyzer as 'vocabulary' | 'hash', override, config, distinct));
    }
    for (const [index, cross] of config.crosses.entries()) features.push(await fitCross(query, source, columns, features, cross, index));
    const featureNames = features.flatMap((feature) => feature.outputs);
    return { version: 4, labelColumn: config.labelColumn, rowCount, features, featureNames, outputWidth: featureNames.length };
  });
}

function parseConfig(raw: TransformConfigInput): TransformConfig {
  // The same field syntax as the errors found in the data: crosses[0].features.
  return parseInput(transformConfig, raw, { what: 'transform', fix: 'see the transform step\'s parameters: `loom components transform`' });
}

/** The analyzer a column gets, checked against its type with an error that names the feature and the fix. */
function chooseAnalyzer(column: Column, rawType: RawType, override: FeatureOverride, distinct: number, maxCardinality: number): AnalyzerKind {
  const analyzer: AnalyzerKind =
    override.analyzer ??
    (rawType === 'timestamp' ? 'datetime'
    : rawType === 'string' || (rawType === 'int' && distinct <= maxCardinality) ? 'vocabulary'
    : override.topK !== undefined || override.numOovBuckets !== undefined || override.minFrequency !== undefined ? 'vocabulary'
    : 'zscore');
  const wrong = (fix: string): LoomError =>
    new LoomError('INVALID_ARGUMENT', `feature "${column.name}" is a ${column.type} column, which the ${analyzer} analyzer cannot take`, {
      field: `overrides.${column.name}.analyzer`,
      fix,
    });
  if (rawType === 'timestamp' && analyzer !== 'datetime') throw wrong('use analyzer "datetime" (hour, minute, weekday, day, month, dayofyear, year parts)');
  if (analyzer === 'datetime' && rawType === 'float') throw wrong('datetime takes a TIMESTAMP or DATE column, ISO 8601 text or integer epoch numbers; keep the raw timestamp in the examples');
  if (rawType === 'string' && !CATEGORICAL_ANALYZERS.includes(analyzer) && analyzer !== 'datetime') throw wrong('use the vocabulary or hash analyzer for strings (or datetime for ISO 8601 timestamps)');
  if (rawType === 'float' && CATEGORICAL_ANALYZERS.includes(analyzer)) throw wrong('cast it to an integer or string in SQL first, or use zscore, minmax or quantiles');
  return analyzer;
}

async function fitNumericImpute(query: Query, source: string, name: string, override: FeatureOverride, mean: number): Promise<FittedImpute> {
  const strategy = override.impute?.strategy ?? (override.analyzer === 'quantiles' ? 'median' : 'mean');
  if (strategy === 'mean') return { strategy, value: mean };
  if (strategy === 'constant') return { strategy, value: Number(override.impute!.value) };
  const value = `${sqlIdent(name)}::DOUBLE`;
  const sql =
    strategy === 'median'
      ? `SELECT median(${value}) AS v FROM ${source} WHERE isfinite(${value})`
      : `SELECT ${value} AS v FROM ${source} WHERE isfinite(${value}) GROUP BY v ORDER BY count(*) DESC, v ASC LIMIT 1`;
  return { strategy, value: Number((await query(sql))[0]?.v) };
}

/** Boundaries of `buckets` quantile buckets: the distinct k/buckets quantiles (nearest rank) of the finite values. */
async function fitBoundaries(query: Query, source: string, name: string, buckets: number): Promise<number[]> {
  const fractions = Array.from({ length: buckets - 1 }, (_, k) => (k + 1) / buckets);
  const value = `${sqlIdent(name)}::DOUBLE`;
  const rows = await query(`SELECT quantile_disc(${value}, [${fractions.join(', ')}]) AS q FROM ${source} WHERE isfinite(${value})`);
  const list = rows[0]?.q as { items?: unknown[] } | unknown[] | null | undefined;
  const items = Array.isArray(list) ? list : (list?.items ?? []);
  // Float32 is what the graph compares in, so ties are judged there too.
  return [...new Set(items.map((item) => Math.fround(Number(item))))].sort((a, b) => a - b);
}

async function fitCategorical(
  query: Query,
  source: string,
  name: string,
  rawType: 'string' | 'int',
  analyzer: 'vocabulary' | 'hash',
  override: FeatureOverride,
  config: TransformConfig,
  distinct: number,
): Promise<CategoricalFeature> {
  // Integers with few values keep them all; anything else keeps the k most frequent.
  const topK = analyzer === 'hash' ? 0 : (override.topK ?? (rawType === 'int' && !override.analyzer && distinct <= config.maxCategoricalCardinality ? distinct : config.topK));
  const oovBuckets = analyzer === 'hash' ? override.buckets! : (override.numOovBuckets ?? 1);
  const { table, first } = await fitCategoryTable(query, source, name, rawType, { topK, minFrequency: override.minFrequency ?? 1, oovBuckets });
  if (first === undefined) throw noValues(name);
  let impute: CategoricalFeature['impute'];
  if (override.impute?.strategy === 'most_frequent') impute = { strategy: 'most_frequent', value: first };
  if (override.impute?.strategy === 'constant') {
    const value = override.impute.value!;
    if (rawType === 'int' && !Number.isSafeInteger(value)) {
      throw new LoomError('INVALID_ARGUMENT', `feature "${name}" is an integer category; the constant ${JSON.stringify(value)} is not an integer`, {
        field: `overrides.${name}.impute.value`,
        fix: 'give an integer value',
      });
    }
    impute = { strategy: 'constant', value: rawType === 'int' ? Number(value) : String(value) };
  }
  const missingColumn = impute ? tableColumn(table, impute.value) : table.vocabulary.length;
  const shared =
    analyzer === 'hash' ? Array.from({ length: oovBuckets }, (_, k) => `${name}#${k}`)
    : oovBuckets === 1 ? [`${name}${OOV_SUFFIX}`]
    : Array.from({ length: oovBuckets }, (_, k) => `${name}=<OOV${k}>`);
  const outputs = [...table.vocabulary.map((value) => `${name}=${String(value)}`), ...shared];
  return { name, rawType, analyzer, ...table, ...(impute ? { impute } : {}), missingColumn, outputs };
}

async function fitCross(query: Query, source: string, columns: Column[], features: FittedFeature[], cross: TransformConfig['crosses'][number], index: number): Promise<FittedFeature> {
  const name = crossName(cross);
  if (columns.some((column) => column.name === name) || features.some((feature) => feature.name === name)) {
    throw new LoomError('INVALID_ARGUMENT', `cross "${name}" has the name of a column or feature`, { field: `crosses[${index}].name`, fix: 'give the cross another name' });
  }
  const rawTypes = cross.features.map((side, j) => {
    const column = columns.find((c) => c.name === side);
    const field = `crosses[${index}].features[${j}]`;
    if (!column) throw new LoomError('INVALID_ARGUMENT', `cross "${name}": column "${side}" is not in the data`, { field, fix: `choose from: ${columns.map((c) => c.name).join(', ')}` });
    const rawType = rawTypeOf(column.type);
    if (rawType !== 'string' && rawType !== 'int') {
      throw new LoomError('INVALID_ARGUMENT', `cross "${name}": column "${side}" is ${column.type}; only string and integer columns can be crossed`, {
        field,
        fix: 'cross two string or integer columns (one derived in SQL, such as hour(date), must then be derived by every client too)',
      });
    }
    return rawType;
  }) as ['string' | 'int', 'string' | 'int'];
  const topK = cross.topK ?? 0;
  const oovBuckets = cross.buckets ?? cross.numOovBuckets ?? 1;
  const table = await fitCrossTable(query, source, cross.features, rawTypes, { topK, minFrequency: cross.minFrequency ?? 1, oovBuckets });
  if (table.vocabulary.length === 0 && topK > 0) throw noValues(name);
  const shared =
    cross.buckets !== undefined ? Array.from({ length: oovBuckets }, (_, k) => `${name}#${k}`)
    : oovBuckets === 1 ? [`${name}${OOV_SUFFIX}`]
    : Array.from({ length: oovBuckets }, (_, k) => `${name}=<OOV${k}>`);
  const outputs = [...table.vocabulary.map(([a, b]) => `${name}=${a}|${b}`), ...shared];
  return { name, analyzer: 'cross', columns: cross.features, rawTypes, ...table, outputs };
}

function selectFeatures(columns: Column[], config: TransformConfig, log?: (message: string) => void): Column[] {
  const available = columns.map((column) => `${column.name} (${column.type})`).join(', ');
  const byName = new Map(columns.map((column) => [column.name, column]));
  if (!byName.has(config.labelColumn)) {
    throw new LoomError('INVALID_ARGUMENT', `label column "${config.labelColumn}" is not in the data`, { field: 'labelColumn', fix: `choose one of: ${available}` });
  }
  if (!config.features) {
    // Timestamps join the default list only when overridden: a raw timestamp is rarely meant as a feature by accident.
    const usable = (column: Column) => {
      const rawType = rawTypeOf(column.type);
      return rawType !== undefined && (rawType !== 'timestamp' || config.overrides[column.name] !== undefined);
    };
    const chosen = columns.filter((column) => column.name !== config.labelColumn && usable(column));
    const skipped = columns.filter((column) => column.name !== config.labelColumn && !usable(column));
    if (skipped.length > 0) {
      log?.(`transform: skipping ${skipped.map((column) => `${column.name} (${column.type})`).join(', ')}: no default analyzer for the type`);
    }
    if (chosen.length === 0) throw new LoomError('INVALID_ARGUMENT', 'no column besides the label can be a feature', { fix: `columns: ${available}` });
    return chosen;
  }
  if (new Set(config.features).size !== config.features.length) throw new LoomError('INVALID_ARGUMENT', 'features lists a column twice', { field: 'features' });
  return config.features.map((name, index) => {
    const column = byName.get(name);
    if (!column) throw new LoomError('INVALID_ARGUMENT', `feature "${name}" is not in the data`, { field: `features[${index}]`, fix: `choose from: ${available}` });
    if (name === config.labelColumn) throw new LoomError('INVALID_ARGUMENT', `the label "${name}" cannot also be a feature`, { field: `features[${index}]` });
    if (rawTypeOf(column.type) === undefined) {
      throw new LoomError('INVALID_ARGUMENT', `feature "${name}" has type ${column.type}, which no analyzer handles`, {
        field: `features[${index}]`,
        fix: 'derive a number, string or timestamp column from it first in SQL',
      });
    }
    return column;
  });
}

function noValues(name: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', `feature "${name}" has no values in the training split`, { field: name, fix: 'drop the feature' });
}
