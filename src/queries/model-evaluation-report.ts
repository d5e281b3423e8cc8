/**
 * Reads a recorded `evaluation.json` (src/evaluate/report.ts writes it) into the shape the
 * model page shows: each metric as one row with its interval and the baseline's value, the
 * slices and fairness groups likewise. The file is checked with zod first, so a report from an
 * older Loom (no slice intervals) reads with those parts empty, and a damaged one fails naming
 * the field instead of breaking the page.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import type { EvaluationDetail, MetricRow } from './views/model-evaluation.js';

const metrics = z.record(z.string(), z.number().nullable());
const intervals = z.record(z.string(), z.object({ lower: z.number(), upper: z.number() }));
const fairnessReport = z.object({ byGroup: z.record(z.string(), z.record(z.string(), z.number().nullable())), disparities: metrics });
const artifactRef = z.object({
  uri: z.string(),
  name: z.string().optional(),
  version: z.number().optional(),
  lineage: z.array(z.object({ type: z.string(), uri: z.string(), id: z.number().optional(), note: z.string().optional() })).optional(),
});

const reportSchema = z.object({
  task: z.string(),
  split: z.string(),
  rowCount: z.number(),
  labelColumn: z.string(),
  metrics,
  baselineMetrics: metrics.nullable(),
  confidenceIntervals: intervals,
  slices: z.array(
    z.object({ spec: z.string(), key: z.string(), values: z.record(z.string(), z.string()), exampleCount: z.number(), small: z.boolean(), metrics, confidenceIntervals: intervals.optional(), baselineMetrics: metrics.nullable() }),
  ),
  fairness: z.array(z.object({ name: z.string(), features: z.array(z.string()), decisionThreshold: z.number(), report: fairnessReport, baselineReport: fairnessReport.optional() })),
  thresholds: z.array(z.object({ metric: z.string(), target: z.string(), kind: z.string(), passed: z.boolean().nullable(), reason: z.string() })),
  blessing: z.object({ blessed: z.boolean(), reason: z.string(), passed: z.number(), failed: z.number(), skipped: z.number() }),
  config: z.object({ bootstrap: z.object({ resamples: z.number(), confidence: z.number() }) }),
  context: z.object({
    model: artifactRef,
    baseline: artifactRef.optional(),
    data: z.object({ uri: z.string(), split: z.string(), contentHash: z.string().optional(), span: z.string().optional(), source: z.string().optional() }),
    runId: z.string().optional(),
    evaluatedAt: z.string(),
  }),
});

type Report = z.output<typeof reportSchema>;

/** What `evaluation.json` says, in the page's shape (the parts that are not about the artifact itself). */
export type ReportView = Omit<EvaluationDetail, 'artifactId' | 'executionId' | 'registeredWith' | 'pipelineRun' | 'modelCard'>;

/** Reads and checks one `evaluation.json`; FAILED_PRECONDITION naming the file when it is unreadable or not a report. */
export async function evaluationReportFile(path: string): Promise<ReportView> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new LoomError('FAILED_PRECONDITION', `cannot read the evaluation report ${path}: ${(error as Error).message}`, { fix: 'evaluate the version again with `loom evaluate <name>@<version>`' });
  }
  const report = parseInput(reportSchema, raw, { what: `the evaluation report ${path}`, code: 'FAILED_PRECONDITION', fix: 'evaluate the version again with `loom evaluate <name>@<version>`' });
  return reportView(report);
}

function reportView(report: Report): ReportView {
  const { context } = report;
  const baselineRef = context.baseline;
  return {
    runId: context.runId || null,
    evaluatedAt: context.evaluatedAt,
    split: report.split,
    rowCount: report.rowCount,
    blessed: report.blessing.blessed,
    task: report.task,
    labelColumn: report.labelColumn,
    confidence: report.config.bootstrap.confidence,
    resamples: report.config.bootstrap.resamples,
    baseline: baselineRef ? { name: baselineRef.name ?? null, version: baselineRef.version ?? null, uri: baselineRef.uri } : null,
    data: { contentHash: context.data.contentHash ?? null, split: context.data.split, span: context.data.span || null, source: context.data.source || null, uri: context.data.uri },
    metrics: metricRows(report.metrics, report.confidenceIntervals, report.baselineMetrics),
    slices: report.slices.map((s) => ({ spec: s.spec, key: s.key, values: s.values, exampleCount: s.exampleCount, small: s.small, metrics: metricRows(s.metrics, s.confidenceIntervals ?? {}, s.baselineMetrics) })),
    fairness: report.fairness.map((f) => ({
      name: f.name,
      features: f.features,
      decisionThreshold: f.decisionThreshold,
      groups: Object.entries(f.report.byGroup).map(([group, rates]) => ({ ...rates, group })),
      disparities: Object.entries(f.report.disparities).map(([name, value]) => ({ name, value, baseline: f.baselineReport?.disparities[name] ?? null })),
    })),
    thresholds: report.thresholds.map(({ metric, target, kind, passed, reason }) => ({ metric, target, kind, passed, reason })),
    blessing: report.blessing,
    lineage: (context.model.lineage ?? []).map((l) => ({ type: l.type, uri: l.uri, id: l.id ?? null, note: l.note ?? null })),
  };
}

/** The metrics as rows, in the report's order; the example count is the table's own column, not a metric row. */
function metricRows(values: Record<string, number | null>, ci: Record<string, { lower: number; upper: number }>, baseline: Record<string, number | null> | null): MetricRow[] {
  return Object.entries(values)
    .filter(([name]) => name !== 'example_count')
    .map(([name, value]) => ({ name, value, lower: ci[name]?.lower ?? null, upper: ci[name]?.upper ?? null, baseline: baseline?.[name] ?? null }));
}
