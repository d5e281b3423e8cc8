/**
 * The run list's rows, as `/api/loom/pipeline-runs` answers them (queries/pipeline-runs.ts):
 * the dashboard imports the type too, so this module imports nothing (no Node).
 */

/** One pipeline run as the run list shows it. */
export interface PipelineRunSummary {
  runId: string;
  pipeline: string;
  state: string;
  startedAt: number | null;
  endedAt: number | null;
  codeVersion: unknown;
}
