/**
 * Deployments: how the online server routes a model name. A deployment names the
 * primary reference (`flights@champion` or `flights@3`), optionally a canary taking a
 * weighted share of traffic and a shadow that sees a copy of every request, and the
 * batching knobs. Rows are an append-only history recorded with who and why; the newest
 * row per model is live, and `rollback` re-applies the one it replaced, in one step.
 * Servers poll `latestId()` (one indexed max) to pick changes up like alias moves.
 *
 * Usage: `await deploymentStore(db).setDeployment({ modelName: 'flights', primary: 'flights@champion', canary: { ref: 'flights@4', weight: 0.1 } }, who)`
 */
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import type { Selectable } from 'kysely';
import type { DeploymentTable, LoomKysely } from '../metadata/db-schema.js';
import { lockDeployedModel } from '../registry/deployment-pins.js';
import { parseModelRef } from '../registry/model-ref.js';

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

export interface Who {
  actor: string;
  reason: string;
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
  const parsed = specSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'deployment';
    throw new LoomError('INVALID_ARGUMENT', `${field}: ${issue.message}`, { field, fix: 'see `loom deploy set --help`' });
  }
  const refs = [['primary', spec.primary], ['canary', spec.canary?.ref], ['shadow', spec.shadow]] as const;
  for (const [field, ref] of refs) {
    if (ref && parseModelRef(ref).name !== spec.modelName) {
      throw new LoomError('INVALID_ARGUMENT', `${field} "${ref}" is not a reference to model "${spec.modelName}"`, { field, fix: `write ${spec.modelName}@alias or ${spec.modelName}@version` });
    }
  }
  return parsed.data as DeploymentSpec;
}

function toDeployment(row: Selectable<DeploymentTable>): Deployment {
  return {
    id: Number(row.id),
    modelName: row.model_name,
    primary: row.primary_ref,
    canary: row.canary_ref ? { ref: row.canary_ref, weight: Number(row.canary_weight) } : null,
    shadow: row.shadow_ref,
    split: (SPLIT_MODES as readonly string[]).includes(row.split) ? (row.split as SplitMode) : 'hash',
    batch: {
      ...(row.max_batch_size !== null && { maxBatchSize: Number(row.max_batch_size) }),
      ...(row.max_batch_wait_us !== null && { maxWaitMicros: Number(row.max_batch_wait_us) }),
    },
    replacesId: row.replaces_id === null ? null : Number(row.replaces_id),
    actor: row.actor,
    reason: row.reason,
    createdAt: Number(row.created_at),
  };
}

/** Deployments in the Loom database (SQLite or PostgreSQL, through the shared Kysely). */
export class DeploymentStore {
  constructor(private readonly db: LoomKysely) {}

  /**
   * Makes `spec` the live deployment of its model, replacing the current one. Under the
   * model's registry lock, so it cannot interleave with deleting a version it pins;
   * NOT_FOUND or FAILED_PRECONDITION for a pinned version that is gone, archived or not READY.
   */
  async setDeployment(spec: DeploymentSpec, who: Who): Promise<Deployment> {
    const checked = checkedSpec(spec);
    return this.db.transaction().execute(async (trx) => {
      await lockDeployedModel(trx, checked);
      const current = await new DeploymentStore(trx).getDeployment(checked.modelName);
      return this.insert(trx, checked, current?.id ?? null, who);
    });
  }

  /** Re-applies the deployment the live one replaced; FAILED_PRECONDITION when there is none. */
  async rollback(modelName: string, who: Who): Promise<Deployment> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await new DeploymentStore(trx).getDeployment(modelName))) throw new LoomError('NOT_FOUND', `model "${modelName}" has no deployment`, { field: 'model', fix: 'list deployments with `loom deploy ls`' });
      // Read the live one again under the model's lock: a concurrent change may have just committed.
      await lockDeployedModel(trx, { modelName });
      const current = (await new DeploymentStore(trx).getDeployment(modelName))!;
      if (current.replacesId === null) {
        throw new LoomError('FAILED_PRECONDITION', `deployment #${current.id} of "${modelName}" is the first; there is nothing to roll back to`, { field: 'model', fix: 'set another deployment with `loom deploy set`' });
      }
      const row = await trx.selectFrom('deployment').selectAll().where('id', '=', current.replacesId).executeTakeFirstOrThrow();
      const previous = toDeployment(row);
      await lockDeployedModel(trx, previous);
      // The new row replaces what the restored one replaced, so a second rollback goes one further back.
      return this.insert(trx, previous, previous.replacesId, { actor: who.actor, reason: who.reason || `rollback of #${current.id} to #${previous.id}` });
    });
  }

  /** The live deployment of a model. */
  async getDeployment(modelName: string): Promise<Deployment | undefined> {
    const row = await this.db.selectFrom('deployment').selectAll().where('model_name', '=', modelName).orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? toDeployment(row) : undefined;
  }

  /** Every model's live deployment, by name. */
  async listDeployments(): Promise<Deployment[]> {
    const rows = await this.db
      .selectFrom('deployment')
      .selectAll()
      .where('id', 'in', (qb) => qb.selectFrom('deployment').select((eb) => eb.fn.max('id').as('id')).groupBy('model_name'))
      .orderBy('model_name')
      .execute();
    return rows.map(toDeployment);
  }

  /** A model's deployments, newest first. */
  async history(modelName: string): Promise<Deployment[]> {
    const rows = await this.db.selectFrom('deployment').selectAll().where('model_name', '=', modelName).orderBy('id', 'desc').execute();
    return rows.map(toDeployment);
  }

  /** The newest deployment id (0 for none): a cheap check for "anything changed?". */
  async latestId(): Promise<number> {
    const row = await this.db.selectFrom('deployment').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  private async insert(trx: LoomKysely, spec: DeploymentSpec, replacesId: number | null, who: Who): Promise<Deployment> {
    const row = await trx
      .insertInto('deployment')
      .values({
        model_name: spec.modelName,
        primary_ref: spec.primary,
        canary_ref: spec.canary?.ref ?? null,
        canary_weight: spec.canary?.weight ?? 0,
        shadow_ref: spec.shadow ?? null,
        split: spec.split ?? 'hash',
        max_batch_size: spec.batch?.maxBatchSize ?? null,
        max_batch_wait_us: spec.batch?.maxWaitMicros ?? null,
        replaces_id: replacesId,
        actor: who.actor,
        reason: who.reason,
        created_at: Date.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDeployment(row);
  }
}

/** FNV-1a of the id, as a number in [0, 1): the same id always lands on the same side of a split. */
export function hashUnit(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}
