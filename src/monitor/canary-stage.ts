/**
 * The canary stage after an automatic promotion: a version that passed evaluation against
 * the champion is deployed beside the primary on a share of the traffic (`startCanary`),
 * then `decideCanaryStage` reads both sides' online quality over the same window (the
 * prediction log's role column and the label store, as `loom monitor quality` does), runs
 * the `canary-decision` step (which moves the alias on a promotion) and takes the canary
 * out of the deployment when it was promoted or rolled back; when that last move fails, or the
 * step fails after moving the alias, the next call finishes it without deciding again
 * (canary-clearing.ts). A canary whose version the primary already serves with no decision to
 * finish (an alias moved by hand) is taken out with no decision. One check decides a model's
 * canary at a time, under its canary lease (canary-lease.ts); a check that finds it held does
 * nothing and answers `inProgress`, and a decision step left RUNNING by a check that lost its
 * lease (killed) is marked failed and finished by the next check that holds it. Every change goes
 * through the stores it is given: pass the platform as its principal (`Platform.actingAs`) so
 * alias and deployment moves are authorized and audited.
 *
 * Usage: `await startCanary(platform, { model: 'flights', version: 5, weight: 0.2 })`, serve
 *        traffic, then `await decideCanaryStage(platform, location, { model: 'flights', from, to, codeVersion })`.
 */
import { LoomError } from '../core/errors.js';
import type { ProcessOwner } from '../core/process-owner.js';
import { fieldPath, parseInput } from '../core/validation.js';
import type { Artifact, CodeVersion } from '../metadata/types.js';
import type { MetadataStore } from '../metadata/store.js';
import { standaloneScope } from '../pipeline/run-scope.js';
import type { StepRunner } from '../pipeline/step-runner.js';
import type { Deployment, DeploymentStore } from '../registry/deployment-store.js';
import { parseModelRef, resolveModelVersion } from '../registry/model-ref.js';
import { clearCanary, failAbandonedDecisions, unfinishedDecision, type RecordedDecision } from './canary-clearing.js';
import { canaryDecisionComponent } from './canary-component.js';
import { processText, type CanaryLease, type CanaryLeaseStore } from './canary-lease.js';
import { holdLease, type HeldLease } from './canary-lease-holding.js';
import { canaryPolicy, type CanaryDecision, type CanaryPolicy, type QualityFigures, type SideQuality } from './canary-decision.js';
import { ESTIMATED_METRICS } from './cbpe.js';
import type { PredictionLogLocation, PredictionLogRole } from './prediction-log-reader.js';
import { onlineQuality, type QualityStores } from './quality-run.js';

export interface CanaryStores extends QualityStores {
  metadata: MetadataStore;
  deployments: DeploymentStore;
  runner: StepRunner;
  canaryLeases: CanaryLeaseStore;
}

/** Deploys `version` as the canary of `model` beside its champion, on `weight` of the traffic (split by request id). */
export async function startCanary(stores: Pick<CanaryStores, 'deployments'>, options: { model: string; version: number; weight: number; alias?: string; reason?: string }): Promise<Deployment> {
  const current = await stores.deployments.getDeployment(options.model);
  return stores.deployments.setDeployment(
    {
      modelName: options.model,
      primary: current?.primary ?? `${options.model}@${options.alias ?? 'champion'}`,
      canary: { ref: `${options.model}@${options.version}`, weight: options.weight },
      shadow: current?.shadow ?? null,
      split: current?.split ?? 'hash',
      ...(current && { batch: current.batch }),
    },
    { actor: 'canary-stage', reason: options.reason ?? `v${options.version} passed evaluation against the champion: canary on ${options.weight} of the traffic` },
  );
}

export interface CanaryStageRequest {
  model: string;
  /** The window both sides are read over, ms since the epoch, [from, to). */
  from: number;
  to: number;
  policy?: Partial<CanaryPolicy>;
  /** The alias a promoted canary takes; default `champion`. */
  alias?: string;
  /** The alert execution whose retraining made the canary, for lineage. */
  triggerExecutionId?: number;
  codeVersion: CodeVersion;
}

export interface CanaryStageResult {
  decision: CanaryDecision & { aliasMoved: boolean };
  primary: SideQuality;
  canary: SideQuality;
  /** The decision's execution; null when none was made (the primary already served the canary's version). */
  executionId: number | null;
  /** The deployment after the decision (the canary cleared unless the outcome was `hold`). */
  deployment: Deployment;
}

