/**
 * The one RegistryStore implementation, over Kysely, sharing the database (and the
 * Kysely instance) with the metadata store. Version numbers and alias moves are taken
 * under the registered model's row lock: every write transaction starts by updating that
 * row, which on PostgreSQL locks it and on SQLite runs under BEGIN IMMEDIATE, so
 * concurrent writers queue instead of colliding.
 *
 * Usage: `const { registry } = await openDatabase(config); await registry.createModelVersion({ modelName, source })`
 */
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { LoomKysely } from '../metadata/db-schema.js';
import { pageSizeOf, idAfterToken, requireName, requireObject, requireOneOf, textAfterToken, toPage } from '../metadata/query-helpers.js';
import type { Page, PageRequest } from '../metadata/types.js';
import {
  checkedAlias,
  checkedMetrics,
  checkedModelName,
  checkedSignature,
  checkedTags,
  checkedVersion,
  toAliasMove,
  toModelVersion,
  toRegisteredModel,
} from './registry-rows.js';
import type { RegistryStore } from './store.js';
import { MODEL_VERSION_STATUSES, type AliasMove, type ModelVersion, type NewModelVersion, type RegisteredModel } from './types.js';

type Who = { actor: string; reason: string };

export class KyselyRegistryStore implements RegistryStore {
  /**
   * @param db the shared query builder (the metadata store may use the same one)
   * @param onClose what `close()` does; `openDatabase` passes the shared database's close
   */
  constructor(
    private readonly db: LoomKysely,
    private readonly onClose: () => Promise<void>,
  ) {}

