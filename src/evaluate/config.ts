/**
 * The evaluation config, TFMA's EvalConfig in Loom's words: the task and label, slicing
 * specs, fairness specs, bootstrap, and metric thresholds (GenericValueThreshold and
 * GenericChangeThreshold, overall or per slice). The zod schema checks everything that
 * needs no data; `checkConfigAgainstData` checks names against the evaluation split's
 * columns before any work starts, so a bad config fails naming the field and writes nothing.
 *
 * Usage: `const config = evaluationConfig.parse(raw); checkConfigAgainstData(config, columns);`
 */
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { DISPARITY_METRICS } from './fairness.js';
import { METRICS_BY_TASK, metricDirection, TASKS } from './metrics.js';

export const TIME_BUCKETS = ['hour_of_day', 'day_of_week', 'month', 'date'] as const;
export type TimeBucket = (typeof TIME_BUCKETS)[number];

/** One feature of a slicing spec: its values, its top-k values, or buckets of a number or a time. */
export const sliceColumnSchema = z
  .object({
    feature: z.string().min(1),
    /** Only the k most frequent values get a slice (rows with other values are in no slice of this spec). */
    top: z.number().int().positive().optional(),
    /** Numeric buckets: (-inf, b0), [b0, b1), ..., [bn, inf). */
    boundaries: z.array(z.number()).min(1).optional(),
    /** Numeric buckets of equal width: [k*width, (k+1)*width). */
    width: z.number().positive().optional(),
    /** A part of a DATE or TIMESTAMP column (UTC), like TFMA's trip_start_hour. */
    time: z.enum(TIME_BUCKETS).optional(),
  })
  .strict()
  .refine((c) => [c.boundaries, c.width, c.time].filter((x) => x !== undefined).length <= 1, {
    message: 'use one of boundaries, width and time',
  })
  .refine((c) => !c.boundaries || c.boundaries.every((b, i) => i === 0 || b > c.boundaries![i - 1]!), {
    message: 'boundaries must increase',
    path: ['boundaries'],
  });
export type SliceColumn = z.output<typeof sliceColumnSchema>;

/** A slicing spec; two or more columns make crossed slices. The name defaults to the features joined by " x ". */
export const slicingSpecSchema = z.object({ name: z.string().min(1).optional(), columns: z.array(sliceColumnSchema).min(1) }).strict();

const valueThreshold = z
  .object({ lowerBound: z.number().optional(), upperBound: z.number().optional() })
  .strict()
  .refine((v) => v.lowerBound !== undefined || v.upperBound !== undefined, 'give lowerBound, upperBound or both');

const changeThreshold = z
  .object({
    /** Defaults to the metric's own direction (log loss: lower is better). */
    direction: z.enum(['higher_is_better', 'lower_is_better']).optional(),
    /** The candidate must change by at least this much in the better direction (negative: may get this much worse). */
    absolute: z.number().optional(),
    /** As `absolute`, relative to the baseline's value. */
    relative: z.number().optional(),
  })
  .strict()
  .refine((c) => c.absolute !== undefined || c.relative !== undefined, 'give absolute, relative or both');

export const metricThresholdSchema = z
  .object({
    metric: z.string().min(1),
    /** The slicing spec (by name) whose every slice is judged; absent: the overall metrics. */
    slice: z.string().min(1).optional(),
    /** The fairness spec (by name) a disparity metric is read from. */
    fairness: z.string().min(1).optional(),
    value: valueThreshold.optional(),
    change: changeThreshold.optional(),
  })
  .strict()
  .refine((t) => t.value || t.change, 'give a value threshold, a change threshold or both');
export type MetricThreshold = z.output<typeof metricThresholdSchema>;

export const fairnessSpecSchema = z
  .object({
    name: z.string().min(1).optional(),
    /** Sensitive features; several give intersectional groups. */
    features: z.array(z.string().min(1)).min(1),
  })
  .strict();

/** The config's fields without the cross-field checks (zod cannot extend a refined object). */
export const evaluationConfigFields = z.strictObject({
    task: z.enum(TASKS).default('binary'),
    /** Defaults to the model's `labelColumn` property. */
    labelColumn: z.string().min(1).optional(),
    /** The model output holding the score (binary: P(label = 1); multiclass: probabilities; regression: the prediction). */
    predictionOutput: z.string().min(1).default('probability'),
    weightColumn: z.string().min(1).optional(),
    /** Binary decisions (accuracy, precision, recall, F1, fairness) predict positive at or above this. */
    decisionThreshold: z.number().min(0).max(1).default(0.5),
    slices: z.array(slicingSpecSchema).default([]),
    /** Slices with fewer examples are reported, flagged small, and not judged by thresholds. */
    minSliceSize: z.number().int().min(1).default(30),
    fairness: z.array(fairnessSpecSchema).default([]),
    thresholds: z.array(metricThresholdSchema).default([]),
    bootstrap: z
      .object({
        resamples: z.number().int().min(0).max(10_000).default(100),
        seed: z.number().int().default(1),
        confidence: z.number().gt(0).lt(1).default(0.95),
      })
      .strict()
      .default({ resamples: 100, seed: 1, confidence: 0.95 }),
    /** Bins of the calibration curve and the residual histogram. */
    bins: z.number().int().min(2).max(1000).default(10),
  });

/** The evaluation config, with cross-field checks: unique spec names, known metrics, thresholds naming specs that exist. */
export const evaluationConfig = evaluationConfigFields.superRefine(checkConfig);
export type EvaluationConfig = z.output<typeof evaluationConfigFields>;
export type EvaluationConfigInput = z.input<typeof evaluationConfigFields>;

