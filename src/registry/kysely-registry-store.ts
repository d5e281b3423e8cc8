/**
 * The one RegistryStore implementation, over Kysely, sharing the database (and the
 * Kysely instance) with the metadata store. Version numbers, tags and alias moves are
 * written under the registered model's row lock: every write transaction starts by
 * updating that row, which on PostgreSQL locks it and on SQLite runs under BEGIN
 * IMMEDIATE, so concurrent writers queue instead of colliding or losing updates.
 * Alias moves and approvals live in `alias-writes.ts`, edits of versions in `version-writes.ts`.
 *
 * Usage: `const { registry } = await openPlatform(loadConfig()); await registry.createModelVersion({ modelName, source })`
 */
import { sql, type SqlBool } from 'kysely';
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { RegistryKysely } from './registry-tables.js';
import { idAfterToken, pageSizeOf, parseJsonRecord, requireName, requireObject, requireOneOf, textAfterToken, toPage } from '../metadata/query-helpers.js';
import type { Page, PageRequest } from '../metadata/types.js';
import * as aliases from './alias-writes.js';
import * as versions from './version-writes.js';
import { removeTag, requireString } from './version-writes.js';
import {
  checkedAlias,
  checkedLineage,
  checkedMetrics,
  checkedModelName,
  checkedSignature,
  checkedTagKey,
  checkedTags,
  toModelVersion,
  toRegisteredModel,
} from './registry-rows.js';
import { filterConditions, liveModelId, notFoundModel, withModelLock } from './registry-sql.js';
import type { RegistryStore } from './store.js';
import { modelTombstones, tombstoneModel } from './tombstones.js';
import { versionChanges } from './version-changes.js';
import {
  MODEL_VERSION_STATUSES,
  type Actor,
  type AliasMove,
  type AliasMoveRequest,
  type ModelFilter,
  type ModelTombstone,
  type ModelVersion,
  type ModelVersionUpdate,
  type NewModelVersion,
  type RegisteredModel,
  type VersionChange,
  type VersionFilter,
  type VersionUse,
} from './types.js';

/** Recorded for archives and restores made without naming anyone (MLflow's transition-stage API). */
const UNKNOWN_ACTOR: Actor = { actor: 'unknown', reason: '' };

export class KyselyRegistryStore implements RegistryStore {
  /**
   * @param db the shared query builder (the metadata store may use the same one)
   * @param onClose what `close()` does; `openPlatform` passes the shared database's close
   */
  constructor(
    private readonly db: RegistryKysely,
    private readonly onClose: () => Promise<void>,
  ) {}

