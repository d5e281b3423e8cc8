/**
 * A pipeline step's log as the dashboard and the API show it: the lines its execution
 * logged (`metadata/execution-log.ts`), oldest first, after a given line, with the step's
 * state so a live view knows whether to ask again.
 *
 * Usage: `const log = await pipelineStepLog(platform, runId, 'ingest', { after: 0 });`
 */
import { LoomError } from '../core/errors.js';
import { runExecutions, type PipelineRunStores } from './pipeline-runs.js';
import type { PipelineStepLog } from './views/step-log.js';

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export type { PipelineStepLog, StepLogLine } from './views/step-log.js';

/**
 * The lines of a run's step after line `after` (0: from the first), at most `limit`; NOT_FOUND
 * naming the run or the step when either is missing.
 */
export async function pipelineStepLog(stores: PipelineRunStores, runId: string, step: string, options: { after: number; limit: number }): Promise<PipelineStepLog> {
  const { executions } = await runExecutions(stores, runId);
  // A step runs once per run; the newest execution of the name is the one the run shows.
  const execution = executions.filter((e) => e.stepName === step).at(-1);
  if (!execution) {
    const steps = [...new Set(executions.map((e) => e.stepName))];
    throw new LoomError('NOT_FOUND', `pipeline run "${runId}" has no step "${step}"`, {
      field: 'stepName',
      fix: steps.length > 0 ? `its steps are ${steps.join(', ')}` : 'the run recorded no steps yet; see it with `loom runs show`',
    });
  }
  // Read after the state: the step runner stores the whole log before the final state, so a
  // finished state here means these lines are all there will be.
  const page = await stores.metadata.getExecutionLog(execution.id, { afterSeq: options.after, limit: options.limit });
  return { runId, step, executionId: execution.id, state: execution.state, ...page };
}
