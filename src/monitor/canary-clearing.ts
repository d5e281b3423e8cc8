/**
 * Taking a decided canary out of its deployment, the canary stage's last move, made safe to
 * fail half-way. The `canary-decision` step moves the alias (on a promotion) and is recorded
 * before the canary is cleared, so a clearing that fails leaves a decision that is done in
 * lineage and a canary still serving. As Argo Rollouts re-runs an interrupted promotion
 * rather than deciding again: the failure is recorded on the decision's execution
 * (`canaryClearing`, with its code and fix) and raised to the caller, and the next check
 * finds the decision made about the very deployment that is still live (`unfinishedDecision`,
 * by the `deploymentId` parameter the step records) and only finishes the clearing. The same
 * holds for a step that failed after moving the alias (recording it as complete failed): its
 * FAILED execution, whose recorded figures promote the canary that its alias now names, is
 * finished as well and records `canaryClearing` done; deciding again would compare the canary
 * with itself and hold it for ever.
 *
 * Usage: `const { decisions } = await failAbandonedDecisions(metadata, deployment); const unfinished = await unfinishedDecision(stores, decisions, canaryVersion);`
 *        `const after = await clearCanary(stores, { deployment, decision, executionId, alias });`
 */
import { z } from 'zod';
import { ERROR_CODES, failureRecord, isLoomError, LoomError, type FailureRecord } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import { ownerState } from '../core/process-owner.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Execution } from '../metadata/types.js';
import { CanaryDecision } from '../pipeline/artifact-types.js';
import type { Deployment, DeploymentStore } from '../registry/deployment-store.js';
import type { RegistryStore } from '../registry/store.js';
import { canaryDecisionComponent, canaryDecisionParameters, type CanaryDecisionParameters } from './canary-component.js';
import { decideCanary, type CanaryDecision as Decision, type SideQuality } from './canary-decision.js';

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
  // `outcome`: the verdict finished, which a step that failed after moving the alias has no output to say.
  z.object({ status: z.literal('done'), deploymentId: z.number().int(), outcome: z.enum(['promote', 'rollback']).optional(), failedBefore: failure.optional() }),
]);

/** What the decision's execution records of its clearing when it did not go through at once: why it failed, then that a later check finished it. */
export type CanaryClearing = z.infer<typeof canaryClearing>;

/**
 * A decision among `about` (the decisions about the live deployment, from `failAbandonedDecisions`) that has not taken its canary out yet: a
 * promotion or rollback recorded as done whose clearing failed, or a promotion of `canaryVersion`
 * whose step moved the alias and then failed before it was recorded as complete (its record is
 * FAILED, without the output, while the alias names the canary's version). None when the canary
 * was never decided on, or only held.
 */
export async function unfinishedDecision(stores: { metadata: MetadataStore; registry: RegistryStore }, about: readonly Execution[], canaryVersion: number): Promise<RecordedDecision | undefined> {
  // The latest completed promotion or rollback about this deployment is the one that counts. A hold
  // changes nothing, so one recorded after it (a concurrent check that read the window before) hides nothing.
  for (const execution of about.filter((e) => e.state === 'COMPLETE')) {
    const recorded = await recordedDecision(stores.metadata, execution);
    if (recorded) return recorded;
  }
  for (const execution of about.filter((e) => e.state === 'FAILED')) {
    const interrupted = await interruptedPromotion(stores.registry, execution, canaryVersion);
    if (interrupted) return interrupted;
  }
  return undefined;
}

/**
 * Marks FAILED the decision steps about `deployment` still RUNNING. Called under the model's canary
 * lease, when no other check can be deciding: such a step was left by a check that lost its lease
 * (its process died, or stalled past the lease without renewing it), and is then finished like any
 * failed step (`unfinishedDecision`: a promotion whose alias it moved is finished, not decided again).
 * A step whose process on this host still runs is left RUNNING and returned in `live`: its check only
 * stalled, and can still move the alias, so the caller decides nothing until it ends. `decisions`:
 * every decision about `deployment` as it now stands, newest first, for `unfinishedDecision`.
 */
