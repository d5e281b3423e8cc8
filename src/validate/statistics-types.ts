/**
 * The layout of statistics (`DatasetStatistics`, per feature `FeatureStatistics`), the
 * schema's feature types and the options statistics are computed with: what validation,
 * drift, merging and monitoring exchange, apart from how statistics.ts computes them.
 *
 * Usage: `import { type DatasetStatistics, featureTypeOf } from './statistics-types.js'`
 * (or through statistics.ts, which re-exports all of it).
 */
import { duckdbTypeKind, type DuckDBTypeKind } from '../data/duckdb-types.js';
import type { HistogramBucket } from './histograms.js';
import type { QuantileSketch } from './sketch.js';

/** Feature types as the schema knows them; `FEATURE_TYPES` is also the runtime check. */
export const FEATURE_TYPES = ['INT', 'FLOAT', 'STRING', 'BOOL', 'TIMESTAMP'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
/** The layout version of `DatasetStatistics`. */
export const STATISTICS_VERSION = 2;

export type NumericStatistics = {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Present values equal to 0. */
  zeros: number;
  /** FLOAT only (else 0): NaN and ±Infinity values, counted in `missing` too. */
  nan: number;
  posInf: number;
  negInf: number;
  /** From the sketch, within its bound. */
  median: number;
  quantiles: { q: number; value: number }[];
  /** Equal-width histogram, 10 buckets from min to max. */
  histogram: HistogramBucket[];
  /** 10 buckets between deciles, each with a tenth of the values. */
  quantileHistogram: HistogramBucket[];
  sketch: QuantileSketch;
};

export type ValueCount = { value: string; count: number };

export type StringStatistics = {
  /** Distinct present values; exact unless `uniqueExact` is false (merged truncated lists: a lower bound). */
  unique: number;
  uniqueExact: boolean;
  /** The most frequent values, most frequent first, ties by value; at most `topK` (20). */
  topValues: ValueCount[];
  /**
   * The most frequent values, like `topValues` but up to `histogramSize` (1000) long: it holds
   * every value whenever `complete`. Domains are inferred, unseen categories counted and
   * categorical drift measured from it.
   */
  rankHistogram: ValueCount[];
  /** Whether `rankHistogram` holds every distinct value with its exact count. */
  complete: boolean;
  /** Mean length in characters of the present values. */
  avgLength: number;
};

export type TimestampStatistics = {
  /** Earliest and latest values, ISO 8601 without a time zone (`2001-01-01T00:15:00`). */
  min: string | null;
  max: string | null;
};

export type FeatureStatistics = {
  name: string;
  type: FeatureType;
  /** The column's type as DuckDB read it, e.g. `BIGINT`, `DECIMAL(10,2)`. */
  sqlType: string;
  count: number;
  missing: number;
  /** For INT, FLOAT and BOOL. */
  numeric?: NumericStatistics;
  /** For STRING. */
  string?: StringStatistics;
  /** For TIMESTAMP. */
  timestamp?: TimestampStatistics;
};

export type DatasetStatistics = {
  /** Bumped when the layout changes, so readers can tell old files. */
  version: typeof STATISTICS_VERSION;
  rowCount: number;
  /** In column order. */
  features: FeatureStatistics[];
};

export interface StatisticsOptions {
  /** Length of `topValues`; default 20. */
  topK?: number;
  /** Length limit of `rankHistogram`; default 1000. */
  histogramSize?: number;
}

/** The schema type of a DuckDB column type. */
export function featureTypeOf(sqlType: string): FeatureType {
  return FEATURE_TYPE_OF_KIND[duckdbTypeKind(sqlType)];
}

// Types with no summary of their own (TIME, BLOB, nested) are summarised as text.
const FEATURE_TYPE_OF_KIND: Record<DuckDBTypeKind, FeatureType> = { integer: 'INT', float: 'FLOAT', boolean: 'BOOL', time: 'TIMESTAMP', string: 'STRING', other: 'STRING' };
