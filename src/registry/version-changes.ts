/**
 * The history of a model's versions other than alias moves: who archived or restored
 * which version, when and why. Written in the same transaction as the change itself, so
 * a change is never without its record.
 */
import type { RegistryKysely } from './registry-tables.js';
import { liveModelId } from './registry-sql.js';
import type { Actor, VersionChange, VersionChangeKind } from './types.js';

export async function recordVersionChange(trx: RegistryKysely, change: { modelId: number; version: number; kind: VersionChangeKind; who: Actor; now: number }): Promise<void> {
  await trx
    .insertInto('model_version_change')
    .values({ model_id: change.modelId, version: change.version, kind: change.kind, actor: change.who.actor, reason: change.who.reason, changed_at: change.now })
    .execute();
}

/** Every recorded change of the model's versions, newest first; NOT_FOUND for an unknown model. */
export async function versionChanges(db: RegistryKysely, modelName: string): Promise<VersionChange[]> {
  const modelId = await liveModelId(db, modelName);
  const rows = await db.selectFrom('model_version_change').selectAll().where('model_id', '=', modelId).orderBy('id', 'desc').execute();
  return rows.map((row) => ({ modelName, version: row.version, kind: row.kind as VersionChangeKind, actor: row.actor, reason: row.reason, changedAt: Number(row.changed_at) }));
}
