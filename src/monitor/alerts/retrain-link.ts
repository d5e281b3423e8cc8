/**
 * Lineage of a retraining an alert started: the alert's execution joins the pipeline run's
 * context, and the run's context names it (`triggeredBy`), so the run (and the model it
 * registers) traces back to the rule, windows and values that caused it.
 *
 * Usage: `await linkRetrainRun(platform.metadata, run.contextId, alertExecutionId);`
 */
import type { MetadataStore } from '../../metadata/store.js';

export async function linkRetrainRun(metadata: MetadataStore, runContextId: number, alertExecutionId: number): Promise<void> {
  await metadata.addToContext(runContextId, { executionIds: [alertExecutionId] });
  const context = await metadata.getContext(runContextId);
  if (context) await metadata.updateContext(runContextId, { ...context.properties, triggeredBy: { alertExecutionId } });
}
