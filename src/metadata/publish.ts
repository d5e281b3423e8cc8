/**
 * The two calls the orchestrator's publisher and cache lookup make: finishing an
 * execution with its outputs in one transaction, and finding a finished execution whose
 * outputs can be reused.
 */
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { MetadataKysely } from './db-schema.js';
import { selectArtifacts, toArtifact, toExecution } from './metadata-rows.js';
import { requireIdList, requireName, requireObject, requireOneOf } from './query-helpers.js';
import type { Artifact, CachedResult, ExecutionState, NewArtifact, PublishRequest, PublishResult } from './types.js';
import { insertArtifacts, insertContextLinks, insertEvents } from './writes.js';

// FAILED: a verdict that is not a crash (a validation that found errors keeps its anomalies).
const PUBLISH_STATES = ['COMPLETE', 'CACHED', 'FAILED'] as const;

/**
 * Publishes an execution; `trx` must be a transaction, so that any failure (an unknown
 * artifact or context, an undeclared property) rolls back every row written before it.
 */
export async function publishExecution(trx: MetadataKysely, request: PublishRequest, now: number): Promise<PublishResult> {
  const id = request.executionId;
  const state = requireOneOf(request.state, PUBLISH_STATES, 'state');
  const contextIds = requireIdList(request.contextIds ?? [], 'contextIds');
  if (!Number.isSafeInteger(request.endedAt)) {
    throw new LoomError('INVALID_ARGUMENT', 'endedAt must be epoch milliseconds', { field: 'endedAt' });
  }
  if (!Array.isArray(request.outputs)) {
    throw new LoomError('INVALID_ARGUMENT', 'outputs must be a list', { field: 'outputs' });
  }
  const current = await trx.selectFrom('execution').selectAll().where('id', '=', id).executeTakeFirst();
  if (!current) throw new LoomError('NOT_FOUND', `no execution with id ${id}`);
  const from = current.state as ExecutionState;
  if (from !== 'NEW' && from !== 'RUNNING') {
    throw new LoomError('FAILED_PRECONDITION', `execution ${id} is ${from}; only a NEW or RUNNING execution can be published`);
  }

  const names = request.outputs.map((o, i) => requireName(o.name, `outputs[${i}].name`));
  const fresh = request.outputs.flatMap((o) => ('id' in o.artifact ? [] : [o.artifact as NewArtifact]));
  const inserted = await insertArtifacts(trx, fresh, now, 'outputs');
  let next = 0;
  const outputIds = request.outputs.map((o) => ('id' in o.artifact ? o.artifact.id : inserted[next++].id));

  // Unknown existing artifacts or contexts fail here, after the inserts above, and the
  // transaction takes those back.
  await insertEvents(
    trx,
    outputIds.map((artifactId, i) => ({ artifactId, executionId: id, type: 'OUTPUT', name: names[i] })),
    now,
  );
  await insertContextLinks(trx, contextIds, { executionIds: [id], artifactIds: outputIds });

  // Publishing adds to what the execution already recorded (e.g. its start-time properties).
  const properties = { ...JSON.parse(current.properties), ...requireObject(request.properties, 'properties') };
  const row = await trx
    .updateTable('execution')
    .set({ state, ended_at: request.endedAt, properties: canonicalJson(properties), ...(request.error !== undefined ? { error: request.error } : {}) })
    .where('id', '=', id)
    .where('state', '=', from)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new LoomError('FAILED_PRECONDITION', `execution ${id} changed while it was being published`, { retryable: true });

  const byId = new Map<number, Artifact>(inserted.map((a) => [a.id, a]));
  const existing = outputIds.filter((artifactId) => !byId.has(artifactId));
  if (existing.length > 0) {
    const rows = await selectArtifacts(trx).where('artifact.id', 'in', existing).execute();
    for (const r of rows) byId.set(r.id, toArtifact(r));
  }
  return {
    execution: toExecution(row),
    outputs: outputIds.map((artifactId, i) => ({ name: names[i], artifact: byId.get(artifactId)! })),
  };
}

/** The newest COMPLETE execution with this cache key whose outputs are all still LIVE. */
export async function findCachedExecution(db: MetadataKysely, cacheKey: string): Promise<CachedResult | undefined> {
  const row = await db
    .selectFrom('execution')
    .selectAll()
    .where('cache_key', '=', cacheKey)
    .where('state', '=', 'COMPLETE')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('event')
            .innerJoin('artifact', 'artifact.id', 'event.artifact_id')
            .select('event.id')
            .whereRef('event.execution_id', '=', 'execution.id')
            .where('event.type', '=', 'OUTPUT')
            .where('artifact.state', '<>', 'LIVE'),
        ),
      ),
    )
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  const outputs = await selectArtifacts(db)
    .innerJoin('event', 'event.artifact_id', 'artifact.id')
    .select('event.name as output_name')
    .where('event.execution_id', '=', row.id)
    .where('event.type', '=', 'OUTPUT')
    .orderBy('event.id')
    .execute();
  return {
    execution: toExecution(row),
    outputs: outputs.map((o) => ({ name: o.output_name, artifact: toArtifact(o) })),
  };
}