/** What a check does when another check holds the model's canary lease: nothing, and says who decides. */
export interface CanaryDecisionInProgress {
  /** `until`: when the decider's lease runs out unless renewed; null for a decision step still running whose check's lease has run out. */
  inProgress: { model: string; by: string; since: number; until: number | null };
  /** For people: "a canary decision on flights is in progress (by process 123 on host h, since …): nothing was done". */
  message: string;
}

/** A check's answer: what was decided (or finished), or that another check is deciding. */
export type CanaryCheck = CanaryStageResult | CanaryDecisionInProgress;

/** How long a check's lease lasts unless renewed; a check renews it every third of this while it works. */
export const CANARY_LEASE_MS = 60_000;

/**
 * Decides the model's canary, one check at a time: under the model's canary lease
 * (canary-lease.ts), held from before the deployment is read until the canary is taken out, so
 * two checks cannot both move the alias or record two decisions. A check that finds the lease
 * held returns `inProgress` without reading or changing anything.
 */
export async function decideCanaryStage(stores: CanaryStores, log: PredictionLogLocation, request: CanaryStageRequest): Promise<CanaryCheck> {
  const policy = parseInput(canaryPolicy, request.policy ?? {}, {
    what: 'the canary policy',
    name: (path) => fieldPath(['policy', ...path]),
    fix: `give policy.metric one of ${ESTIMATED_METRICS.join(', ')}; policy.minLabelled and policy.minRows whole numbers above 0; policy.tolerance from 0 to 1`,
  });
  const claim = await stores.canaryLeases.claim(request.model, { ttlMs: CANARY_LEASE_MS });
  if (!claim.claimed) return inProgress(heldBy(claim.held));
  const held = holdLease(stores.canaryLeases, claim.lease, CANARY_LEASE_MS);
  try {
    return await decideUnderLease(stores, log, request, policy, held);
  } finally {
    await held.release();
  }
}

async function decideUnderLease(stores: CanaryStores, log: PredictionLogLocation, request: CanaryStageRequest, policy: CanaryPolicy, lease: HeldLease): Promise<CanaryCheck> {
  const deployment = await stores.deployments.getDeployment(request.model);
  if (!deployment?.canary) {
    throw new LoomError('FAILED_PRECONDITION', `${request.model} has no canary deployed, so there is nothing to decide`, { fix: 'deploy one first (`loom deploy set --canary name@version:weight`)' });
  }
  const canaryVersion = await resolveModelVersion(parseModelRef(deployment.canary.ref), stores.registry);
  // Under the lease no other check is deciding: a decision step still RUNNING was left by a check that lost its lease,
  // and is failed and finished, unless its process on this host still runs (it stalled past the lease and may yet move the alias).
  const { live, decisions } = await failAbandonedDecisions(stores.metadata, deployment);
  if (live[0]) return inProgress({ model: request.model, holder: live[0].owner, since: live[0].startedAt ?? live[0].createdAt, until: null });
  const unfinished = await unfinishedDecision(stores, decisions, canaryVersion.version);
  if (unfinished) return finishDecision(stores, deployment, unfinished);
  const primaryVersion = await resolveModelVersion(parseModelRef(deployment.primary), stores.registry);
  // Comparing the canary with itself would hold it for ever (no request answered as primary by its version).
  if (primaryVersion.version === canaryVersion.version) return clearServedCanary(stores, deployment, canaryVersion.version, policy.metric);
  const primary = await sideQuality(stores, log, request, primaryVersion.version, 'primary');
  const canary = await sideQuality(stores, log, request, canaryVersion.version, 'canary');
  const inputs = {
    primary: await artifactOf(stores.metadata, primaryVersion.artifactId),
    canary: await artifactOf(stores.metadata, canaryVersion.artifactId),
    trigger: request.triggerExecutionId === undefined ? undefined : await alertOf(stores.metadata, request.triggerExecutionId),
  };
  // Reading the windows takes a while: a check that stalled past its lease meanwhile leaves the decision to the check that took it over.
  const lost = await lease.confirm();
  if (lost) return inProgress(heldBy(lost));
  const alias = request.alias ?? 'champion';
  const outcome = await stores.runner.run({
    component: canaryDecisionComponent,
    stepName: 'canary-decision',
    inputs,
    parameters: { model: request.model, alias, window: { from: request.from, to: request.to }, primary, canary, policy, deploymentId: deployment.id },
    run: standaloneScope('canary-decision', request.codeVersion),
    cache: false,
  });
  if (outcome.error) throw outcome.error;
  const properties = outcome.outputs.decision!.properties as unknown as CanaryDecision & { aliasMoved: boolean };
  const decision = { outcome: properties.outcome, basis: properties.basis, metric: properties.metric, primaryValue: properties.primaryValue, canaryValue: properties.canaryValue, reason: properties.reason, aliasMoved: properties.aliasMoved };
  const after = decision.outcome === 'hold' ? deployment : await clearCanary(stores, { deployment, decision: { ...decision, canaryVersion: canaryVersion.version }, executionId: outcome.executionId, alias });
  return { decision, primary, canary, executionId: outcome.executionId, deployment: after };
}