export async function failAbandonedDecisions(metadata: MetadataStore, deployment: Deployment, now = Date.now()): Promise<{ failed: number[]; live: Execution[]; decisions: Execution[] }> {
  const failed: number[] = [];
  const live: Execution[] = [];
  let decisions = await decisionsAbout(metadata, deployment);
  let endedMeanwhile = false;
  for (const [index, execution] of decisions.entries()) {
    if (execution.state !== 'RUNNING') continue;
    if (execution.owner && ownerState(execution.owner) === 'alive') {
      live.push(execution);
      continue;
    }
    const error = `its canary check lost the canary lease on ${deployment.modelName} before the step ended (its process died or stalled past the lease), so a later check marked it failed`;
    try {
      decisions[index] = await metadata.updateExecution(execution.id, { state: 'FAILED', error, endedAt: now });
      failed.push(execution.id);
    } catch (e) {
      // Its process ended it meanwhile (it had only stalled): what it recorded stands, and is read again below.
      if (!isLoomError(e) || e.code !== 'FAILED_PRECONDITION') throw e;
      endedMeanwhile = true;
    }
  }
  if (endedMeanwhile) decisions = await decisionsAbout(metadata, deployment);
  return { failed, live, decisions };
}

/** Clocks of two clients of one database may differ by this much; a decision is never older than the deployment it is about by more. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * The canary decisions about `deployment`, newest first. Each records the deployment that was live
 * when it was made, so only the decisions made since that deployment was created are read, not every one ever made.
 */
