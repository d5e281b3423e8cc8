/**
 * Executions: creating, updating under the state rules, and listing. An execution moves
 * NEW → RUNNING → one final state (or straight from NEW to a final state, e.g. SKIPPED or
 * CACHED); a final state never changes again.
 */
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import { currentOwner, processOwnerSchema, type ProcessOwner } from '../core/process-owner.js';
import { fieldPath, parseInput } from '../core/validation.js';
import type { Updateable } from 'kysely';
import type { ExecutionTable, MetadataKysely } from './db-schema.js';
import { toExecution } from './metadata-rows.js';
import { idAfterToken, pageSizeOf, requireName, requireObject, requireOneOf, toPage } from './query-helpers.js';
import type { ExecutionFilter } from './store.js';
import { EXECUTION_STATES, type Execution, type ExecutionState, type ExecutionUpdate, type NewExecution, type Page } from './types.js';

export const FINAL_EXECUTION_STATES: readonly ExecutionState[] = ['COMPLETE', 'FAILED', 'CACHED', 'SKIPPED', 'CANCELED'];

export function isFinalState(state: ExecutionState): boolean {
  return FINAL_EXECUTION_STATES.includes(state);
}

/** FAILED_PRECONDITION unless an execution in `from` may move to `to`. */
export function checkTransition(id: number, from: ExecutionState, to: ExecutionState): void {
  if (from === to) return;
  if (isFinalState(from) || to === 'NEW') {
    throw new LoomError('FAILED_PRECONDITION', `execution ${id} is ${from} and cannot become ${to}`, {
      fix: isFinalState(from) ? 'a finished execution is never changed; record a new execution to run the step again' : undefined,
    });
  }
}

function optionalTime(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value)) {
    throw new LoomError('INVALID_ARGUMENT', `${field} must be epoch milliseconds`, { field });
  }
  return value as number;
}

function attemptsOf(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new LoomError('INVALID_ARGUMENT', 'attempts must be an integer from 1', { field: 'attempts' });
  }
  return value as number;
}

/**
 * The owner column: the given owner (checked), else this process for a RUNNING execution,
 * so every step that runs can be found again if its process dies without finishing it.
 */
function ownerColumn(state: ExecutionState | undefined, owner: ProcessOwner | null | undefined): string | null {
  if (owner !== undefined && owner !== null) {
    return JSON.stringify(parseInput(processOwnerSchema, owner, { what: 'owner must be a process owner', name: (path) => fieldPath(['owner', ...path]), field: () => 'owner' }));
  }
  return state === 'RUNNING' && owner === undefined ? JSON.stringify(currentOwner()) : null;
}

export async function createExecution(db: MetadataKysely, execution: NewExecution, now: number): Promise<Execution> {
  const code = execution.codeVersion ?? { commit: null, dirty: false };
  const row = await db
    .insertInto('execution')
    .values({
      type_name: requireName(execution.typeName, 'typeName'),
      step_name: requireName(execution.stepName, 'stepName'),
      state: requireOneOf(execution.state ?? 'NEW', EXECUTION_STATES, 'state'),
      parameters: canonicalJson(requireObject(execution.parameters, 'parameters')),
      code_commit: code.commit ?? null,
      code_dirty: code.dirty ? 1 : 0,
      cache_key: execution.cacheKey ?? null,
      attempts: attemptsOf(execution.attempts ?? 1),
      error: null,
      properties: canonicalJson(requireObject(execution.properties, 'properties')),
      created_at: now,
      started_at: optionalTime(execution.startedAt, 'startedAt'),
      ended_at: null,
      owner: ownerColumn(execution.state, execution.owner),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toExecution(row);
}

/** Applies an update inside the caller's transaction; NOT_FOUND, or FAILED_PRECONDITION for a forbidden move. */
export async function updateExecution(db: MetadataKysely, id: number, update: ExecutionUpdate): Promise<Execution> {
  const current = await db.selectFrom('execution').selectAll().where('id', '=', id).executeTakeFirst();
  if (!current) throw new LoomError('NOT_FOUND', `no execution with id ${id}`);
  const from = current.state as ExecutionState;
  const set: Updateable<ExecutionTable> = {};
  if (update.state !== undefined) {
    const to = requireOneOf(update.state, EXECUTION_STATES, 'state');
    checkTransition(id, from, to);
    set.state = to;
    if (to === 'RUNNING' && current.owner === null) set.owner = ownerColumn(to, undefined);
  }
  if (update.error !== undefined) set.error = update.error;
  if (update.properties !== undefined) set.properties = canonicalJson(requireObject(update.properties, 'properties'));
  if (update.startedAt !== undefined) set.started_at = optionalTime(update.startedAt, 'startedAt');
  if (update.endedAt !== undefined) set.ended_at = optionalTime(update.endedAt, 'endedAt');
  if (update.attempts !== undefined) set.attempts = attemptsOf(update.attempts);
  if (update.cacheKey !== undefined) set.cache_key = update.cacheKey;
  if (Object.keys(set).length === 0) return toExecution(current);
  // The state we checked is part of the WHERE, so a concurrent writer's move cannot be overwritten.
  const row = await db
    .updateTable('execution')
    .set(set)
    .where('id', '=', id)
    .where('state', '=', from)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new LoomError('FAILED_PRECONDITION', `execution ${id} changed while it was being updated`, { retryable: true });
  return toExecution(row);
}

/** Executions newest first, filtered by context, component type and states. */
export async function listExecutions(db: MetadataKysely, filter: ExecutionFilter): Promise<Page<Execution>> {
  const size = pageSizeOf(filter);
  const before = idAfterToken(filter);
  let query = db.selectFrom('execution').selectAll();
  if (before !== undefined) query = query.where('id', '<', before);
  if (filter.typeName !== undefined) query = query.where('type_name', '=', filter.typeName);
  if (filter.states !== undefined) {
    if (filter.states.length === 0) return { items: [] };
    const states = filter.states.map((s, i) => requireOneOf(s, EXECUTION_STATES, `states[${i}]`));
    query = query.where('state', 'in', states);
  }
  if (filter.contextId !== undefined) {
    const contextId = filter.contextId;
    query = query.where('id', 'in', (eb) =>
      eb.selectFrom('association').select('execution_id').where('context_id', '=', contextId),
    );
  }
  const rows = await query.orderBy('id', 'desc').limit(size + 1).execute();
  return toPage(rows, size, (r) => r.id, toExecution);
}
