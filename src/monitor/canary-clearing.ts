/**
 * Taking a decided canary out of its deployment, the canary stage's last move, made safe to
 * fail half-way. The `canary-decision` step moves the alias (on a promotion) and is recorded
 * before the canary is cleared, so a clearing that fails leaves a decision that is done in
 * lineage and a canary still serving. As Argo Rollouts re-runs an interrupted promotion
 * rather than deciding again: the failure is recorded on the decision's execution
 * (`canaryClearing`, with its code and fix) and raised to the caller, and the next check
 * finds the decision made about the very deployment that is still live (`unfinishedDecision`,
 * by the `deploymentId` parameter the step records) and only finishes the clearing.
 *
 * Usage: `const unfinished = await unfinishedDecision(metadata, deployment);`
 *        `const after = await clearCanary(stores, { deployment, decision, executionId, alias });`
 */
import { z } from 'zod';
import { ERROR_CODES, failureRecord, LoomError, type FailureRecord } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Execution } from '../metadata/types.js';
import { CanaryDecision } from '../pipeline/artifact-types.js';
import type { Deployment, DeploymentStore } from '../registry/deployment-store.js';
import { canaryDecisionComponent, type CanaryDecisionParameters } from './canary-component.js';
import type { CanaryDecision as Decision, SideQuality } from './canary-decision.js';

/** A decision as the step recorded it: the artifact's figures and the sides it compared. */
export interface RecordedDecision {
  executionId: number;
  decision: Decision & { aliasMoved: boolean; canaryVersion: number };
  primary: SideQuality;
  canary: SideQuality;
  alias: string;
  /** Why its clearing failed, as recorded (absent when not even the failure could be recorded). */
  clearingFailure?: FailureRecord;
}

const failure = z.object({ code: z.enum(ERROR_CODES), message: z.string(), fix: z.string().optional() });
const canaryClearing = z.discriminatedUnion('status', [
  failure.extend({ status: z.literal('failed') }),
  z.object({ status: z.literal('done'), deploymentId: z.number().int(), failedBefore: failure.optional() }),
]);

/** What the decision's execution records of its clearing when it did not go through at once: why it failed, then that a later check finished it. */
export type CanaryClearing = z.infer<typeof canaryClearing>;

/**
 * The promotion or rollback decided about `deployment` (the live one, by id) that has not taken
 * its canary out yet: its clearing failed. None when the canary was never decided on, or was held.
 */
export async function unfinishedDecision(metadata: MetadataStore, deployment: Deployment): Promise<RecordedDecision | undefined> {
  let pageToken: string | undefined;
  do {
    // Newest first: the latest decision about this deployment is the one that counts.
    const page = await metadata.listExecutions({ typeName: canaryDecisionComponent.name, states: ['COMPLETE'], pageSize: 500, pageToken });
    const about = page.items.find((e) => e.parameters.model === deployment.modelName && e.parameters.deploymentId === deployment.id);
    if (about) return recordedDecision(metadata, about);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return undefined;
}

async function recordedDecision(metadata: MetadataStore, execution: Execution): Promise<RecordedDecision | undefined> {
  const output = (await metadata.getEvents({ executionIds: [execution.id] })).find((e) => e.type === 'OUTPUT' && e.name === 'decision');
  const artifact = output && (await metadata.getArtifacts([output.artifactId]))[0];
  if (!artifact) return undefined;
  const d = CanaryDecision.schema.parse(artifact.properties);
  if (d.outcome !== 'promote' && d.outcome !== 'rollback') return undefined;
  const parameters = execution.parameters as unknown as CanaryDecisionParameters;
  const clearing = canaryClearing.safeParse(execution.properties.canaryClearing).data;
  return {
    executionId: execution.id,
    decision: { outcome: d.outcome, basis: d.basis as Decision['basis'], metric: d.metric, primaryValue: d.primaryValue, canaryValue: d.canaryValue, reason: d.reason, aliasMoved: d.aliasMoved, canaryVersion: d.canaryVersion },
    primary: parameters.primary,
    canary: parameters.canary,
    alias: parameters.alias ?? 'champion',
    ...(clearing?.status === 'failed' && { clearingFailure: { code: clearing.code, message: clearing.message, ...(clearing.fix && { fix: clearing.fix }) } }),
  };
}

/**
 * Takes the canary out of `deployment` after `decision`. A failure is recorded on the decision's
 * execution (when the store lets it) and raised with its code, saying what was done and that
 * deciding again finishes it.
 */
export async function clearCanary(
  stores: { deployments: DeploymentStore; metadata: MetadataStore },
  done: { deployment: Deployment; decision: RecordedDecision['decision']; executionId: number; alias: string; finishing?: { failedBefore?: FailureRecord } },
): Promise<Deployment> {
  const { deployment, decision, executionId } = done;
  const what = decision.outcome === 'promote' ? `promoted (the alias ${done.alias} names it now)` : 'rolled back';
  let after: Deployment;
  try {
    after = await stores.deployments.setDeployment(
      { modelName: deployment.modelName, primary: deployment.primary, canary: null, shadow: deployment.shadow, split: deployment.split, batch: deployment.batch },
      { actor: 'canary-decision', reason: `canary v${decision.canaryVersion} ${decision.outcome === 'promote' ? 'promoted' : 'rolled back'} (execution ${executionId}): ${decision.reason}` },
    );
  } catch (error) {
    const failure = failureRecord(error, { code: 'UNAVAILABLE', fix: 'make the registry database writable again (disk space, permissions, a read-only replica)' });
    const recorded = await recordClearing(stores.metadata, executionId, { status: 'failed', ...failure }).then(
      () => '',
      () => ' (nor could the failure be recorded on it)',
    );
    throw new LoomError(failure.code, `canary v${decision.canaryVersion} of ${deployment.modelName} was ${what} by execution ${executionId}, but could not be taken out of the deployment, so it still serves its share${recorded}: ${failure.message}`, {
      fix: `${failure.fix ? `${failure.fix}; then ` : ''}decide the canary again: the next check only takes it out, without deciding anew`,
    });
  }
  // Closes a recorded failure. Best effort: the deployment's history already says who cleared the canary and after which execution.
  if (done.finishing) {
    const { failedBefore } = done.finishing;
    await recordClearing(stores.metadata, executionId, { status: 'done', deploymentId: after.id, ...(failedBefore && { failedBefore }) }).catch(() => {});
  }
  return after;
}

async function recordClearing(metadata: MetadataStore, executionId: number, clearing: CanaryClearing): Promise<void> {
  const execution = await metadata.getExecution(executionId);
  if (!execution) return;
  await metadata.updateExecution(executionId, { properties: { ...execution.properties, canaryClearing: clearing as JsonObject } });
}
