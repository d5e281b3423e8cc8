/**
 * Lineage: the artifacts and executions an artifact came from (upstream) or went into
 * (downstream). The walk goes artifact → execution → artifact; one hop is one execution
 * level, and each hop is one query over the whole frontier, never a query per artifact.
 */
import type { Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import type { EventTable, MetadataKysely } from './db-schema.js';
import { inIdOrder, selectArtifacts, toArtifact, toEvent, toExecution } from './metadata-rows.js';
import { chunks, IN_LIST_CHUNK } from './query-helpers.js';
import type { LineageDirection, LineageGraph } from './types.js';

/** Deeper than any real pipeline; stops a runaway request from walking the whole store. */
export const MAX_LINEAGE_HOPS = 1000;

/**
 * Upstream, a hop follows the frontier's OUTPUT events to the executions that produced it,
 * then those executions' INPUT events to their inputs. Downstream, it follows INPUT events
 * to the consuming executions, then their OUTPUT events. The graph holds exactly the
 * events walked.
 */
export async function lineage(
  db: MetadataKysely,
  artifactId: number,
  options: { direction: LineageDirection; maxHops: number },
): Promise<LineageGraph> {
  const { direction, maxHops } = options;
  if (direction !== 'upstream' && direction !== 'downstream') {
    throw new LoomError('INVALID_ARGUMENT', `direction must be upstream or downstream, got ${String(direction)}`, {
      field: 'direction',
    });
  }
  if (!Number.isInteger(maxHops) || maxHops < 0 || maxHops > MAX_LINEAGE_HOPS) {
    throw new LoomError('INVALID_ARGUMENT', `maxHops must be an integer from 0 to ${MAX_LINEAGE_HOPS}`, { field: 'maxHops' });
  }
  const start = await db.selectFrom('artifact').select('id').where('id', '=', artifactId).executeTakeFirst();
  if (!start) throw new LoomError('NOT_FOUND', `no artifact with id ${artifactId}`);

  // Upstream enters an execution through its OUTPUT event and leaves through INPUT; downstream the reverse.
  const enter = direction === 'upstream' ? 'OUTPUT' : 'INPUT';
  const leave = direction === 'upstream' ? 'INPUT' : 'OUTPUT';
  const artifactIds = [artifactId];
  const seenArtifacts = new Set(artifactIds);
  const executionIds: number[] = [];
  const seenExecutions = new Set<number>();
  const events: Selectable<EventTable>[] = [];
  const seenEvents = new Set<number>();

  let frontier = [artifactId];
  for (let hop = 0; hop < maxHops && frontier.length > 0; hop++) {
    const rows: Selectable<EventTable>[] = [];
    for (const part of chunks(frontier, IN_LIST_CHUNK)) {
      rows.push(
        ...(await db
          .selectFrom('event')
          .selectAll()
          .where('execution_id', 'in', (eb) =>
            eb.selectFrom('event').select('execution_id').where('artifact_id', 'in', part).where('type', '=', enter),
          )
          .where((eb) =>
            eb.or([eb('type', '=', leave), eb.and([eb('type', '=', enter), eb('artifact_id', 'in', part)])]),
          )
          .orderBy('id')
          .execute()),
      );
    }
    const next: number[] = [];
    for (const row of rows) {
      if (!seenEvents.has(row.id)) {
        seenEvents.add(row.id);
        events.push(row);
      }
      if (!seenExecutions.has(row.execution_id)) {
        seenExecutions.add(row.execution_id);
        executionIds.push(row.execution_id);
      }
      if (row.type === leave && !seenArtifacts.has(row.artifact_id)) {
        seenArtifacts.add(row.artifact_id);
        artifactIds.push(row.artifact_id);
        next.push(row.artifact_id);
      }
    }
    frontier = next;
  }

  const artifacts = [];
  for (const part of chunks(artifactIds, IN_LIST_CHUNK)) {
    artifacts.push(...(await selectArtifacts(db).where('artifact.id', 'in', part).execute()).map(toArtifact));
  }
  const executions = [];
  for (const part of chunks(executionIds, IN_LIST_CHUNK)) {
    executions.push(...(await db.selectFrom('execution').selectAll().where('id', 'in', part).execute()).map(toExecution));
  }
  return {
    artifacts: inIdOrder(artifactIds, artifacts),
    executions: inIdOrder(executionIds, executions),
    events: events.map(toEvent),
  };
}