  async createRegisteredModel(model: { name: string; description?: string; tags?: Record<string, string> }): Promise<RegisteredModel> {
    const name = checkedModelName(model.name);
    const now = Date.now();
    const row = await this.db
      .insertInto('registered_model')
      .values({ name, description: model.description ?? '', tags: checkedTags(model.tags), latest_version: 0, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new LoomError('ALREADY_EXISTS', `registered model "${name}" already exists`, { field: 'name' });
    return toRegisteredModel(row, {});
  }

  async ensureRegisteredModel(name: string): Promise<RegisteredModel> {
    const checked = checkedModelName(name);
    const now = Date.now();
    await this.db
      .insertInto('registered_model')
      .values({ name: checked, description: '', tags: '{}', latest_version: 0, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.getRegisteredModel(checked))!;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    return (await this.getRegisteredModels([name]))[0];
  }

  async getRegisteredModels(names: string[]): Promise<RegisteredModel[]> {
    if (names.length === 0) return [];
    const rows = await this.db.selectFrom('registered_model').selectAll().where('name', 'in', [...new Set(names)]).where('deleted_at', 'is', null).orderBy('name').execute();
    const aliasMap = await this.aliasesOf(rows.map((r) => r.id));
    return rows.map((r) => toRegisteredModel(r, aliasMap.get(r.id) ?? {}));
  }

  async listRegisteredModels(request: PageRequest & { filter?: ModelFilter }): Promise<Page<RegisteredModel>> {
    const size = pageSizeOf(request);
    const after = textAfterToken(request);
    let query = this.db.selectFrom('registered_model').selectAll().where('deleted_at', 'is', null);
    for (const condition of filterConditions(this.db, { name: 'registered_model.name', tags: 'registered_model.tags' }, request.filter)) query = query.where(condition);
    if (after !== undefined) query = query.where('name', '>', after);
    const rows = await query.orderBy('name').limit(size + 1).execute();
    const aliasMap = await this.aliasesOf(rows.slice(0, size).map((r) => r.id));
    return toPage(rows, size, (r) => r.name, (r) => toRegisteredModel(r, aliasMap.get(r.id) ?? {}));
  }

  async updateRegisteredModel(name: string, update: { description?: string }): Promise<RegisteredModel> {
    const description = update.description === undefined ? undefined : requireString(update.description, 'description');
    await withModelLock(this.db, name, async (trx) => {
      if (description !== undefined) await trx.updateTable('registered_model').set({ description }).where('name', '=', name).execute();
    });
    return (await this.getRegisteredModel(name))!;
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    const target = checkedModelName(newName, 'newName');
    await withModelLock(this.db, name, async (trx, modelId) => {
      const { approval_aliases: rule } = await trx.selectFrom('registered_model').select('approval_aliases').where('id', '=', modelId).executeTakeFirstOrThrow();
      if (rule !== '[]') {
        throw new LoomError('FAILED_PRECONDITION', `cannot rename "${name}": its approval rule protects ${(JSON.parse(rule) as string[]).map((a) => `@${a}`).join(', ')} under this name`, {
          field: 'name',
          fix: `an admin lifts the rule first (\`loom models require-approval ${name}\`), renames, and sets it again on the new name`,
        });
      }
      const taken = await trx.selectFrom('registered_model').select('id').where('name', '=', target).executeTakeFirst();
      if (taken && taken.id !== modelId) throw new LoomError('ALREADY_EXISTS', `registered model "${target}" already exists`, { field: 'newName' });
      await trx.updateTable('registered_model').set({ name: target }).where('id', '=', modelId).execute();
    });
    return (await this.getRegisteredModel(target))!;
  }

  deleteRegisteredModel(name: string, who: Actor = UNKNOWN_ACTOR): Promise<ModelTombstone> {
    return tombstoneModel(this.db, name, aliases.checkedActor(who));
  }

  modelTombstones(name: string): Promise<ModelTombstone[]> {
    return modelTombstones(this.db, name);
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<RegisteredModel> {
    return this.editModelTags(name, (tags) => void (tags[checkedTagKey(key)] = requireString(value, 'value')));
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<RegisteredModel> {
    return this.editModelTags(name, (tags) => removeTag(tags, key, `model "${name}"`));
  }

  async setApprovalRule(name: string, aliasList: string[]): Promise<RegisteredModel> {
    if (!Array.isArray(aliasList)) throw new LoomError('INVALID_ARGUMENT', 'aliases must be a list of alias names', { field: 'aliases' });
    const checked = [...new Set(aliasList.map((a) => checkedAlias(a)))].sort();
    await withModelLock(this.db, name, async (trx) => {
      await trx.updateTable('registered_model').set({ approval_aliases: JSON.stringify(checked) }).where('name', '=', name).execute();
    });
    return (await this.getRegisteredModel(name))!;
  }

  async createModelVersion(version: NewModelVersion): Promise<ModelVersion> {
    const modelName = checkedModelName(version.modelName, 'modelName');
    const values = {
      source: requireName(version.source, 'source'),
      artifact_id: version.artifactId ?? null,
      run_id: version.runId ?? null,
      status: requireOneOf(version.status ?? 'READY', MODEL_VERSION_STATUSES, 'status'),
      description: version.description ?? '',
      signature: checkedSignature(version.signature),
      metrics: checkedMetrics(version.metrics),
      tags: checkedTags(version.tags),
      properties: canonicalJson(requireObject(version.properties, 'properties')),
      lineage: checkedLineage(version.lineage),
    };
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      // The increment takes the row lock, so the number is ours alone until commit.
      const model = await trx
        .updateTable('registered_model')
        .set((eb) => ({ latest_version: eb('latest_version', '+', 1), updated_at: now }))
        .where('name', '=', modelName)
        .where('deleted_at', 'is', null)
        .returning(['id', 'latest_version'])
        .executeTakeFirst();
      if (!model) throw notFoundModel(modelName);
      const row = await trx
        .insertInto('model_version')
        .values({ ...values, model_id: model.id, version: model.latest_version, created_at: now, updated_at: now, archived_at: null })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toModelVersion({ ...row, model_name: modelName });
    });
  }

  async getModelVersion(modelName: string, version: number): Promise<ModelVersion | undefined> {
    const row = await this.selectVersions(this.db).where('registered_model.name', '=', modelName).where('model_version.version', '=', version).executeTakeFirst();
    return row && toModelVersion(row);
  }

  /** Versions newest first; NOT_FOUND for an unknown model. */
  async listModelVersions(modelName: string, request: PageRequest): Promise<Page<ModelVersion>> {
    const size = pageSizeOf(request);
    const before = idAfterToken(request);
    const modelId = await this.modelIdOf(modelName);
    let query = this.selectVersions(this.db).where('model_version.model_id', '=', modelId);
    if (before !== undefined) query = query.where('model_version.version', '<', before);
    const rows = await query.orderBy('model_version.version', 'desc').limit(size + 1).execute();
    return toPage(rows, size, (r) => r.version, toModelVersion);
  }

  async searchModelVersions(request: PageRequest & { filter?: VersionFilter }): Promise<Page<ModelVersion>> {
    const size = pageSizeOf(request);
    const before = idAfterToken(request);
    const filter = request.filter ?? {};
    let query = this.selectVersions(this.db).select('model_version.id as row_id');
    for (const condition of filterConditions(this.db, { name: 'registered_model.name', tags: 'model_version.tags' }, filter)) query = query.where(condition);
    if (filter.runId !== undefined) query = query.where('model_version.run_id', '=', filter.runId);
    if (filter.source !== undefined) query = query.where('model_version.source', '=', filter.source);
    if (filter.excludeArchived) query = query.where('model_version.archived_at', 'is', null);
    if (before !== undefined) query = query.where('model_version.id', '<', before);
    const rows = await query.orderBy('model_version.id', 'desc').limit(size + 1).execute();
    return toPage(rows, size, (r) => r.row_id, toModelVersion);
  }

  async latestVersions(modelName: string): Promise<ModelVersion[]> {
    await this.modelIdOf(modelName);
    return (await this.latestVersionsOf([modelName])).get(modelName) ?? [];
  }

  async latestVersionsOf(modelNames: string[]): Promise<Map<string, ModelVersion[]>> {
    const byModel = new Map<string, ModelVersion[]>();
    if (modelNames.length === 0) return byModel;
    // One query for every model: the versions that are the newest of their model among the
    // active ones, or among the archived ones (MLflow's latest per stage).
    const rows = await this.selectVersions(this.db)
      .where('registered_model.name', 'in', [...new Set(modelNames)])
      .where(
        sql<SqlBool>`model_version.version = (select max(newer.version) from model_version newer
          where newer.model_id = model_version.model_id and newer.deleted_at is null and (newer.archived_at is null) = (model_version.archived_at is null))`,
      )
      .orderBy('model_version.version', 'desc')
      .execute();
    for (const row of rows) {
      const version = toModelVersion(row);
      byModel.set(version.modelName, [...(byModel.get(version.modelName) ?? []), version]);
    }
    return byModel;
  }

  async updateModelVersion(modelName: string, version: number, update: ModelVersionUpdate): Promise<ModelVersion> {
    await versions.updateModelVersion(this.db, modelName, version, update);
    return (await this.getModelVersion(modelName, version))!;
  }

  async setModelVersionTag(modelName: string, version: number, key: string, value: string): Promise<ModelVersion> {
    await versions.editVersionTag(this.db, modelName, version, key, requireString(value, 'value'));
    return (await this.getModelVersion(modelName, version))!;
  }

  async deleteModelVersionTag(modelName: string, version: number, key: string): Promise<ModelVersion> {
    await versions.editVersionTag(this.db, modelName, version, key, undefined);
    return (await this.getModelVersion(modelName, version))!;
  }

  async archiveModelVersion(modelName: string, version: number, who: Actor = UNKNOWN_ACTOR): Promise<ModelVersion> {
    await versions.setArchived(this.db, modelName, version, true, aliases.checkedActor(who));
    return (await this.getModelVersion(modelName, version))!;
  }

  async restoreModelVersion(modelName: string, version: number, who: Actor = UNKNOWN_ACTOR): Promise<ModelVersion> {
    await versions.setArchived(this.db, modelName, version, false, aliases.checkedActor(who));
    return (await this.getModelVersion(modelName, version))!;
  }

  versionChanges(modelName: string): Promise<VersionChange[]> {
    return versionChanges(this.db, modelName);
  }

  deleteModelVersion(modelName: string, version: number, who: Actor = UNKNOWN_ACTOR): Promise<void> {
    return versions.deleteModelVersion(this.db, modelName, version, aliases.checkedActor(who));
  }

  isVersionInUse(modelName: string, version: number): Promise<VersionUse> {
    return versions.isVersionInUse(this.db, modelName, version);
  }

  setAlias(modelName: string, alias: string, version: number, who: Actor): Promise<AliasMove> {
    return aliases.setAlias(this.db, modelName, alias, version, who);
  }

  deleteAlias(modelName: string, alias: string, who: Actor): Promise<AliasMove> {
    return aliases.deleteAlias(this.db, modelName, alias, who);
  }

  async getVersionByAlias(modelName: string, alias: string): Promise<ModelVersion | undefined> {
    const row = await this.selectVersions(this.db)
      .innerJoin('model_alias', (join) =>
        join.onRef('model_alias.model_id', '=', 'model_version.model_id').onRef('model_alias.version', '=', 'model_version.version'),
      )
      .where('registered_model.name', '=', modelName)
      .where('model_alias.alias', '=', alias)
      .executeTakeFirst();
    return row && toModelVersion(row);
  }

  aliasHistory(modelName: string, alias: string): Promise<AliasMove[]> {
    return aliases.aliasHistory(this.db, modelName, alias);
  }

  rollbackAlias(modelName: string, alias: string, who: Actor): Promise<AliasMove> {
    return aliases.rollbackAlias(this.db, modelName, alias, who);
  }

  requestAliasMove(modelName: string, alias: string, version: number, who: Actor): Promise<AliasMoveRequest> {
    return aliases.requestAliasMove(this.db, modelName, alias, version, who);
  }

  approveAliasMove(requestId: number, who: Actor): Promise<{ request: AliasMoveRequest; move: AliasMove }> {
    return aliases.approveAliasMove(this.db, requestId, who);
  }

  rejectAliasMove(requestId: number, who: Actor): Promise<AliasMoveRequest> {
    return aliases.rejectAliasMove(this.db, requestId, who);
  }

  getAliasRequest(requestId: number): Promise<AliasMoveRequest | undefined> {
    return aliases.getAliasRequest(this.db, requestId);
  }

  listAliasRequests(modelName: string, options?: { pendingOnly?: boolean }): Promise<AliasMoveRequest[]> {
    return aliases.listAliasRequests(this.db, modelName, options);
  }

  async close(): Promise<void> {
    await this.onClose();
  }

  /** Live versions (of live models: a deleted model's versions are deleted with it). */
  private selectVersions(db: RegistryKysely) {
    return db
      .selectFrom('model_version')
      .innerJoin('registered_model', 'registered_model.id', 'model_version.model_id')
      .selectAll('model_version')
      .select('registered_model.name as model_name')
      .where('model_version.deleted_at', 'is', null);
  }

  private modelIdOf(modelName: string): Promise<number> {
    return liveModelId(this.db, modelName);
  }

  /** Read-modify-write of a model's tags under its row lock, so concurrent tag writes never lose each other. */
  private async editModelTags(name: string, edit: (tags: Record<string, string>) => void): Promise<RegisteredModel> {
    await withModelLock(this.db, name, async (trx, modelId) => {
      const row = await trx.selectFrom('registered_model').select('tags').where('id', '=', modelId).executeTakeFirstOrThrow();
      const tags = parseJsonRecord<string>(row.tags);
      edit(tags);
      await trx.updateTable('registered_model').set({ tags: canonicalJson(tags) }).where('id', '=', modelId).execute();
    });
    return (await this.getRegisteredModel(name))!;
  }

  /** Alias maps of several models in one query. */
  private async aliasesOf(modelIds: number[]): Promise<Map<number, Record<string, number>>> {
    const byModel = new Map<number, Record<string, number>>();
    if (modelIds.length === 0) return byModel;
    const rows = await this.db.selectFrom('model_alias').selectAll().where('model_id', 'in', modelIds).orderBy('alias').execute();
    for (const row of rows) {
      const map = byModel.get(row.model_id) ?? {};
      map[row.alias] = row.version;
      byModel.set(row.model_id, map);
    }
    return byModel;
  }
}
