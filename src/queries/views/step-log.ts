/**
 * The answer of `/api/loom/pipeline-runs/:runId/steps/:step/log` (queries/step-log.ts), as types:
 * the dashboard imports them too, so this module imports nothing (no Node).
 */

/**
 * A stored line, `seq` counting from 1 within its execution (metadata/execution-log.ts's
 * `ExecutionLogLine`, whose module needs Node; the query returns those as these, so the compiler
 * refuses the two parting).
 */
export interface StepLogLine {
  seq: number;
  loggedAt: number;
  line: string;
}

/** One page of a step's log. */
export interface PipelineStepLog {
  runId: string;
  step: string;
  executionId: number;
  /** The step's state when the lines were read; a RUNNING step may log more. */
  state: string;
  lines: StepLogLine[];
  /** Whether more lines follow this page already (ask again with the last line's `seq`). */
  more: boolean;
  /** Lines the step logged beyond the stored cap. */
  dropped: number;
}