  async createRegisteredModel(model: { name: string; description?: string; tags?: Record<string, string> }): Promise<RegisteredModel> {
    const name = checkedModelName(model.name);
    const now = Date.now();
    const row = await this.db
      .insertInto('registered_model')
      .values({
        name,
        description: model.description ?? '',
        tags: checkedTags(model.tags),
        latest_version: 0,
        created_at: now,
        updated_at: now,
      })
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
    const row = await this.db.selectFrom('registered_model').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) return undefined;
    const aliases = await this.aliasesOf([row.id]);
    return toRegisteredModel(row, aliases.get(row.id) ?? {});
  }

  /** Models in name order. */
  async listRegisteredModels(request: PageRequest): Promise<Page<RegisteredModel>> {
    const size = pageSizeOf(request);
    const after = textAfterToken(request);
    let query = this.db.selectFrom('registered_model').selectAll();
    if (after !== undefined) query = query.where('name', '>', after);
    const rows = await query.orderBy('name').limit(size + 1).execute();
    const aliases = await this.aliasesOf(rows.slice(0, size).map((r) => r.id));
    return toPage(rows, size, (r) => r.name, (r) => toRegisteredModel(r, aliases.get(r.id) ?? {}));
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
    };
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      // The increment takes the row lock, so the number is ours alone until commit.
      const model = await trx
        .updateTable('registered_model')
        .set((eb) => ({ latest_version: eb('latest_version', '+', 1), updated_at: now }))
        .where('name', '=', modelName)
        .returning(['id', 'latest_version'])
        .executeTakeFirst();
      if (!model) throw notFoundModel(modelName);
      const row = await trx
        .insertInto('model_version')
        .values({ ...values, model_id: model.id, version: model.latest_version, created_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toModelVersion({ ...row, model_name: modelName });
    });
  }

  async getModelVersion(modelName: string, version: number): Promise<ModelVersion | undefined> {
    const row = await this.selectVersions(this.db)
      .where('registered_model.name', '=', modelName)
      .where('model_version.version', '=', version)
      .executeTakeFirst();
    return row && toModelVersion(row);
  }

  /** Versions newest first; NOT_FOUND for an unknown model. */
  async listModelVersions(modelName: string, request: PageRequest): Promise<Page<ModelVersion>> {
    const size = pageSizeOf(request);
    const before = idAfterToken(request);
    const model = await this.db.selectFrom('registered_model').select('id').where('name', '=', modelName).executeTakeFirst();
    if (!model) throw notFoundModel(modelName);
    let query = this.selectVersions(this.db).where('model_version.model_id', '=', model.id);
    if (before !== undefined) query = query.where('model_version.version', '<', before);
    const rows = await query.orderBy('model_version.version', 'desc').limit(size + 1).execute();
    return toPage(rows, size, (r) => r.version, toModelVersion);
  }

  async setAlias(modelName: string, alias: string, version: number, who: Who): Promise<AliasMove> {
    const name = checkedAlias(alias);
    const target = checkedVersion(version);
    const { actor, reason } = checkedWho(who);
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      const modelId = await lockModel(trx, modelName, now);
      const found = await trx
        .selectFrom('model_version')
        .select('status')
        .where('model_id', '=', modelId)
        .where('version', '=', target)
        .executeTakeFirst();
      if (!found) throw new LoomError('NOT_FOUND', `model "${modelName}" has no version ${target}`, { field: 'version' });
      if (found.status !== 'READY') {
        throw new LoomError('FAILED_PRECONDITION', `version ${target} of "${modelName}" is ${found.status}, not READY`, {
          fix: 'only a READY version can carry an alias',
        });
      }
      const previous = await currentAlias(trx, modelId, name);
      await trx
        .insertInto('model_alias')
        .values({ model_id: modelId, alias: name, version: target })
        .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version: target }))
        .execute();
      return recordMove(trx, modelName, { model_id: modelId, alias: name, version: target, previous_version: previous, actor, reason, moved_at: now });
    });
  }

  async deleteAlias(modelName: string, alias: string, who: Who): Promise<AliasMove> {
    const name = checkedAlias(alias);
    const { actor, reason } = checkedWho(who);
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      const modelId = await lockModel(trx, modelName, now);
      const previous = await currentAlias(trx, modelId, name);
      if (previous === null) throw new LoomError('NOT_FOUND', `model "${modelName}" has no alias "${name}"`, { field: 'alias' });
      await trx.deleteFrom('model_alias').where('model_id', '=', modelId).where('alias', '=', name).execute();
      return recordMove(trx, modelName, { model_id: modelId, alias: name, version: null, previous_version: previous, actor, reason, moved_at: now });
    });
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

  async aliasHistory(modelName: string, alias: string): Promise<AliasMove[]> {
    const rows = await this.db
      .selectFrom('alias_move')
      .innerJoin('registered_model', 'registered_model.id', 'alias_move.model_id')
      .selectAll('alias_move')
      .where('registered_model.name', '=', modelName)
      .where('alias_move.alias', '=', alias)
      .orderBy('alias_move.id', 'desc')
      .execute();
    return rows.map((r) => toAliasMove(r, modelName));
  }

  async close(): Promise<void> {
    await this.onClose();
  }

  private selectVersions(db: LoomKysely) {
    return db
      .selectFrom('model_version')
      .innerJoin('registered_model', 'registered_model.id', 'model_version.model_id')
      .selectAll('model_version')
      .select('registered_model.name as model_name');
  }

  /** Alias maps of several models in one query. */
  private async aliasesOf(modelIds: number[]): Promise<Map<number, Record<string, number>>> {
    const byModel = new Map<number, Record<string, number>>();
    if (modelIds.length === 0) return byModel;
    const rows = await this.db.selectFrom('model_alias').selectAll().where('model_id', 'in', modelIds).orderBy('alias').execute();
    for (const row of rows) {
      const aliases = byModel.get(row.model_id) ?? {};
      aliases[row.alias] = row.version;
      byModel.set(row.model_id, aliases);
    }
    return byModel;
  }
}

function notFoundModel(name: string): LoomError {
  return new LoomError('NOT_FOUND', `no registered model "${name}"`, {
    field: 'modelName',
    fix: 'create it first (createRegisteredModel), or check the name with `loom models ls`',
  });
}

function checkedWho(who: Who): Who {
  return { actor: requireName(who?.actor, 'actor'), reason: typeof who?.reason === 'string' ? who.reason : '' };
}

/** Touches the model row inside a transaction, which locks it until commit; returns its id. */
async function lockModel(trx: LoomKysely, modelName: string, now: number): Promise<number> {
  const model = await trx
    .updateTable('registered_model')
    .set({ updated_at: now })
    .where('name', '=', modelName)
    .returning('id')
    .executeTakeFirst();
  if (!model) throw notFoundModel(modelName);
  return model.id;
}

async function currentAlias(trx: LoomKysely, modelId: number, alias: string): Promise<number | null> {
  const row = await trx
    .selectFrom('model_alias')
    .select('version')
    .where('model_id', '=', modelId)
    .where('alias', '=', alias)
    .executeTakeFirst();
  return row ? row.version : null;
}

async function recordMove(
  trx: LoomKysely,
  modelName: string,
  move: { model_id: number; alias: string; version: number | null; previous_version: number | null; actor: string; reason: string; moved_at: number },
): Promise<AliasMove> {
  const row = await trx.insertInto('alias_move').values(move).returningAll().executeTakeFirstOrThrow();
  return toAliasMove(row, modelName);
}
