/**
 * Query pieces the registry's Kysely code shares: the model row lock every write takes
 * first, version lookups with their checks, alias moves, and name filters that behave the
 * same on SQLite and PostgreSQL.
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import { LoomError } from '../core/errors.js';
import { dialectOf, likeToGlob } from '../core/sql-dialect.js';
import type { RegistryKysely } from './registry-tables.js';
import { toAliasMove } from './registry-rows.js';
import type { AliasMove, AliasMoveKind, ModelFilter } from './types.js';

export function notFoundModel(name: string): LoomError {
  return new LoomError('NOT_FOUND', `no registered model "${name}"`, {
    field: 'name',
    fix: 'create it first (createRegisteredModel), or check the name with `loom models ls`',
  });
}

export function notFoundVersion(modelName: string, version: number): LoomError {
  return new LoomError('NOT_FOUND', `model "${modelName}" has no version ${version}`, {
    field: 'version',
    fix: `list its versions with \`loom models versions ${modelName}\``,
  });
}

/** The id of the live (not deleted) model of that name, or NOT_FOUND. */
export async function liveModelId(db: RegistryKysely, modelName: string): Promise<number> {
  const model = await db.selectFrom('registered_model').select('id').where('name', '=', modelName).where('deleted_at', 'is', null).executeTakeFirst();
  if (!model) throw notFoundModel(modelName);
  return model.id;
}

/** Touches the model row inside a transaction, which locks it until commit; returns its id. */
export async function lockModel(trx: RegistryKysely, modelName: string, now: number): Promise<number> {
  const model = await trx
    .updateTable('registered_model')
    .set({ updated_at: now })
    .where('name', '=', modelName)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!model) throw notFoundModel(modelName);
  return model.id;
}

/**
 * Runs `work` in one transaction that first locks the model row (NOT_FOUND for an unknown
 * model): the preamble of every registry write, and of deployment changes, so writes to
 * one model queue and a refused write changes nothing.
 */
export function withModelLock<T>(db: RegistryKysely, modelName: string, work: (trx: RegistryKysely, modelId: number, now: number) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const now = Date.now();
    return work(trx, await lockModel(trx, modelName, now), now);
  });
}

/** The version row of a locked model, or NOT_FOUND. */
export async function versionRow(trx: RegistryKysely, modelName: string, modelId: number, version: number) {
  const row = await trx.selectFrom('model_version').selectAll().where('model_id', '=', modelId).where('version', '=', version).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw notFoundVersion(modelName, version);
  return row;
}

/** Checks that a version can carry an alias or be deployed: it exists, is READY and is not archived. */
export async function checkUsableVersion(trx: RegistryKysely, modelName: string, modelId: number, version: number, use = 'carry an alias'): Promise<void> {
  const row = await versionRow(trx, modelName, modelId, version);
  if (row.status !== 'READY') {
    throw new LoomError('FAILED_PRECONDITION', `version ${version} of "${modelName}" is ${row.status}, not READY`, {
      field: 'version',
      fix: `only a READY version can ${use}; pick another version`,
    });
  }
  if (row.archived_at !== null) {
    throw new LoomError('FAILED_PRECONDITION', `version ${version} of "${modelName}" is archived`, {
      field: 'version',
      fix: `restore it first (\`loom models restore ${modelName} ${version}\`) or pick another version`,
    });
  }
}

/** The aliases pointing at one version, in name order. */
export async function aliasesOfVersion(db: RegistryKysely, modelId: number, version: number): Promise<string[]> {
  const rows = await db.selectFrom('model_alias').select('alias').where('model_id', '=', modelId).where('version', '=', version).orderBy('alias').execute();
  return rows.map((r) => r.alias);
}

async function currentAlias(trx: RegistryKysely, modelId: number, alias: string): Promise<number | null> {
  const row = await trx.selectFrom('model_alias').select('version').where('model_id', '=', modelId).where('alias', '=', alias).executeTakeFirst();
  return row ? row.version : null;
}