async function decisionsAbout(metadata: MetadataStore, deployment: Deployment): Promise<Execution[]> {
  const since = deployment.createdAt - CLOCK_SKEW_MS;
  const about: Execution[] = [];
  let pageToken: string | undefined;
  do {
    const page = await metadata.listExecutions({ typeName: canaryDecisionComponent.name, pageSize: 100, pageToken });
    for (const execution of page.items) {
      if (execution.createdAt < since) return about;
      if (execution.parameters.model === deployment.modelName && execution.parameters.deploymentId === deployment.id) about.push(execution);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return about;
}

/**
 * A failed decision step that promoted `canaryVersion` and moved the alias before it failed. Its
 * verdict is read again from the figures and policy it recorded (`decideCanary` is pure, so this
 * is the verdict the step reached, not a new decision); the alias naming the canary's version says the move was made.
 */
async function interruptedPromotion(registry: RegistryStore, execution: Execution, canaryVersion: number): Promise<RecordedDecision | undefined> {
  const parameters = canaryDecisionParameters.safeParse(execution.parameters).data;
  if (!parameters || parameters.canary.version !== canaryVersion) return undefined;
  const decision = decideCanary(parameters.primary, parameters.canary, parameters.policy);
  if (decision.outcome !== 'promote') return undefined;
  if ((await registry.getVersionByAlias(parameters.model, parameters.alias))?.version !== canaryVersion) return undefined;
  const clearingFailure = clearingFailureOf(execution);
  return {
    executionId: execution.id,
    decision: { ...decision, aliasMoved: true, canaryVersion },
    primary: parameters.primary,
    canary: parameters.canary,
    alias: parameters.alias,
    ...(clearingFailure && { clearingFailure }),
  };
}

async function recordedDecision(metadata: MetadataStore, execution: Execution): Promise<RecordedDecision | undefined> {
  const output = (await metadata.getEvents({ executionIds: [execution.id] })).find((e) => e.type === 'OUTPUT' && e.name === 'decision');
  const artifact = output && (await metadata.getArtifacts([output.artifactId]))[0];
  if (!artifact) return undefined;
  const d = CanaryDecision.schema.parse(artifact.properties);
  if (d.outcome !== 'promote' && d.outcome !== 'rollback') return undefined;
  const parameters = execution.parameters as unknown as CanaryDecisionParameters;
  const clearingFailure = clearingFailureOf(execution);
  return {
    executionId: execution.id,
    decision: { outcome: d.outcome, basis: d.basis as Decision['basis'], metric: d.metric, primaryValue: d.primaryValue, canaryValue: d.canaryValue, reason: d.reason, aliasMoved: d.aliasMoved, canaryVersion: d.canaryVersion },
    primary: parameters.primary,
    canary: parameters.canary,
    alias: parameters.alias ?? 'champion',
    ...(clearingFailure && { clearingFailure }),
  };
}

/** What the decision's execution records of its clearing; undefined when nothing (or a record that does not parse). */
export function canaryClearingOf(execution: Pick<Execution, 'properties'>): CanaryClearing | undefined {
  return canaryClearing.safeParse(execution.properties.canaryClearing).data;
}

/** Why the decision's last clearing failed, when that is what it records. */
function clearingFailureOf(execution: Execution): FailureRecord | undefined {
  const clearing = canaryClearingOf(execution);
  return clearing?.status === 'failed' ? { code: clearing.code, message: clearing.message, ...(clearing.fix && { fix: clearing.fix }) } : undefined;
}

/**
 * Takes the canary out of `deployment` after `decision`, made by the execution `executionId` (null
 * when no decision step made it: the primary already served the canary's version). A failure is
 * recorded on the decision's execution (when there is one and the store lets it) and raised with
 * its code, saying what was done and that deciding again finishes it.
 */
export async function clearCanary(
  stores: { deployments: DeploymentStore; metadata: MetadataStore },
  done: { deployment: Deployment; decision: RecordedDecision['decision']; executionId: number | null; alias: string; finishing?: { failedBefore?: FailureRecord } },
): Promise<Deployment> {
  const { deployment, decision, executionId } = done;
  const by = executionId === null ? 'outside the canary stage' : `by execution ${executionId}`;
  const what = decision.outcome === 'promote' ? `promoted (the alias ${done.alias} names it now)` : 'rolled back';
  let after: Deployment;
  try {
    after = await stores.deployments.setDeployment(
      { modelName: deployment.modelName, primary: deployment.primary, canary: null, shadow: deployment.shadow, split: deployment.split, batch: deployment.batch },
      { actor: 'canary-decision', reason: `canary v${decision.canaryVersion} ${decision.outcome === 'promote' ? 'promoted' : 'rolled back'} (${executionId === null ? 'no decision step' : `execution ${executionId}`}): ${decision.reason}` },
      // Only the deployment decided about: written from it, this would undo a change made since (a canary deployed anew).
      { replacing: deployment.id },
    );
  } catch (error) {
    const live = await stores.deployments.getDeployment(deployment.modelName).catch(() => deployment);
    if (live && live.id !== deployment.id) return changedMeanwhile(live, `canary v${decision.canaryVersion} of ${deployment.modelName} was ${what} ${by}`);
    const failure = failureRecord(error, { code: 'UNAVAILABLE', fix: 'make the registry database writable again (disk space, permissions, a read-only replica)' });
    const recorded =
      executionId === null
        ? ''
        : await recordClearing(stores.metadata, executionId, { status: 'failed', ...failure }).then(
            () => '',
            () => ' (nor could the failure be recorded on it)',
          );
    throw new LoomError(failure.code, `canary v${decision.canaryVersion} of ${deployment.modelName} was ${what} ${by}, but could not be taken out of the deployment, so it still serves its share${recorded}: ${failure.message}`, {
      fix: `${failure.fix ? `${failure.fix}; then ` : ''}decide the canary again: the next check only takes it out, without deciding anew`,
    });
  }
  // Closes a recorded failure. Best effort: the deployment's history already says who cleared the canary and after which execution.
  if (done.finishing && executionId !== null) {
    const { failedBefore } = done.finishing;
    const outcome = decision.outcome === 'hold' ? undefined : decision.outcome;
    await recordClearing(stores.metadata, executionId, { status: 'done', deploymentId: after.id, ...(outcome && { outcome }), ...(failedBefore && { failedBefore }) }).catch(() => {});
  }
  return after;
}

/**
 * The deployment decided about is no longer live: another check took the canary out (nothing is
 * left to do), or someone changed the deployment since, whose change stands. Nothing is recorded on
 * the decision: a check that finished it has recorded that.
 */
function changedMeanwhile(live: Deployment, done: string): Deployment {
  if (!live.canary) return live;
  throw new LoomError('FAILED_PRECONDITION', `${done}, but the deployment changed meanwhile (now #${live.id}, by ${live.actor}: ${live.reason}; its canary is ${live.canary.ref}), so no canary was taken out of it`, {
    fix: `see \`loom deploy history ${live.modelName}\`; decide the canary that is deployed now with another check`,
  });
}

async function recordClearing(metadata: MetadataStore, executionId: number, clearing: CanaryClearing): Promise<void> {
  const execution = await metadata.getExecution(executionId);
  if (!execution) return;
  await metadata.updateExecution(executionId, { properties: { ...execution.properties, canaryClearing: clearing as JsonObject } });
}
