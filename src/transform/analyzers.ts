/**
 * Analyzers: one pass of DuckDB SQL over the training split fits each feature's
 * transform, and the result is a plain `FittedTransform` that graph.ts turns into ONNX.
 *
 * The analyzer of a feature follows its column type unless overridden:
 * - float columns: z-score (mean and population std; missing values become the mean);
 * - integer columns with at most `maxCategoricalCardinality` distinct values (hour,
 *   weekday): a vocabulary of all their values; other integers: z-score;
 * - strings: a vocabulary of the `topK` most frequent values.
 * Every vocabulary is followed by one out-of-vocabulary column, which also takes missing values.
 *
 * Usage: `const fitted = await fitTransform('train/data.parquet', { labelColumn: 'delayed' });`
 */
import { LoomError } from '../core/errors.js';
import { sqlIdent, sqlString, withDuckDB } from '../data/duckdb.js';

export const ANALYZERS = ['zscore', 'vocabulary'] as const;
export type AnalyzerKind = (typeof ANALYZERS)[number];
/** How a raw feature enters the transform graph: float32, int64 or string, each [N, 1]. */
export type RawType = 'float' | 'int' | 'string';

export interface ZScoreFeature {
  name: string;
  rawType: 'float' | 'int';
  analyzer: 'zscore';
  mean: number;
  /** Population standard deviation; 1 when the column is constant. */
  std: number;
  /** Names of the output columns this feature fills. */
  outputs: string[];
}

/** Vocabulary values, most frequent first (ties by value); index `vocabulary.length` is out-of-vocabulary. */
export type VocabularyFeature = { name: string; analyzer: 'vocabulary'; outputs: string[] } & (
  | { rawType: 'string'; vocabulary: string[] }
  | { rawType: 'int'; vocabulary: number[] }
);

export type FittedFeature = ZScoreFeature | VocabularyFeature;

export interface FittedTransform {
  version: 1;
  labelColumn: string;
  /** Rows of the training split the analyzers saw. */
  rowCount: number;
  features: FittedFeature[];
  /** Every output column, in order: the `features` tensor is [N, featureNames.length]. */
  featureNames: string[];
  outputWidth: number;
}

export interface FeatureOverride {
  analyzer?: AnalyzerKind;
  /** Vocabulary size for this feature. */
  topK?: number;
}

export interface FitOptions {
  labelColumn: string;
  /** Default: every column except the label whose type can be transformed. */
  features?: string[];
  /** Vocabulary size for strings (and for integers forced to a vocabulary); default 100. */
  topK?: number;
  /** Integers with at most this many distinct values get a vocabulary; default 32. */
  maxCategoricalCardinality?: number;
  overrides?: Record<string, FeatureOverride>;
  /** Told about columns skipped by the default feature list. */
  log?: (message: string) => void;
}

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
  return undefined;
}