/**
 * Points an alias at a version (or removes it, for null) and records the move, inside the
 * caller's transaction with the model locked. The caller has checked the target.
 */
export async function moveAlias(
  trx: RegistryKysely,
  target: { modelName: string; modelId: number; alias: string; version: number | null },
  by: { actor: string; reason: string; kind: AliasMoveKind; now: number },
): Promise<AliasMove> {
  const { modelName, modelId, alias, version } = target;
  const previous = await currentAlias(trx, modelId, alias);
  if (version === null) {
    if (previous === null) throw new LoomError('NOT_FOUND', `model "${modelName}" has no alias "${alias}"`, { field: 'alias' });
    await trx.deleteFrom('model_alias').where('model_id', '=', modelId).where('alias', '=', alias).execute();
  } else {
    await trx
      .insertInto('model_alias')
      .values({ model_id: modelId, alias, version })
      .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version }))
      .execute();
  }
  const row = await trx
    .insertInto('alias_move')
    .values({ model_id: modelId, alias, version, previous_version: previous, actor: by.actor, reason: by.reason, moved_at: by.now, kind: by.kind })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toAliasMove(row, modelName);
}

/** FAILED_PRECONDITION when the model's approval rule covers this alias. */
export function refuseIfProtected(approvalAliases: string, modelName: string, alias: string, version: number | null): void {
  if ((JSON.parse(approvalAliases) as string[]).includes(alias)) {
    const request = version === null ? 'the alias cannot be removed while the rule holds' : `request the move (\`loom models alias request ${modelName} ${alias} ${version}\`) and have another person approve it`;
    throw new LoomError('FAILED_PRECONDITION', `alias "${alias}" of "${modelName}" needs an approved request to move`, {
      field: 'alias',
      fix: request,
    });
  }
}

function isSqlite(db: RegistryKysely): boolean {
  return dialectOf(db) === 'sqlite';
}

/** One tag's value from a JSON text column, or NULL when the tag is absent. */
function tagValue(db: RegistryKysely, tagsColumn: string, key: string) {
  if (!isSqlite(db)) return sql<string | null>`(${sql.ref(tagsColumn)}::jsonb ->> ${key})`;
  // A JSON path quotes the key; keys with quotes or backslashes are refused by the filter parser.
  return sql<string | null>`json_extract(${sql.ref(tagsColumn)}, ${`$."${key}"`})`;
}

/**
 * WHERE conditions for a model filter, the same on both backends.
 * @param columns the name column and the JSON tags column the filter applies to
 */
export function filterConditions(db: RegistryKysely, columns: { name: string; tags: string }, filter: ModelFilter | undefined): Expression<SqlBool>[] {
  const conditions = nameConditions(db, columns.name, filter);
  for (const tag of filter?.tags ?? []) {
    const value = tagValue(db, columns.tags, tag.key);
    conditions.push(tag.op === '=' ? sql<SqlBool>`${value} = ${tag.value}` : sql<SqlBool>`(${value} is null or ${value} <> ${tag.value})`);
  }
  return conditions;
}

function nameConditions(db: RegistryKysely, column: string, filter: ModelFilter | undefined): Expression<SqlBool>[] {
  const ref = sql.ref(column);
  const conditions: Expression<SqlBool>[] = [];
  if (filter?.name !== undefined) conditions.push(sql<SqlBool>`${ref} = ${filter.name}`);
  if (filter?.nameLike !== undefined) {
    conditions.push(isSqlite(db) ? sql<SqlBool>`${ref} glob ${likeToGlob(filter.nameLike)}` : sql<SqlBool>`${ref} like ${filter.nameLike} escape '\\'`);
  }
  if (filter?.nameILike !== undefined) conditions.push(sql<SqlBool>`lower(${ref}) like lower(${filter.nameILike}) escape '\\'`);
  return conditions;
}