/** The cross-field checks, for schemas that extend the config's fields (the evaluate component's parameters). */
export function checkConfig(config: EvaluationConfig, ctx: z.RefinementCtx): void {
    const specNames = new Set<string>();
    config.slices.forEach((spec, i) => {
      const name = slicingSpecName(spec);
      if (specNames.has(name)) ctx.addIssue({ code: 'custom', path: ['slices', i, 'name'], message: `two slicing specs are named "${name}"; name one of them` });
      specNames.add(name);
    });
    const fairnessNames = new Set(config.fairness.map(fairnessSpecName));
    if (config.task !== 'binary' && config.fairness.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['fairness'], message: 'fairness metrics need a binary task' });
    }
    const known: readonly string[] = METRICS_BY_TASK[config.task];
    config.thresholds.forEach((t, i) => {
      const path = ['thresholds', i];
      const disparity = (DISPARITY_METRICS as readonly string[]).includes(t.metric);
      if (!disparity && !known.includes(t.metric)) {
        ctx.addIssue({ code: 'custom', path: [...path, 'metric'], message: `unknown metric "${t.metric}" for a ${config.task} task; known: ${[...known, ...(config.task === 'binary' ? DISPARITY_METRICS : [])].join(', ')}` });
      }
      if (disparity && (!t.fairness || !fairnessNames.has(t.fairness))) {
        ctx.addIssue({ code: 'custom', path: [...path, 'fairness'], message: `"${t.metric}" needs "fairness" naming a fairness spec (${[...fairnessNames].join(', ') || 'none configured'})` });
      }
      if (!disparity && t.fairness) ctx.addIssue({ code: 'custom', path: [...path, 'fairness'], message: `"fairness" applies only to disparity metrics (${DISPARITY_METRICS.join(', ')})` });
      if (t.slice !== undefined && !specNames.has(t.slice)) {
        ctx.addIssue({ code: 'custom', path: [...path, 'slice'], message: `no slicing spec named "${t.slice}" (specs: ${[...specNames].join(', ') || 'none'})` });
      }
      if (t.change && !t.change.direction && thresholdDirection(t) === undefined) {
        ctx.addIssue({ code: 'custom', path: [...path, 'change', 'direction'], message: `"${t.metric}" has no better direction; set direction` });
      }
    });
}

/** A spec's name: its own, or its features joined by " x " (time buckets as feature.part). */
export function slicingSpecName(spec: z.output<typeof slicingSpecSchema>): string {
  return spec.name ?? spec.columns.map((c) => (c.time ? `${c.feature}.${c.time}` : c.feature)).join(' x ');
}

export function fairnessSpecName(spec: z.output<typeof fairnessSpecSchema>): string {
  return spec.name ?? spec.features.join(' x ');
}

/** Which way a threshold's metric improves: its own direction, or the one it sets. Disparity differences improve downward, ratios upward. */
export function thresholdDirection(t: MetricThreshold): 'higher' | 'lower' | undefined {
  if (t.change?.direction) return t.change.direction === 'higher_is_better' ? 'higher' : 'lower';
  if ((DISPARITY_METRICS as readonly string[]).includes(t.metric)) return t.metric.endsWith('_ratio') ? 'higher' : 'lower';
  return metricDirection(t.metric);
}

/** A column of the evaluation data: its name and DuckDB type. */
export interface DataColumn {
  name: string;
  type: string;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*|REAL)$/i;
const TEMPORAL = /^(DATE|TIMESTAMP.*)$/i;

/**
 * Checks every column the config names exists in the data with a usable type; throws
 * INVALID_ARGUMENT with the field path (`slices[1].columns[0].feature`) and the columns there are.
 */
export function checkConfigAgainstData(config: EvaluationConfig, labelColumn: string, columns: readonly DataColumn[], where: string): void {
  const byName = new Map(columns.map((c) => [c.name, c.type]));
  const listing = columns.map((c) => c.name).join(', ');
  const need = (name: string, field: string, kind?: 'numeric' | 'temporal') => {
    const type = byName.get(name);
    if (type === undefined) {
      throw new LoomError('INVALID_ARGUMENT', `${field} names "${name}", which is not a column of ${where} (columns: ${listing})`, {
        field,
        fix: `use one of: ${listing}`,
      });
    }
    if (kind === 'numeric' && !NUMERIC.test(type)) {
      throw new LoomError('INVALID_ARGUMENT', `${field}: "${name}" is ${type}; numeric buckets need a number column`, { field, fix: 'slice it by value instead' });
    }
    if (kind === 'temporal' && !TEMPORAL.test(type)) {
      throw new LoomError('INVALID_ARGUMENT', `${field}: "${name}" is ${type}; time buckets need a DATE or TIMESTAMP column`, { field, fix: 'slice it by value or numeric buckets instead' });
    }
  };
  need(labelColumn, 'labelColumn');
  if (config.weightColumn) need(config.weightColumn, 'weightColumn', 'numeric');
  config.slices.forEach((spec, i) =>
    spec.columns.forEach((column, j) => {
      const kind = column.time ? 'temporal' : column.boundaries || column.width ? 'numeric' : undefined;
      need(column.feature, `slices[${i}].columns[${j}].feature`, kind);
    }),
  );
  config.fairness.forEach((spec, i) => spec.features.forEach((feature, j) => need(feature, `fairness[${i}].features[${j}]`)));
}

/** The columns the evaluation reads besides the model's inputs: slice and fairness features. */
export function featureColumns(config: EvaluationConfig): string[] {
  return [...new Set([...config.slices.flatMap((s) => s.columns.map((c) => c.feature)), ...config.fairness.flatMap((f) => f.features)])];
}