/** Fits every feature's analyzer on the Parquet file at `parquetPath`. */
export async function fitTransform(parquetPath: string, options: FitOptions): Promise<FittedTransform> {
  const topK = options.topK ?? 100;
  const maxCardinality = options.maxCategoricalCardinality ?? 32;
  const overrides = options.overrides ?? {};
  const source = `read_parquet(${sqlString(parquetPath)})`;
  return withDuckDB(async (db) => {
    const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const columns: Column[] = described.getRowObjects().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
    const selected = selectFeatures(columns, options);
    for (const name of Object.keys(overrides)) {
      if (!selected.some((column) => column.name === name)) {
        throw new LoomError('INVALID_ARGUMENT', `override for "${name}", which is not a feature`, { field: `overrides.${name}` });
      }
    }

    // One scan for the counts, moments and cardinalities of every feature.
    const aggregates = ['count(*)::BIGINT AS "rows"'];
    selected.forEach((column, i) => {
      const x = sqlIdent(column.name);
      if (rawTypeOf(column.type) === 'string') return;
      const value = `${x}::DOUBLE`;
      const finite = `FILTER (WHERE isfinite(${value}))`;
      aggregates.push(`avg(${value}) ${finite} AS m${i}`, `stddev_pop(${value}) ${finite} AS s${i}`);
      if (rawTypeOf(column.type) === 'int') aggregates.push(`count(DISTINCT ${x})::BIGINT AS d${i}`);
    });
    const stats = (await db.runAndReadAll(`SELECT ${aggregates.join(', ')} FROM ${source}`)).getRowObjects()[0] ?? {};
    const rowCount = Number(stats.rows ?? 0);
    if (rowCount === 0) throw new LoomError('INVALID_ARGUMENT', `${parquetPath} has no rows to fit the transform on`);

    const features: FittedFeature[] = [];
    for (const [i, column] of selected.entries()) {
      const rawType = rawTypeOf(column.type) as RawType;
      const override = overrides[column.name] ?? {};
      const distinct = Number(stats[`d${i}`] ?? 0);
      const analyzer: AnalyzerKind =
        override.analyzer ?? (rawType === 'string' || (rawType === 'int' && distinct <= maxCardinality) ? 'vocabulary' : 'zscore');
      if (analyzer === 'zscore') {
        if (rawType === 'string') {
          throw new LoomError('INVALID_ARGUMENT', `feature "${column.name}" is a string column and cannot be z-scored`, {
            field: `overrides.${column.name}.analyzer`,
            fix: 'use the vocabulary analyzer for strings',
          });
        }
        const mean = stats[`m${i}`];
        if (mean === null || mean === undefined) throw noValues(column.name);
        const std = Number(stats[`s${i}`] ?? 0);
        features.push({ name: column.name, rawType, analyzer, mean: Number(mean), std: std > 0 ? std : 1, outputs: [column.name] });
        continue;
      }
      if (rawType === 'float') {
        throw new LoomError('INVALID_ARGUMENT', `feature "${column.name}" is a float column and cannot have a vocabulary`, {
          field: `overrides.${column.name}.analyzer`,
          fix: 'cast it to an integer or string in SQL first, or z-score it',
        });
      }
      // Integers with few values keep them all; anything else keeps the k most frequent.
      const limit = override.topK ?? (rawType === 'int' && !override.analyzer && distinct <= maxCardinality ? distinct : topK);
      const x = sqlIdent(column.name);
      const key = rawType === 'int' ? `${x}::BIGINT` : `${x}::VARCHAR`;
      const rows = await db.runAndReadAll(
        `SELECT ${key} AS v, count(*) AS c FROM ${source} WHERE ${x} IS NOT NULL GROUP BY v ORDER BY c DESC, v ASC LIMIT ${Math.max(0, limit)}`,
      );
      const values = rows.getRowObjects().map((row) => row.v);
      if (values.length === 0) throw noValues(column.name);
      const outputs = [...values.map((value) => `${column.name}=${String(value)}`), `${column.name}${OOV_SUFFIX}`];
      if (rawType === 'int') {
        const vocabulary = values.map((value) => toSafeNumber(column.name, value));
        features.push({ name: column.name, rawType, analyzer, vocabulary, outputs });
      } else {
        features.push({ name: column.name, rawType: 'string', analyzer, vocabulary: values.map(String), outputs });
      }
    }
    const featureNames = features.flatMap((feature) => feature.outputs);
    return { version: 1, labelColumn: options.labelColumn, rowCount, features, featureNames, outputWidth: featureNames.length };
  });
}

function selectFeatures(columns: Column[], options: FitOptions): Column[] {
  const available = columns.map((column) => `${column.name} (${column.type})`).join(', ');
  const byName = new Map(columns.map((column) => [column.name, column]));
  if (!byName.has(options.labelColumn)) {
    throw new LoomError('INVALID_ARGUMENT', `label column "${options.labelColumn}" is not in the data`, {
      field: 'labelColumn',
      fix: `choose one of: ${available}`,
    });
  }
  if (!options.features) {
    const chosen = columns.filter((column) => column.name !== options.labelColumn && rawTypeOf(column.type) !== undefined);
    const skipped = columns.filter((column) => column.name !== options.labelColumn && rawTypeOf(column.type) === undefined);
    if (skipped.length > 0) {
      options.log?.(`transform: skipping ${skipped.map((column) => `${column.name} (${column.type})`).join(', ')}: no analyzer for the type`);
    }
    if (chosen.length === 0) throw new LoomError('INVALID_ARGUMENT', 'no column besides the label can be a feature', { fix: `columns: ${available}` });
    return chosen;
  }
  if (options.features.length === 0) throw new LoomError('INVALID_ARGUMENT', 'features is empty', { field: 'features' });
  if (new Set(options.features).size !== options.features.length) {
    throw new LoomError('INVALID_ARGUMENT', 'features lists a column twice', { field: 'features' });
  }
  return options.features.map((name, index) => {
    const column = byName.get(name);
    if (!column) {
      throw new LoomError('INVALID_ARGUMENT', `feature "${name}" is not in the data`, { field: `features[${index}]`, fix: `choose from: ${available}` });
    }
    if (name === options.labelColumn) {
      throw new LoomError('INVALID_ARGUMENT', `the label "${name}" cannot also be a feature`, { field: `features[${index}]` });
    }
    if (rawTypeOf(column.type) === undefined) {
      throw new LoomError('INVALID_ARGUMENT', `feature "${name}" has type ${column.type}, which no analyzer handles`, {
        field: `features[${index}]`,
        fix: 'derive a number or string column from it first (e.g. hour(date) in SQL)',
      });
    }
    return column;
  });
}

function noValues(name: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', `feature "${name}" has no values in the training split`, { field: name, fix: 'drop the feature' });
}

function toSafeNumber(name: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new LoomError('INVALID_ARGUMENT', `feature "${name}" has the category ${String(value)}, beyond the ±2^53 a vocabulary can hold`, {
      field: `overrides.${name}`,
      fix: 'z-score it instead, or map it to a string',
    });
  }
  return number;
}
