/**
 * Deployments: how the online server routes a model name. A deployment names the
 * primary reference (`flights@champion` or `flights@3`), optionally a canary taking a
 * weighted share of traffic and a shadow that sees a copy of every request, and the
 * batching knobs. Deployments are an append-only history recorded with who and why; the
 * newest per model is live, and `rollback` re-applies the one it replaced, in one step.
 * Servers poll `latestId()` to pick changes up like alias moves. `KyselyDeploymentStore`
 * implements it on SQLite and PostgreSQL; `deployment-store.contract.ts` is its contract.
 *
 * Usage: `await platform.deployments.setDeployment({ modelName: 'flights', primary: 'flights@champion', canary: { ref: 'flights@4', weight: 0.1 } }, who)`
 */
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { parseModelRef } from './model-ref.js';
import type { Actor } from './types.js';

export const SPLIT_MODES = ['hash', 'random'] as const;
export type SplitMode = (typeof SPLIT_MODES)[number];

export interface DeploymentSpec {
  modelName: string;
  /** `name@alias` or `name@version`. */
  primary: string;
  canary?: { ref: string; weight: number } | null;
  shadow?: string | null;
  /** How canary traffic is chosen: by a hash of the request id (the same id always lands on the same side) or at random. */
  split?: SplitMode;
  batch?: { maxBatchSize?: number; maxWaitMicros?: number };
}

export interface Deployment extends Required<Omit<DeploymentSpec, 'batch'>> {
  id: number;
  batch: { maxBatchSize?: number; maxWaitMicros?: number };
  replacesId: number | null;
  actor: string;
  reason: string;
  createdAt: number;
}

/** Who changes a deployment and why (the registry's `Actor`). */
export type Who = Actor;

/** The deployments of every served model. */
export interface DeploymentStore {
  /**
   * Makes `spec` the live deployment of its model, replacing the current one. It cannot
   * interleave with deleting a version it pins; INVALID_ARGUMENT for a bad spec, NOT_FOUND or
   * FAILED_PRECONDITION for an unregistered model or a pinned version that is gone, archived or not READY.
   * With `replacing`, only if the live deployment is still that one (FAILED_PRECONDITION when it
   * changed since the caller read it), so a change made from a stale read cannot undo a newer one.
   */
  setDeployment(spec: DeploymentSpec, who: Who, options?: { replacing?: number }): Promise<Deployment>;
  /** Re-applies the deployment the live one replaced; NOT_FOUND without a deployment, FAILED_PRECONDITION when there is nothing before it. */
  rollback(modelName: string, who: Who): Promise<Deployment>;
  /** The live deployment of a model. */
  getDeployment(modelName: string): Promise<Deployment | undefined>;
  /** Every model's live deployment, by name. */
  listDeployments(): Promise<Deployment[]>;
  /** A model's deployments, newest first. */
  history(modelName: string): Promise<Deployment[]>;
  /** The newest deployment id (0 for none): a cheap check for "anything changed?". */
  latestId(): Promise<number>;
}

const refSchema = z.string().min(1).refine((ref) => {
  try {
    parseModelRef(ref);
    return true;
  } catch {
    return false;
  }
}, 'write name@alias or name@version');

const specSchema = z.object({
  modelName: z.string().min(1),
  primary: refSchema,
  canary: z.object({ ref: refSchema, weight: z.number().min(0).max(1) }).nullish(),
  shadow: refSchema.nullish(),
  split: z.enum(SPLIT_MODES).optional(),
  batch: z.object({ maxBatchSize: z.number().int().min(1).max(100_000).optional(), maxWaitMicros: z.number().int().min(0).max(10_000_000).optional() }).optional(),
});

/** Checks a spec: every reference must name the deployed model. */
export function checkedSpec(spec: DeploymentSpec): DeploymentSpec {
  const parsed = parseInput(specSchema, spec, { what: 'deployment', fix: 'see `loom deploy set --help`' });
  const refs = [['primary', spec.primary], ['canary', spec.canary?.ref], ['shadow', spec.shadow]] as const;
  for (const [field, ref] of refs) {
    if (ref && parseModelRef(ref).name !== spec.modelName) {
      throw new LoomError('INVALID_ARGUMENT', `${field} "${ref}" is not a reference to model "${spec.modelName}"`, { field, fix: `write ${spec.modelName}@alias or ${spec.modelName}@version` });
    }
  }
  return parsed as DeploymentSpec;
}
