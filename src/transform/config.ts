/**
 * The transform's configuration, validated with zod: which features, which analyzer
 * each gets, and their options. It is the `transform` component's parameter schema and
 * what `fitTransform` parses, so a pipeline file and a direct caller get the same errors.
 * The parameters of earlier Loom versions (`labelColumn`, `features`, `topK`,
 * `maxCategoricalCardinality`, `overrides.<f>.analyzer|topK`) keep their meaning.
 *
 * Checks that need the data (does the column exist, is it a string) happen when fitting,
 * in analyzers.ts; everything decidable from the configuration alone is checked here.
 *
 * Usage: `const config = transformConfig.parse({ labelColumn: 'delayed', overrides: { distance: { analyzer: 'quantiles', buckets: 10 } } });`
 */
import { z } from 'zod';

export const ANALYZERS = ['zscore', 'minmax', 'quantiles', 'vocabulary', 'hash', 'datetime'] as const;
export type AnalyzerKind = (typeof ANALYZERS)[number];
/** Analyzers of numbers, which impute with mean/median/most_frequent/constant. */
export const NUMERIC_ANALYZERS: readonly AnalyzerKind[] = ['zscore', 'minmax', 'quantiles'];
/** Analyzers of categories (strings or integers), which impute with most_frequent/constant. */
export const CATEGORICAL_ANALYZERS: readonly AnalyzerKind[] = ['vocabulary', 'hash'];

export const IMPUTE_STRATEGIES = ['mean', 'median', 'most_frequent', 'constant'] as const;
export type ImputeStrategy = (typeof IMPUTE_STRATEGIES)[number];

/**
 * Parts of a timestamp in the feature's time zone: hour 0–23, minute 0–59, weekday 0 =
 * Sunday … 6, day of month 1–31, month 1–12, day of year 1–366 (each one-hot, or sin/cos
 * with `encoding: 'cyclical'`), and year (one column, scaled by the training years' range).
 */
export const DATETIME_PARTS = ['hour', 'minute', 'weekday', 'day', 'month', 'dayofyear', 'year'] as const;
export type DatetimePart = (typeof DATETIME_PARTS)[number];
/** The periodic parts: their one-hot width, which is also their cycle's length. */
export type CyclicPart = Exclude<DatetimePart, 'year'>;
export const DATETIME_PART_WIDTH: Record<CyclicPart, number> = { hour: 24, minute: 60, weekday: 7, day: 31, month: 12, dayofyear: 366 };
/** The first value of each periodic part (day, month and day of year count from 1). */
export const DATETIME_PART_FIRST: Record<CyclicPart, number> = { hour: 0, minute: 0, weekday: 0, day: 1, month: 1, dayofyear: 1 };

/**
 * How a timestamp arrives in a served request (and so the graph's input type): ISO 8601
 * text (a string input), or epoch seconds / milliseconds (an int64 input).
 */
export const DATETIME_FORMATS = ['iso8601', 'epoch_seconds', 'epoch_milliseconds'] as const;
export type DatetimeFormat = (typeof DATETIME_FORMATS)[number];
export const DATETIME_ENCODINGS = ['onehot', 'cyclical'] as const;
export type DatetimeEncoding = (typeof DATETIME_ENCODINGS)[number];

/** Bucket counts above this make a one-hot block wider than any model here wants; a typo is likelier. */
export const MAX_BUCKETS = 10_000;

const buckets = z
  .number({ error: 'must be a number of buckets' })
  .int({ error: 'must be a whole number of buckets' })
  .min(2, { error: 'needs at least 2 buckets (one bucket carries no information)' })
  .max(MAX_BUCKETS, { error: `allows at most ${MAX_BUCKETS} buckets` });

export const imputeConfig = z
  .object({
    strategy: z.enum(IMPUTE_STRATEGIES),
    /** The replacement for `constant`: a number for numeric features, a string or integer for categories. */
    value: z.union([z.number(), z.string()]).optional(),
  })
  .strict()
  .refine((impute) => (impute.strategy === 'constant') === (impute.value !== undefined), {
    error: 'give value with strategy "constant", and only then',
    path: ['value'],
  });
export type ImputeConfig = z.infer<typeof imputeConfig>;

export const featureOverride = z
  .object({
    analyzer: z.enum(ANALYZERS).optional(),
    /** vocabulary: how many of the most frequent values get their own column. */
    topK: z.number().int().positive().optional(),
    /** vocabulary: a value needs at least this many training rows for its own column. */
    minFrequency: z.number().int().positive().optional(),
    /** vocabulary: columns shared by the other values, seen or unseen (MurmurHash3 of the value, in the graph); default 1. */
    numOovBuckets: z.number().int().min(1).max(MAX_BUCKETS).optional(),
    /** quantiles: number of buckets; hash: number of hash buckets. */
    buckets: buckets.optional(),
    /** datetime: which parts; default hour, weekday, month. */
    parts: z.array(z.enum(DATETIME_PARTS)).min(1).refine((parts) => new Set(parts).size === parts.length, { error: 'lists a part twice' }).optional(),
    /** datetime: what a served request sends; default iso8601 for TIMESTAMP, DATE and text columns; integer columns must say which epoch unit. */
    format: z.enum(DATETIME_FORMATS).optional(),
    /** datetime: the zone the parts are read in, and that text without an offset is in: UTC (default), a fixed offset (+05:30) or an IANA zone (America/Chicago). */
    timeZone: z.string().min(1).optional(),
    /** datetime: onehot (default) or cyclical (sin and cos of each periodic part). */
    encoding: z.enum(DATETIME_ENCODINGS).optional(),
    impute: imputeConfig.optional(),
  })
  .strict();
