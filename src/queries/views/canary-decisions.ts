/**
 * The answer of `/api/loom/deployments/:name/canary-decisions` (queries/canary-decisions.ts), as
 * types: the dashboard imports them too, so this module imports nothing (no Node).
 */

/** One side of a decision as the step wrote it. */
export interface DecisionSide {
  version: number;
  rows: number;
  labelled: number;
}

/**
 * One canary decision: the `CanaryDecision` artifact's properties (pipeline/artifact-types.ts,
 * whose module needs Node; the query builds these from the parsed properties, so the compiler
 * refuses the two parting), with where and when it was recorded and both sides' rows.
 */
export interface CanaryDecisionRecord {
  modelName: string;
  primaryVersion: number;
  canaryVersion: number;
  /** promote, rollback or hold. */
  outcome: string;
  /** measured, estimated or none. */
  basis: string;
  metric: string;
  /** The window's bounds, epoch ms, [from, to). */
  windowStart: number;
  windowEnd: number;
  primaryValue: number | null;
  canaryValue: number | null;
  aliasMoved: boolean;
  reason: string;
  artifactId: number;
  /** The `canary-decision` execution that published it. */
  executionId: number | null;
  recordedAt: number;
  /** Null when the step's `decision.json` could not be read. */
  primary: DecisionSide | null;
  canary: DecisionSide | null;
}
