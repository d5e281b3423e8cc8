/**
 * The fitted transform: plain JSON values learned from the training split, which
 * graph.ts turns into ONNX and which travel inside the graph's `metadata_props` (and in
 * `transform.json`) so anyone can read what a model's features mean.
 */
import type { DatetimeEncoding, DatetimeFormat, DatetimePart, ImputeStrategy } from './config.js';
import { crossBucket, hashBucket } from './hash.js';

/** How a raw feature enters the transform graph, each as an [N, 1] input: float32, int64, string; a timestamp as its feature's `format` says. */
export type RawType = 'float' | 'int' | 'string' | 'timestamp';
/** A category: a string, or an integer within ±2^53. */
export type CategoryValue = string | number;

interface FeatureBase {
  /** The input column (for a cross, the cross's own name). */
  name: string;
  /** Names of the output columns this feature fills, in order. */
  outputs: string[];
}

/** How a numeric feature's missing values (NaN, null) are filled before scaling or bucketing. */
export interface FittedImpute {
  strategy: ImputeStrategy;
  value: number;
}

export interface ZScoreFeature extends FeatureBase {
  analyzer: 'zscore';
  rawType: 'float' | 'int';
  mean: number;
  /** Population standard deviation; 1 when the column is constant. */
  std: number;
  impute: FittedImpute;
}

/** (x - min) / (max - min), not clipped: a serving value beyond the training range maps beyond [0, 1]. */
export interface MinMaxFeature extends FeatureBase {
  analyzer: 'minmax';
  rawType: 'float' | 'int';
  min: number;
  max: number;
  impute: FittedImpute;
}

/** Bucket i holds boundaries[i-1] <= x < boundaries[i]; one-hot over boundaries.length + 1 buckets. */
export interface QuantilesFeature extends FeatureBase {
  analyzer: 'quantiles';
  rawType: 'float' | 'int';
  boundaries: number[];
  impute: FittedImpute;
}

/**
 * A lookup from category to column: the vocabulary's values get columns 0..v-1, the
 * `oovBuckets` shared columns follow. Any other value, seen in training or not, goes to
 * shared bucket `hash(value) mod oovBuckets` (hash.ts), computed by the graph itself.
 */
export interface CategoryTable<K> {
  vocabulary: K[];
  oovBuckets: number;
}

/** vocabulary: top-k values + OOV buckets; hash: no vocabulary, every value hashed into `oovBuckets` buckets. */
export interface CategoricalFeature extends FeatureBase, CategoryTable<CategoryValue> {
  analyzer: 'vocabulary' | 'hash';
  rawType: 'string' | 'int';
  /** The value a missing one is replaced by, if the feature imputes. */
  impute?: { strategy: 'most_frequent' | 'constant'; value: CategoryValue };
  /** Column (relative to the feature) a missing value lands in. */
  missingColumn: number;
}

/** The name of version 1, kept for readers of earlier code. */
export type VocabularyFeature = CategoricalFeature;

/** One category per pair of two columns' values; a pair outside the vocabulary is hashed, a pair with a missing side goes to shared bucket 0. */
export interface CrossFeature extends FeatureBase, CategoryTable<[CategoryValue, CategoryValue]> {
  analyzer: 'cross';
  columns: [string, string];
  rawTypes: ['string' | 'int', 'string' | 'int'];
}

/**
 * A time zone as the graph applies it: `offsets[0]` (seconds east of UTC) holds before
 * `transitions[0]` (epoch seconds), `offsets[i + 1]` from `transitions[i]` on. UTC and
 * fixed offsets have one offset and no transitions; an IANA zone has its table (datetime.ts).
 */
export interface FittedTimeZone {
  name: string;
  offsets: number[];
  transitions: number[];
}

/**
 * Calendar parts of a raw timestamp, computed by the graph from what a client sends (ISO
 * 8601 text or epoch numbers, per `format`) in `timeZone`. A missing or unreadable
 * timestamp leaves its columns at zero. Version 3 transforms had no format (epoch
 * milliseconds), no zone (UTC) and one-hot encoding only.
 */
