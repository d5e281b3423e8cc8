/**
 * Changes to existing model versions for the Kysely registry store: description and
 * status, tags, archive and restore, delete, and what still uses a version. Each runs in
 * one transaction that first locks the model row, so concurrent edits queue and a refused
 * change (a version in use, a status that cannot change) leaves everything as it was.
 */
import type { Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { RegistryKysely, ModelVersionTable } from './registry-tables.js';
import { parseJsonRecord, requireOneOf } from '../metadata/query-helpers.js';
import { checkedTagKey } from './registry-rows.js';
import { KyselyDeploymentStore } from './kysely-deployment-store.js';
import { pinnedVersions } from './deployment-pins.js';
import { aliasesOfVersion, liveModelId, versionRow, withModelLock } from './registry-sql.js';
import { recordVersionChange } from './version-changes.js';
import { MODEL_VERSION_STATUSES, type Actor, type ModelVersionUpdate, type VersionUse } from './types.js';

type Edit = (trx: RegistryKysely, row: Selectable<ModelVersionTable>, now: number) => Promise<void>;

/** Runs a change to one version under the model's lock; NOT_FOUND for an unknown model or version. */
async function editVersion(db: RegistryKysely, modelName: string, version: number, edit: Edit): Promise<void> {
  await withModelLock(db, modelName, async (trx, modelId, now) => edit(trx, await versionRow(trx, modelName, modelId, version), now));
}

/**
 * The roles (`primary`, `canary`, `shadow`) in which the live deployment of a model (the
 * newest row of serving's deployment history) pins this version by number.
 */
export async function deploymentsUsing(db: RegistryKysely, modelName: string, version: number): Promise<string[]> {
  const live = await new KyselyDeploymentStore(db).getDeployment(modelName);
  if (!live) return [];
  return pinnedVersions(live)
    .filter((pin) => pin.version === version)
    .map((pin) => `${pin.role} ${pin.ref} (deployment ${live.id})`);
}

/** FAILED_PRECONDITION naming the aliases and deployments when a version is still in use. */
async function refuseIfInUse(trx: RegistryKysely, modelName: string, modelId: number, version: number, doing: string): Promise<void> {
  const deployments = await deploymentsUsing(trx, modelName, version);
  if (deployments.length > 0) {
    throw new LoomError('FAILED_PRECONDITION', `cannot ${doing} version ${version} of "${modelName}": the live deployment serves it (${deployments.join(', ')})`, {
      field: 'version',
      fix: `deploy another version first (\`loom deploy set ${modelName} ...\`)`,
    });
  }
  const aliases = await aliasesOfVersion(trx, modelId, version);
  if (aliases.length > 0) {
    throw new LoomError('FAILED_PRECONDITION', `cannot ${doing} version ${version} of "${modelName}": alias ${aliases.map((a) => `@${a}`).join(', ')} still points at it`, {
      field: 'version',
      fix: `move the alias to another version (\`loom models alias set ${modelName} ${aliases[0]} <version>\`) or unset it first`,
    });
  }
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new LoomError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  return value;
}

/** Deletes a tag from a tag map; NOT_FOUND naming the owner when it is absent. */
export function removeTag(tags: Record<string, string>, key: string, owner: string): void {
  if (!Object.hasOwn(tags, key)) throw new LoomError('NOT_FOUND', `${owner} has no tag "${key}"`, { field: 'key' });
  delete tags[key];
}

export async function updateModelVersion(db: RegistryKysely, modelName: string, version: number, update: ModelVersionUpdate): Promise<void> {
  const description = update.description === undefined ? undefined : requireString(update.description, 'description');
  const status = update.status === undefined ? undefined : requireOneOf(update.status, MODEL_VERSION_STATUSES, 'status');
  await editVersion(db, modelName, version, async (trx, row, now) => {
    if (status !== undefined && status !== row.status && row.status !== 'PENDING_REGISTRATION') {
      throw new LoomError('FAILED_PRECONDITION', `version ${version} of "${modelName}" is ${row.status}; only a PENDING_REGISTRATION version changes status`, {
        field: 'status',
        fix: 'register a new version instead',
      });
    }
    await trx
      .updateTable('model_version')
      .set({ description: description ?? row.description, status: status ?? row.status, updated_at: now })
      .where('id', '=', row.id)
      .execute();
  });
}

/** Sets (value is a string) or deletes (value undefined) one tag of a version. */
export async function editVersionTag(db: RegistryKysely, modelName: string, version: number, key: string, value: string | undefined): Promise<void> {
  const checkedKey = value === undefined ? key : checkedTagKey(key);
  const checkedValue = value === undefined ? undefined : requireString(value, 'value');
  await editVersion(db, modelName, version, async (trx, row, now) => {
    const tags = parseJsonRecord<string>(row.tags);
    if (checkedValue === undefined) removeTag(tags, checkedKey, `version ${version} of "${modelName}"`);
    else tags[checkedKey] = checkedValue;
    await trx.updateTable('model_version').set({ tags: canonicalJson(tags), updated_at: now }).where('id', '=', row.id).execute();
  });
}

/** Archives (true) or restores (false) a version, recording who and why; archiving one in use is FAILED_PRECONDITION. Idempotent. */
export async function setArchived(db: RegistryKysely, modelName: string, version: number, archived: boolean, who: Actor): Promise<void> {
  await editVersion(db, modelName, version, async (trx, row, now) => {
    if ((row.archived_at !== null) === archived) return;
    if (archived) await refuseIfInUse(trx, modelName, row.model_id, version, 'archive');
    await trx.updateTable('model_version').set({ archived_at: archived ? now : null, updated_at: now }).where('id', '=', row.id).execute();
    await recordVersionChange(trx, { modelId: row.model_id, version, kind: archived ? 'archive' : 'restore', who, now });
  });
}

/** Marks a version deleted (its row, and its number, stay); FAILED_PRECONDITION while it is in use. */
export async function deleteModelVersion(db: RegistryKysely, modelName: string, version: number, who: Actor): Promise<void> {
  await editVersion(db, modelName, version, async (trx, row, now) => {
    await refuseIfInUse(trx, modelName, row.model_id, version, 'delete');
    await trx.updateTable('model_version').set({ deleted_at: now, deleted_by: who.actor, updated_at: now }).where('id', '=', row.id).execute();
  });
}

export async function isVersionInUse(db: RegistryKysely, modelName: string, version: number): Promise<VersionUse> {
  const modelId = await liveModelId(db, modelName);
  await versionRow(db, modelName, modelId, version);
  const aliases = await aliasesOfVersion(db, modelId, version);
  const deployments = await deploymentsUsing(db, modelName, version);
  return { inUse: aliases.length + deployments.length > 0, aliases, deployments };
}
