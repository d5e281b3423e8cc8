/**
 * The answer of `/api/loom/models/:name/versions/:version/evaluation` (queries/model-evaluation.ts),
 * as types only: the dashboard imports them too, so this module imports nothing (no Node).
 */

/** One metric: the value (null where it was undefined, e.g. AUC of a one-class slice), its bootstrap interval and the baseline's value. */
export interface MetricRow {
  name: string;
  value: number | null;
  lower: number | null;
  upper: number | null;
  baseline: number | null;
}

/** One recorded evaluation of the version, for the list to choose from. */
export interface EvaluationSummary {
  /** The ModelEvaluation artifact's id: what `evaluation=` selects. */
  artifactId: number;
  executionId: number;
  /** The pipeline run (or `loom evaluate` invocation) that evaluated. */
  runId: string | null;
  /** Whether `runId` is a recorded pipeline run (with its own page), not a `loom evaluate` invocation. */
  pipelineRun: boolean;
  evaluatedAt: string;
  split: string;
  rowCount: number;
  blessed: boolean | null;
  /** The evaluation push registered the version with (`lineage.evaluationUri`). */
  registeredWith: boolean;
}

/** One evaluation in full: what its `evaluation.json` and `model_card.md` say. */
export interface EvaluationDetail extends EvaluationSummary {
  task: string;
  labelColumn: string;
  /** Central coverage of the intervals (0.95) and the resamples asked for (0: no intervals). */
  confidence: number;
  resamples: number;
  /** The version compared with (the champion when there was one), as the report names it. */
  baseline: { name: string | null; version: number | null; uri: string } | null;
  data: { contentHash: string | null; split: string; span: string | null; source: string | null; uri: string };
  metrics: MetricRow[];
  slices: { spec: string; key: string; values: Record<string, string>; exampleCount: number; small: boolean; metrics: MetricRow[] }[];
  fairness: {
    name: string;
    features: string[];
    decisionThreshold: number;
    groups: ({ group: string } & Record<string, number | string | null>)[];
    disparities: { name: string; value: number | null; baseline: number | null }[];
  }[];
  thresholds: { metric: string; target: string; kind: string; passed: boolean | null; reason: string }[];
  blessing: { blessed: boolean; reason: string; passed: number; failed: number; skipped: number };
  /** Upstream artifacts the card lists (pipeline run, data, transform, trained model). */
  lineage: { type: string; uri: string; id: number | null; note: string | null }[];
  /** The model card the evaluation wrote, as Markdown; null when the file is missing. */
  modelCard: string | null;
}

/** A model version's recorded evaluations, one of them in full. */
export interface ModelEvaluationView {
  model: { name: string; version: number };
  /** Newest first. */
  evaluations: EvaluationSummary[];
  /** The one asked for, else the one the version was registered with, else the newest; null when there is none. */
  selected: EvaluationDetail | null;
}