export interface DatetimeFeature extends FeatureBase {
  analyzer: 'datetime';
  rawType: 'timestamp';
  parts: DatetimePart[];
  format: DatetimeFormat;
  encoding: DatetimeEncoding;
  timeZone: FittedTimeZone;
  /** The training split's first and last year, which scale the year part to [0, 1]. */
  years?: { min: number; max: number };
}

export type FittedFeature = ZScoreFeature | MinMaxFeature | QuantilesFeature | CategoricalFeature | CrossFeature | DatetimeFeature;

export interface FittedTransform {
  /** 4: timestamps as ISO 8601 text or epoch numbers, in a time zone; 3: out-of-vocabulary values hashed by the graph (MurmurHash3); 2 hashed them at fit time (FNV-1a). */
  version: 4;
  labelColumn: string;
  /** Rows of the training split the analyzers saw. */
  rowCount: number;
  features: FittedFeature[];
  /** Every output column, in order: the `features` tensor is [N, featureNames.length]. */
  featureNames: string[];
  outputWidth: number;
}

/** A raw category as a caller sends it: null (or '' for a string column) when missing; integers as number or bigint. */
export type RawCategory = string | number | bigint | null | undefined;

/** Whether a raw category is missing, as the graph sees it (toTensor sends a missing string as '', a missing integer as the sentinel). */
function isMissing(value: RawCategory): value is null | undefined | '' {
  return value === null || value === undefined || value === '';
}

/** An integer category as the number the vocabulary holds (a bigint beyond 2^53 matches no vocabulary value). */
const asKey = (value: string | number | bigint): CategoryValue => (typeof value === 'bigint' ? (Number.isSafeInteger(Number(value)) ? Number(value) : String(value)) : value);

/** The column (relative to its table) of a present value: its vocabulary index, or its hashed shared bucket. */
export function tableColumn(table: CategoryTable<CategoryValue>, value: string | number | bigint): number {
  const index = table.vocabulary.indexOf(asKey(value));
  if (index >= 0) return index;
  return table.vocabulary.length + (table.oovBuckets > 1 ? hashBucket(value, table.oovBuckets) : 0);
}

/**
 * The column (relative to the feature) the transform graph sets for a categorical value:
 * what a served row with that value gets, computed in TypeScript. Missing values go to
 * `missingColumn` (the imputed value's column, or shared bucket 0).
 */
export function categoricalColumn(feature: CategoricalFeature, value: RawCategory): number {
  return isMissing(value) ? feature.missingColumn : tableColumn(feature, value);
}

/** The column (relative to the feature) the transform graph sets for a crossed pair; a missing side means shared bucket 0. */
export function crossColumn(feature: CrossFeature, a: RawCategory, b: RawCategory): number {
  const size = feature.vocabulary.length;
  if (isMissing(a) || isMissing(b)) return size;
  const [ka, kb] = [asKey(a), asKey(b)];
  const index = feature.vocabulary.findIndex(([va, vb]) => va === ka && vb === kb);
  if (index >= 0) return index;
  return size + (feature.oovBuckets > 1 ? crossBucket(a, b, feature.oovBuckets) : 0);
}

/** The raw column of each graph input, in order: features' own columns, then cross sides not already inputs. */
export function rawInputs(fitted: FittedTransform): { name: string; rawType: RawType }[] {
  const inputs = new Map<string, RawType>();
  for (const feature of fitted.features) {
    if (feature.analyzer === 'cross') continue;
    // ISO 8601 text comes in as a string; epoch numbers as int64.
    inputs.set(feature.name, feature.analyzer === 'datetime' && feature.format === 'iso8601' ? 'string' : feature.rawType);
  }
  for (const feature of fitted.features) {
    if (feature.analyzer !== 'cross') continue;
    feature.columns.forEach((column, i) => {
      if (!inputs.has(column)) inputs.set(column, feature.rawTypes[i]);
    });
  }
  return [...inputs].map(([name, rawType]) => ({ name, rawType }));
}
