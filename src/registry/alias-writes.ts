/**
 * Alias moves of the Kysely registry store: direct moves, rollback, and the approval flow
 * (request, then approve by a different person). Each runs under `withModelLock`, so moves
 * of one model queue and a refused move changes nothing.
 */
import { LoomError } from '../core/errors.js';
import type { RegistryKysely } from './registry-tables.js';
import { requireName } from '../metadata/query-helpers.js';
import { checkedAlias, checkedVersion, toAliasMove, toAliasRequest } from './registry-rows.js';
import { checkUsableVersion, liveModelId, lockModel, moveAlias, notFoundModel, refuseIfProtected, withModelLock } from './registry-sql.js';
import { rollbackTarget } from './rollback.js';
import type { Actor, AliasMove, AliasMoveRequest } from './types.js';

export function checkedActor(who: Actor): Actor {
  return { actor: requireName(who?.actor, 'actor'), reason: typeof who?.reason === 'string' ? who.reason : '' };
}

/**
 * Whether two recorded actors are one principal. Actors are authenticated subjects (user
 * names, e-mail addresses), which identity providers compare without case, so `Bob` cannot
 * approve what `bob` requested.
 */
export function samePrincipal(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

async function approvalAliases(trx: RegistryKysely, modelId: number): Promise<string> {
  const row = await trx.selectFrom('registered_model').select('approval_aliases').where('id', '=', modelId).executeTakeFirstOrThrow();
  return row.approval_aliases;
}

/** Points an alias at a READY, unarchived version unless the alias needs approval. */
export async function setAlias(db: RegistryKysely, modelName: string, alias: string, version: number, who: Actor): Promise<AliasMove> {
  const name = checkedAlias(alias);
  const target = checkedVersion(version);
  const { actor, reason } = checkedActor(who);
  return withModelLock(db, modelName, async (trx, modelId, now) => {
    await checkUsableVersion(trx, modelName, modelId, target);
    refuseIfProtected(await approvalAliases(trx, modelId), modelName, name, target);
    return moveAlias(trx, { modelName, modelId, alias: name, version: target }, { actor, reason, kind: 'set', now });
  });
}

export async function deleteAlias(db: RegistryKysely, modelName: string, alias: string, who: Actor): Promise<AliasMove> {
  const name = checkedAlias(alias);
  const { actor, reason } = checkedActor(who);
  return withModelLock(db, modelName, async (trx, modelId, now) => {
    refuseIfProtected(await approvalAliases(trx, modelId), modelName, name, null);
    return moveAlias(trx, { modelName, modelId, alias: name, version: null }, { actor, reason, kind: 'delete', now });
  });
}

export async function aliasHistory(db: RegistryKysely, modelName: string, alias: string): Promise<AliasMove[]> {
  const rows = await db
    .selectFrom('alias_move')
    .innerJoin('registered_model', 'registered_model.id', 'alias_move.model_id')
    .selectAll('alias_move')
    .where('registered_model.name', '=', modelName)
    .where('registered_model.deleted_at', 'is', null)
    .where('alias_move.alias', '=', alias)
    .orderBy('alias_move.id', 'desc')
    .execute();
  return rows.map((r) => toAliasMove(r, modelName));
}

export async function rollbackAlias(db: RegistryKysely, modelName: string, alias: string, who: Actor): Promise<AliasMove> {
  const name = checkedAlias(alias);
  const { actor, reason } = checkedActor(who);
  return withModelLock(db, modelName, async (trx, modelId, now) => {
    const moves = await trx.selectFrom('alias_move').select(['version', 'kind']).where('model_id', '=', modelId).where('alias', '=', name).orderBy('id').execute();
    const versions = await trx.selectFrom('model_version').select(['version', 'status', 'archived_at']).where('model_id', '=', modelId).where('deleted_at', 'is', null).execute();
    const usable = new Set(versions.filter((v) => v.status === 'READY' && v.archived_at === null).map((v) => v.version));
    const target = rollbackTarget(moves.map((m) => ({ version: m.version, kind: m.kind as AliasMove['kind'] })), (v) => usable.has(v));
    if (!target) {
      throw new LoomError('FAILED_PRECONDITION', `alias "${name}" of "${modelName}" has no earlier holder that can carry it`, {
        field: 'alias',
        fix: `set it explicitly: \`loom models alias set ${modelName} ${name} <version>\` (see \`loom models show ${modelName}\`)`,
      });
    }
    refuseIfProtected(await approvalAliases(trx, modelId), modelName, name, target.version);
    const skipped = target.skipped.length ? ` (passed over ${target.skipped.join(', ')}: deleted, archived or not READY)` : '';
    return moveAlias(trx, { modelName, modelId, alias: name, version: target.version }, { actor, reason: `${reason}${skipped}`, kind: 'rollback', now });
  });
}

export async function requestAliasMove(db: RegistryKysely, modelName: string, alias: string, version: number, who: Actor): Promise<AliasMoveRequest> {
  const name = checkedAlias(alias);
  const target = checkedVersion(version);
  const { actor, reason } = checkedActor(who);
  return withModelLock(db, modelName, async (trx, modelId, now) => {
    await checkUsableVersion(trx, modelName, modelId, target);
    const row = await trx
      .insertInto('alias_request')
      .values({ model_id: modelId, alias: name, version: target, requested_by: actor, reason, requested_at: now, state: 'PENDING', decided_by: null, decided_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAliasRequest(row, modelName);
  });
}

/**
 * Claims a pending request with one conditional UPDATE, so two approvers racing each
 * other cannot both apply it; the claim rolls back with the transaction if the move fails.
 */
async function decide(trx: RegistryKysely, requestId: number, state: 'APPROVED' | 'REJECTED', actor: string, now: number) {
  if (!Number.isSafeInteger(requestId)) throw new LoomError('INVALID_ARGUMENT', `request id must be an integer, got ${String(requestId)}`, { field: 'requestId' });
  const claimed = await trx
    .updateTable('alias_request')
    .set({ state, decided_by: actor, decided_at: now })
    .where('id', '=', requestId)
    .where('state', '=', 'PENDING')
    .returningAll()
    .executeTakeFirst();
  if (claimed) return claimed;
  const existing = await trx.selectFrom('alias_request').select('state').where('id', '=', requestId).executeTakeFirst();
  if (!existing) throw new LoomError('NOT_FOUND', `no alias move request ${requestId}`, { field: 'requestId', fix: 'list requests with `loom models requests <name>`' });
  throw new LoomError('FAILED_PRECONDITION', `alias move request ${requestId} is already ${existing.state}`, { field: 'requestId', fix: 'make a new request' });
}

async function modelNameOf(trx: RegistryKysely, modelId: number): Promise<string> {
  const row = await trx.selectFrom('registered_model').select('name').where('id', '=', modelId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw notFoundModel(String(modelId));
  return row.name;
}

export async function approveAliasMove(db: RegistryKysely, requestId: number, who: Actor): Promise<{ request: AliasMoveRequest; move: AliasMove }> {
  const { actor, reason } = checkedActor(who);
  return db.transaction().execute(async (trx) => {
    const now = Date.now();
    const request = await decide(trx, requestId, 'APPROVED', actor, now);
    if (samePrincipal(request.requested_by, actor)) {
      throw new LoomError('FAILED_PRECONDITION', `${actor} requested this move and cannot approve it too`, {
        field: 'actor',
        fix: 'another person must approve it, signed in as themselves (loom models approve <request id>)',
      });
    }
    const modelName = await modelNameOf(trx, request.model_id);
    const modelId = await lockModel(trx, modelName, now);
    await checkUsableVersion(trx, modelName, modelId, request.version);
    const note = `request ${request.id} by ${request.requested_by}: ${request.reason}${reason ? `; approval: ${reason}` : ''}`;
    const move = await moveAlias(trx, { modelName, modelId, alias: request.alias, version: request.version }, { actor, reason: note, kind: 'approved', now });
    return { request: toAliasRequest(request, modelName), move };
  });
}

/** Anyone may reject, the requester included (that withdraws it). */
export async function rejectAliasMove(db: RegistryKysely, requestId: number, who: Actor): Promise<AliasMoveRequest> {
  const { actor } = checkedActor(who);
  return db.transaction().execute(async (trx) => {
    const request = await decide(trx, requestId, 'REJECTED', actor, Date.now());
    return toAliasRequest(request, await modelNameOf(trx, request.model_id));
  });
}

export async function getAliasRequest(db: RegistryKysely, requestId: number): Promise<AliasMoveRequest | undefined> {
  if (!Number.isSafeInteger(requestId)) throw new LoomError('INVALID_ARGUMENT', `request id must be an integer, got ${String(requestId)}`, { field: 'requestId' });
  const row = await db
    .selectFrom('alias_request')
    .innerJoin('registered_model', 'registered_model.id', 'alias_request.model_id')
    .selectAll('alias_request')
    .select('registered_model.name as model_name')
    .where('alias_request.id', '=', requestId)
    .where('registered_model.deleted_at', 'is', null)
    .executeTakeFirst();
  return row && toAliasRequest(row, row.model_name);
}

export async function listAliasRequests(db: RegistryKysely, modelName: string, options: { pendingOnly?: boolean } = {}): Promise<AliasMoveRequest[]> {
  let query = db.selectFrom('alias_request').selectAll().where('model_id', '=', await liveModelId(db, modelName));
  if (options.pendingOnly) query = query.where('state', '=', 'PENDING');
  const rows = await query.orderBy('id', 'desc').execute();
  return rows.map((r) => toAliasRequest(r, modelName));
}
