/**
 * The monitoring decisions around a model version, for its lineage: the alerts that fired
 * about it and the canary decisions that judged it (executions that took its artifact as
 * an input), and the alert whose retraining produced it (the `triggeredBy` of the pipeline
 * run that made it, `monitor/alerts/retrain-link.ts`), with what became of the retrainings an
 * alert requested and of a canary decision's taking its canary out (`monitor/canary-clearing.ts`).
 *
 * Usage: `const decisions = await modelDecisions(platform.metadata, artifactId, producingExecutionIds);`
 */
import type { JsonObject } from '../core/json.js';
import type { MetadataStore } from '../metadata/store.js';
import { retrainsOf, type RetrainRecord } from '../monitor/alerts/retrain-link.js';
import { canaryClearingOf, type CanaryClearing } from '../monitor/canary-clearing.js';

/** The components whose executions are monitoring decisions. */
const DECISION_COMPONENTS = new Set(['alert', 'canary-decision']);

export interface ModelDecision {
  executionId: number;
  step: string;
  component: string;
  /** How it relates to the version: an alert or decision about it, or the alert that caused the run that made it. */
  relation: 'about this version' | 'triggered the run that made it';
  state: string;
  /** Why the execution failed, when it did (a canary decision whose step failed after moving the alias). */
  error: string | null;
  endedAt: number | null;
  /** The decision's output properties (the alert's rule, window and actions; the canary's outcome and figures). */
  outcome: JsonObject | null;
  /** For an alert, what became of the retrainings it requested: the run each started, or why it failed. */
  retrains: RetrainRecord[];
  /** For a canary decision whose canary was not taken out at once: why that failed, then that a later check took it out. */
  canaryClearing: CanaryClearing | null;
}

export async function modelDecisions(metadata: MetadataStore, artifactId: number, producingExecutionIds: readonly number[]): Promise<ModelDecision[]> {
  const about = (await metadata.getEvents({ artifactIds: [artifactId] })).filter((e) => e.type === 'INPUT').map((e) => e.executionId);
  const triggers = new Set<number>();
  for (const id of producingExecutionIds.slice(0, 1)) {
    for (const context of await metadata.getContextsOfExecution(id)) {
      const trigger = (context.properties.triggeredBy as { alertExecutionId?: unknown } | undefined)?.alertExecutionId;
      if (typeof trigger === 'number') triggers.add(trigger);
    }
  }
  const decisions: ModelDecision[] = [];
  for (const [ids, relation] of [[[...triggers], 'triggered the run that made it'], [[...new Set(about)], 'about this version']] as const) {
    for (const id of ids) {
      const execution = await metadata.getExecution(id);
      if (!execution || !DECISION_COMPONENTS.has(execution.typeName)) continue;
      const output = (await metadata.getEvents({ executionIds: [id] })).find((e) => e.type === 'OUTPUT');
      const artifact = output ? (await metadata.getArtifacts([output.artifactId]))[0] : undefined;
      decisions.push({ executionId: id, step: execution.stepName, component: execution.typeName, relation, state: execution.state, error: execution.error, endedAt: execution.endedAt, outcome: artifact?.properties ?? null, retrains: retrainsOf(execution), canaryClearing: canaryClearingOf(execution) ?? null });
    }
  }
  return decisions;
}
