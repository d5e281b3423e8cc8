/**
 * Lineage of a retraining an alert started, both ways: the alert's execution joins the
 * pipeline run's context, and the run's context names it (`triggeredBy`), so the run (and
 * the model it registers) traces back to the rule, windows and values that caused it; and
 * the alert's execution records what became of each retraining it requested (`retrains`:
 * the run started, or the failure and its reason), so the alert's lineage shows what was
 * done. The `alert` step itself can only record a request: the monitor starts the run after it.
 *
 * Usage: `await linkRetrainRun(platform.metadata, run.contextId, alertExecutionId);`
 *        `await recordRetrains(platform.metadata, alertExecutionId, [{ pipeline, status: 'started', runId }]);`
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../core/errors.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { Execution } from '../../metadata/types.js';

export async function linkRetrainRun(metadata: MetadataStore, runContextId: number, alertExecutionId: number): Promise<void> {
  await metadata.addToContext(runContextId, { executionIds: [alertExecutionId] });
  const context = await metadata.getContext(runContextId);
  if (context) await metadata.updateContext(runContextId, { ...context.properties, triggeredBy: { alertExecutionId } });
}

/**
 * Thrown by a `retrain` callback whose run started and then failed, so the alert's record still
 * names the run (whose lineage holds the failed step) beside why it failed.
 */
export class RetrainRunFailed extends Error {
  constructor(
    readonly runId: string,
    cause: Error,
  ) {
    super(cause.message, { cause });
  }
}

const retrainRecord = z.discriminatedUnion('status', [
  z.strictObject({ pipeline: z.string(), status: z.literal('started'), runId: z.string() }),
  // runId when the run started and then failed; none when it could not start. The failure's code and
  // fix as its LoomError gave them (records written before they were kept have neither).
  z.strictObject({ pipeline: z.string(), status: z.literal('failed'), reason: z.string(), code: z.enum(ERROR_CODES).optional(), fix: z.string().optional(), runId: z.string().optional() }),
]);

/** What became of one retraining an alert requested: the pipeline run started, or why it failed, with the failure's code and fix (and the run, when it started). */
export type RetrainRecord = z.infer<typeof retrainRecord>;

/** Keeps on the alert's execution what became of the retrainings it requested. */
export async function recordRetrains(metadata: MetadataStore, alertExecutionId: number, retrains: readonly RetrainRecord[]): Promise<void> {
  if (retrains.length === 0) return;
  const execution = await metadata.getExecution(alertExecutionId);
  if (!execution) return;
  await metadata.updateExecution(alertExecutionId, { properties: { ...execution.properties, retrains: retrains.map((r) => ({ ...r })) } });
}

/** The retrainings recorded on an alert's execution; none for another execution or a record that does not parse. */
export function retrainsOf(execution: Execution): RetrainRecord[] {
  const parsed = z.array(retrainRecord).safeParse(execution.properties.retrains ?? []);
  return parsed.success ? parsed.data : [];
}