export type FeatureOverride = z.infer<typeof featureOverride>;

export const crossConfig = z
  .object({
    /** Two string or integer columns; the cross is one category per pair. */
    features: z.tuple([z.string().min(1), z.string().min(1)]),
    /** Name of the crossed feature; default `a_x_b`. */
    name: z.string().min(1).optional(),
    /** Hash every pair into this many buckets (like the hash analyzer). Exclusive with topK. */
    buckets: buckets.optional(),
    /** Keep the k most frequent pairs as columns (like the vocabulary analyzer). */
    topK: z.number().int().positive().optional(),
    minFrequency: z.number().int().positive().optional(),
    numOovBuckets: z.number().int().min(1).max(MAX_BUCKETS).optional(),
  })
  .strict()
  .refine((cross) => (cross.buckets === undefined) !== (cross.topK === undefined), {
    error: 'give either buckets (hash the pairs) or topK (a vocabulary of pairs)',
    path: ['buckets'],
  })
  .refine((cross) => cross.buckets === undefined || (cross.minFrequency === undefined && cross.numOovBuckets === undefined), {
    error: 'minFrequency and numOovBuckets apply to a vocabulary of pairs (topK), not to hashed pairs',
    path: ['numOovBuckets'],
  })
  .refine((cross) => cross.features[0] !== cross.features[1], { error: 'cross two different columns', path: ['features'] });
export type CrossConfig = z.infer<typeof crossConfig>;

/** Which options each analyzer accepts; anything else is a mistake worth reporting. */
const OPTIONS: Record<AnalyzerKind, readonly (keyof FeatureOverride)[]> = {
  zscore: ['impute'],
  minmax: ['impute'],
  quantiles: ['buckets', 'impute'],
  vocabulary: ['topK', 'minFrequency', 'numOovBuckets', 'impute'],
  hash: ['buckets', 'impute'],
  datetime: ['parts', 'format', 'timeZone', 'encoding'],
};

export const transformConfig = z
  .object({
    labelColumn: z.string().min(1),
    /** Default: every column except the label whose type has a default analyzer (timestamps need listing). */
    features: z.array(z.string().min(1)).min(1).optional(),
    /** Vocabulary size for strings (and integers forced to a vocabulary). */
    topK: z.number().int().positive().default(100),
    /** Integers with at most this many distinct values get a vocabulary of all of them. */
    maxCategoricalCardinality: z.number().int().nonnegative().default(32),
    overrides: z.record(z.string(), featureOverride).default({}),
    crosses: z.array(crossConfig).default([]),
  })
  .superRefine((config, ctx) => {
    for (const [name, override] of Object.entries(config.overrides)) {
      const analyzer = override.analyzer;
      const given = (Object.keys(override) as (keyof FeatureOverride)[]).filter((key) => key !== 'analyzer' && override[key] !== undefined);
      if (analyzer === undefined) {
        // Without an analyzer the column type picks one; only vocabulary options can be meant.
        const stray = given.filter((key) => !OPTIONS.vocabulary.includes(key) && key !== 'impute');
        if (stray.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['overrides', name, stray[0]],
            message: `feature "${name}": ${stray[0]} needs an analyzer; add analyzer: "${analyzerFor(stray[0])}"`,
          });
        }
        continue;
      }
      for (const key of given) {
        if (!OPTIONS[analyzer].includes(key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['overrides', name, key],
            message: `feature "${name}": the ${analyzer} analyzer has no option ${key} (it takes ${OPTIONS[analyzer].join(', ') || 'none'})`,
          });
        }
      }
      if ((analyzer === 'quantiles' || analyzer === 'hash') && override.buckets === undefined) {
        ctx.addIssue({ code: 'custom', path: ['overrides', name, 'buckets'], message: `feature "${name}": the ${analyzer} analyzer needs buckets, e.g. buckets: 10` });
      }
      const impute = override.impute;
      if (impute && CATEGORICAL_ANALYZERS.includes(analyzer) && (impute.strategy === 'mean' || impute.strategy === 'median')) {
        ctx.addIssue({
          code: 'custom',
          path: ['overrides', name, 'impute', 'strategy'],
          message: `feature "${name}": a ${analyzer} feature is a category and cannot impute its ${impute.strategy}; use most_frequent or constant`,
        });
      }
      if (impute?.value !== undefined && NUMERIC_ANALYZERS.includes(analyzer) && typeof impute.value !== 'number') {
        ctx.addIssue({ code: 'custom', path: ['overrides', name, 'impute', 'value'], message: `feature "${name}": a ${analyzer} feature imputes a number, not a string` });
      }
    }
    const names = new Set<string>();
    config.crosses.forEach((cross, index) => {
      const name = crossName(cross);
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['crosses', index, 'name'], message: `two crosses are named "${name}"; give one a name` });
      names.add(name);
    });
  });
export type TransformConfig = z.infer<typeof transformConfig>;
export type TransformConfigInput = z.input<typeof transformConfig>;

export function crossName(cross: CrossConfig): string {
  return cross.name ?? `${cross.features[0]}_x_${cross.features[1]}`;
}

function analyzerFor(option: keyof FeatureOverride): AnalyzerKind {
  if (option === 'parts' || option === 'format' || option === 'timeZone' || option === 'encoding') return 'datetime';
  return option === 'buckets' ? 'quantiles' : 'zscore';
}