/** Who is deciding a model's canary: the holder of its lease, or a decision step whose process still runs (`until` null: no lease of its own). */
interface Decider {
  model: string;
  holder: ProcessOwner | null;
  since: number;
  until: number | null;
}

function heldBy(lease: CanaryLease): Decider {
  return { model: lease.model, holder: lease.holder, since: lease.acquiredAt, until: lease.expiresAt };
}

/** The answer of a check that found another one deciding. */
function inProgress(decider: Decider): CanaryDecisionInProgress {
  const by = processText(decider.holder);
  const since = new Date(decider.since).toISOString();
  const until = decider.until === null ? 'its step is still running' : `its lease runs to ${new Date(decider.until).toISOString()} unless renewed`;
  return {
    inProgress: { model: decider.model, by, since: decider.since, until: decider.until },
    message: `a canary decision on ${decider.model} is in progress (by ${by}, since ${since}; ${until}): nothing was done`,
  };
}

/** The answer of a decision made earlier whose canary could not be cleared then: cleared now, decided no more. */
async function finishDecision(stores: CanaryStores, deployment: Deployment, recorded: RecordedDecision): Promise<CanaryStageResult> {
  const { canaryVersion: _, ...decision } = recorded.decision;
  const after = await clearCanary(stores, { deployment, decision: recorded.decision, executionId: recorded.executionId, alias: recorded.alias, finishing: { ...(recorded.clearingFailure && { failedBefore: recorded.clearingFailure }) } });
  return { decision, primary: recorded.primary, canary: recorded.canary, executionId: recorded.executionId, deployment: after };
}

/**
 * The primary already serves the canary's version and no decision step is left to finish (the
 * alias was moved outside the canary stage): nothing is left to decide, the canary is taken out
 * and the deployment's history says why.
 */
async function clearServedCanary(stores: CanaryStores, deployment: Deployment, version: number, metric: string): Promise<CanaryStageResult> {
  const reason = `the primary (${deployment.primary}) already serves v${version}, the canary's version, and no canary decision is left to finish: nothing to decide`;
  const decision = { outcome: 'promote' as const, basis: 'none' as const, metric, primaryValue: null, canaryValue: null, reason, aliasMoved: false };
  const after = await clearCanary(stores, { deployment, decision: { ...decision, canaryVersion: version }, executionId: null, alias: deployment.primary });
  const side = { version, rows: 0, labelled: 0, estimated: figures(undefined), measured: null };
  return { decision, primary: side, canary: side, executionId: null, deployment: after };
}

/** One side's quality over the window: the rows this version answered in this role, as one window. */
async function sideQuality(stores: QualityStores, log: PredictionLogLocation, request: CanaryStageRequest, version: number, role: PredictionLogRole): Promise<SideQuality> {
  const report = await onlineQuality(stores, log, {
    ref: `${request.model}@${version}`,
    // One window over the whole range: a window of more requests than any range holds.
    window: { kind: 'requests', size: Number.MAX_SAFE_INTEGER },
    from: request.from,
    to: request.to,
    roles: [role],
  });
  const window = report.windows[0];
  if (!window) return { version, rows: 0, labelled: 0, estimated: figures(undefined), measured: null };
  return { version, rows: window.rows, labelled: window.labelled, estimated: figures(window.estimated), measured: window.measured ? figures(window.measured) : null };
}

/** Metrics as JSON can carry them: a figure that could not be computed (NaN) is null. */
function figures(values: Record<string, number> | undefined): QualityFigures {
  return Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, values && Number.isFinite(values[m]) ? values[m]! : null])) as QualityFigures;
}

async function artifactOf(metadata: MetadataStore, id: number | null): Promise<Artifact | undefined> {
  return id === null ? undefined : (await metadata.getArtifacts([id]))[0];
}

/** The Alert artifact an alert execution published. */
async function alertOf(metadata: MetadataStore, executionId: number): Promise<Artifact | undefined> {
  const output = (await metadata.getEvents({ executionIds: [executionId] })).find((e) => e.type === 'OUTPUT' && e.name === 'alert');
  return output ? artifactOf(metadata, output.artifactId) : undefined;
}
