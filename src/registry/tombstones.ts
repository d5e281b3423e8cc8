/**
 * Deleting a model without erasing it: the model and its versions are marked deleted with
 * who and when, the model's row is renamed to `<name>@deleted-<id>` (a name no live model
 * can have, so the name is free for a new model at once, as MLflow users expect), and its
 * versions, alias moves and requests stay where they were. Live lookups see none of it;
 * `modelTombstones` reads it back under the name the model had.
 */
import type { Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import { pinnedVersions } from './deployment-pins.js';
import { KyselyDeploymentStore } from './kysely-deployment-store.js';
import type { RegisteredModelTable, RegistryKysely } from './registry-tables.js';
import { toAliasMove, toAliasRequest, toModelVersion, toRegisteredModel } from './registry-rows.js';
import { withModelLock } from './registry-sql.js';
import type { Actor, ModelTombstone } from './types.js';

/** What still holds the model up: set aliases, or a live deployment that pins its versions by number. */
async function refuseIfServed(trx: RegistryKysely, name: string, modelId: number): Promise<void> {
  const held = await trx.selectFrom('model_alias').select(['alias', 'version']).where('model_id', '=', modelId).orderBy('alias').execute();
  if (held.length > 0) {
    throw new LoomError('FAILED_PRECONDITION', `cannot delete "${name}": ${held.map((a) => `@${a.alias} -> ${a.version}`).join(', ')} still set`, {
      field: 'name',
      fix: `unset its aliases first (\`loom models alias unset ${name} ${held[0]!.alias}\`)`,
    });
  }
  const live = await new KyselyDeploymentStore(trx).getDeployment(name);
  const pins = live ? pinnedVersions(live) : [];
  if (pins.length > 0) {
    throw new LoomError('FAILED_PRECONDITION', `cannot delete "${name}": the live deployment serves ${pins.map((p) => p.ref).join(', ')}`, {
      field: 'name',
      fix: `deploy something else first (\`loom deploy set ${name} ...\`)`,
    });
  }
}

/** Marks a model and its live versions deleted under its row lock and returns the tombstone; FAILED_PRECONDITION while it is in use. */
export function tombstoneModel(db: RegistryKysely, name: string, who: Actor): Promise<ModelTombstone> {
  return withModelLock(db, name, async (trx, modelId, now) => {
    await refuseIfServed(trx, name, modelId);
    await trx.updateTable('model_version').set({ deleted_at: now, deleted_by: who.actor }).where('model_id', '=', modelId).where('deleted_at', 'is', null).execute();
    await trx
      .updateTable('registered_model')
      .set({ name: `${name}@deleted-${modelId}`, deleted_name: name, deleted_at: now, deleted_by: who.actor })
      .where('id', '=', modelId)
      .execute();
    return readTombstone(trx, await trx.selectFrom('registered_model').selectAll().where('id', '=', modelId).executeTakeFirstOrThrow());
  });
}

/** The models once deleted under this name, newest deletion first (empty when there are none). */
export async function modelTombstones(db: RegistryKysely, name: string): Promise<ModelTombstone[]> {
  const rows = await db.selectFrom('registered_model').selectAll().where('deleted_name', '=', name).orderBy('id', 'desc').execute();
  const tombstones: ModelTombstone[] = [];
  for (const row of rows) tombstones.push(await readTombstone(db, row));
  return tombstones;
}

async function readTombstone(db: RegistryKysely, row: Selectable<RegisteredModelTable>): Promise<ModelTombstone> {
  const name = row.deleted_name ?? row.name;
  const versions = await db.selectFrom('model_version').selectAll().where('model_id', '=', row.id).orderBy('version').execute();
  const moves = await db.selectFrom('alias_move').selectAll().where('model_id', '=', row.id).orderBy('id').execute();
  const requests = await db.selectFrom('alias_request').selectAll().where('model_id', '=', row.id).orderBy('id').execute();
  return {
    model: toRegisteredModel({ ...row, name }, {}),
    versions: versions.map((v) => toModelVersion({ ...v, model_name: name })),
    aliasMoves: moves.map((m) => toAliasMove(m, name)),
    requests: requests.map((r) => toAliasRequest(r, name)),
    deletedAt: row.deleted_at ?? 0,
    deletedBy: row.deleted_by ?? '',
  };
}
