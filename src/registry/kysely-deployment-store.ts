/**
 * The deployment store on the Loom database (SQLite or PostgreSQL, through the shared
 * Kysely): one row per deployment, the newest per model live. A change takes the model's
 * registry row lock (`deployment-pins.ts`), as alias moves and version deletes do.
 *
 * Usage: `new KyselyDeploymentStore(db)` (done by `openPlatform`).
 */
import type { Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import { lockDeployedModel } from './deployment-pins.js';
import { checkedSpec, SPLIT_MODES, type Deployment, type DeploymentSpec, type DeploymentStore, type SplitMode, type Who } from './deployment-store.js';
import type { DeploymentTable, RegistryKysely } from './registry-tables.js';

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
export class KyselyDeploymentStore implements DeploymentStore {
  /** @param db the shared connection, typed with the registry's tables (a deployment locks its model's row). */
  constructor(private readonly db: RegistryKysely) {}

  /**
   * Makes `spec` the live deployment of its model, replacing the current one. Under the
   * model's registry lock, so it cannot interleave with deleting a version it pins;
   * NOT_FOUND or FAILED_PRECONDITION for a pinned version that is gone, archived or not READY,
   * or when the live deployment is no longer `replacing`.
   */
  async setDeployment(spec: DeploymentSpec, who: Who, options: { replacing?: number } = {}): Promise<Deployment> {
    const checked = checkedSpec(spec);
    return this.db.transaction().execute(async (trx) => {
      await lockDeployedModel(trx, checked);
      const current = await new KyselyDeploymentStore(trx).getDeployment(checked.modelName);
      if (options.replacing !== undefined && current?.id !== options.replacing) {
        throw new LoomError('FAILED_PRECONDITION', `the live deployment of "${checked.modelName}" is ${current ? `#${current.id}` : 'none'} now, not #${options.replacing}: it changed since it was read`, {
          field: 'model',
          fix: `see what changed with \`loom deploy history ${checked.modelName}\`, then decide on the live deployment`,
        });
      }
      return this.insert(trx, checked, current?.id ?? null, who);
    });
  }

  /** Re-applies the deployment the live one replaced; FAILED_PRECONDITION when there is none. */
  async rollback(modelName: string, who: Who): Promise<Deployment> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await new KyselyDeploymentStore(trx).getDeployment(modelName))) throw new LoomError('NOT_FOUND', `model "${modelName}" has no deployment`, { field: 'model', fix: 'list deployments with `loom deploy ls`' });
      // Read the live one again under the model's lock: a concurrent change may have just committed.
      await lockDeployedModel(trx, { modelName });
      const current = (await new KyselyDeploymentStore(trx).getDeployment(modelName))!;
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

  private async insert(trx: RegistryKysely, spec: DeploymentSpec, replacesId: number | null, who: Who): Promise<Deployment> {
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
