/**
 * The evaluation as files: `evaluation.json` (the EvaluationReport below), `blessing.json`
 * and the model card (`model_card.md`, `model_card.html`). One writer for the pipeline
 * component and `loom evaluate`, so both leave the same artifact.
 *
 * Usage: `const report = buildReport(analysis, context); await writeEvaluation(dir, report);`
 */
import { writeFile } from 'node:fs/promises';
import { ModelBlessing, ModelEvaluation } from '../pipeline/artifact-types.js';
import type { Blessing } from './blessing.js';
import type { EvaluationConfig } from './config.js';
import type { ModelAnalysis } from './evaluator.js';
import { renderModelCard } from './model-card.js';

/** Where the numbers came from: the model, the baseline and the data, as the model card's lineage shows them. */
export interface EvaluationContext {
  model: ArtifactRef;
  baseline?: ArtifactRef;
  data: {
    uri: string;
    split: string;
    /** The dataset version (the Examples content hash), when known. */
    contentHash?: string;
    span?: string;
    source?: string;
  };
  labelColumn: string;
  /** The pipeline run or CLI invocation that evaluated. */
  runId?: string;
  evaluatedAt: string;
}

export interface ArtifactRef {
  uri: string;
  artifactId?: number;
  /** Registered name and version, when the model came from the registry. */
  name?: string;
  version?: number;
  /** Upstream artifacts (transform, training data, code), for the card's lineage section. */
  lineage?: { type: string; uri: string; id?: number; note?: string }[];
}

type JsonMetrics = Record<string, number | null>;

/** The content of `evaluation.json`. Numbers JSON cannot hold (NaN, Infinity) are null. `metrics` is what push registers. */
export interface EvaluationReport {
  task: string;
  split: string;
  rowCount: number;
  labelColumn: string;
  metrics: JsonMetrics;
  baselineMetrics: JsonMetrics | null;
  confidenceIntervals: Record<string, { lower: number; upper: number; resamples: number }>;
  plots: unknown;
  /** `confidenceIntervals` is absent from reports written before slices had intervals. */
  slices: { spec: string; key: string; values: Record<string, string>; exampleCount: number; small: boolean; metrics: JsonMetrics; confidenceIntervals?: Record<string, { lower: number; upper: number; resamples: number }>; baselineMetrics: JsonMetrics | null }[];
  fairness: unknown[];
  thresholds: unknown[];
  blessing: Blessing;
  config: EvaluationConfig;
  context: EvaluationContext;
}

/** Curves longer than this are thinned (evenly, keeping both ends) in the report; the metrics use every point. */
const MAX_CURVE_POINTS = 200;

export function buildReport(analysis: ModelAnalysis, config: EvaluationConfig, context: EvaluationContext): EvaluationReport {
  const plots = analysis.plots;
  return {
    task: analysis.task,
    split: context.data.split,
    rowCount: analysis.exampleCount,
    labelColumn: context.labelColumn,
    metrics: jsonMetrics(analysis.metrics),
    baselineMetrics: analysis.baselineMetrics ? jsonMetrics(analysis.baselineMetrics) : null,
    confidenceIntervals: analysis.confidenceIntervals,
    plots: jsonSafe({
      ...plots,
      roc: plots.roc && thin(plots.roc),
      pr: plots.pr && thin(plots.pr),
    }),
    slices: analysis.slices.map((s) => ({ ...s, metrics: jsonMetrics(s.metrics), baselineMetrics: s.baselineMetrics ? jsonMetrics(s.baselineMetrics) : null })),
    fairness: jsonSafe(analysis.fairness) as unknown[],
    thresholds: jsonSafe(analysis.thresholds) as unknown[],
    blessing: analysis.blessing,
    config,
    context,
  };
}

/** Writes evaluation.json and the model card into the evaluation directory, and blessing.json into the blessing directory. */
export async function writeEvaluation(evaluationDir: string, blessingDir: string, report: EvaluationReport): Promise<void> {
  const card = renderModelCard(report);
  await writeFile(ModelEvaluation.files.evaluation(evaluationDir), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(ModelEvaluation.files.cardMarkdown(evaluationDir), card.markdown);
  await writeFile(ModelEvaluation.files.cardHtml(evaluationDir), card.html);
  await writeFile(ModelBlessing.files.blessing(blessingDir), `${JSON.stringify(report.blessing, null, 2)}\n`);
}

export function jsonMetrics(metrics: Record<string, number>): JsonMetrics {
  const result: JsonMetrics = {};
  for (const [name, value] of Object.entries(metrics)) result[name] = Number.isFinite(value) ? value : null;
  return result;
}

/** The Examples' time range ("2001-02-01..2001-02-28") or span number, for the card. */
export function spanOf(properties: Record<string, unknown>): string | undefined {
  const range = typeof properties.timeRange === 'string' ? properties.timeRange : '';
  if (range) return range;
  return properties.span === undefined || properties.span === null ? undefined : String(properties.span);
}

function thin<T extends Record<string, number[]>>(curve: T): T {
  const length = Math.max(...Object.values(curve).map((v) => v.length));
  if (length <= MAX_CURVE_POINTS) return curve;
  const picks = Array.from({ length: MAX_CURVE_POINTS }, (_, k) => Math.round((k * (length - 1)) / (MAX_CURVE_POINTS - 1)));
  return Object.fromEntries(Object.entries(curve).map(([name, values]) => [name, picks.filter((i) => i < values.length).map((i) => values[i]!)])) as T;
}

/** A deep copy with NaN and ±Infinity as null: JSON.stringify would write them as null anyway, but silently. */
function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}
