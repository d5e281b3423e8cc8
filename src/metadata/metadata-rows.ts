/**
 * Rows to metadata objects and back, the artifact query with its type name joined in,
 * and the checks every write path shares (declared properties, ids that must exist).
 */
import type { Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import { canonicalJson, type JsonValue } from '../core/json.js';
import { parseOwner } from '../core/process-owner.js';
import type { ContextTable, EventTable, ExecutionTable, MetadataKysely } from './db-schema.js';
import { chunks, IN_LIST_CHUNK, parseJsonObject, parseJsonRecord, requireObject, requireOneOf, unique } from './query-helpers.js';
import {
  ARTIFACT_STATES,
  type Artifact,
  type ArtifactState,
  type ArtifactType,
  type Context,
  type ContextType,
  type EventType,
  type Execution,
  type ExecutionState,
  type MetadataEvent,
  type PropertyKind,
} from './types.js';

/** Artifacts joined with their type's name; every artifact read goes through this. */
export function selectArtifacts(db: MetadataKysely) {
  return db
    .selectFrom('artifact')
    .innerJoin('artifact_type', 'artifact_type.id', 'artifact.type_id')
    .select([
      'artifact.id',
      'artifact_type.name as type_name',
      'artifact.uri',
      'artifact.fingerprint',
      'artifact.state',
      'artifact.properties',
      'artifact.created_at',
    ]);
}

export interface ArtifactRow {
  id: number;
  type_name: string;
  uri: string;
  fingerprint: string;
  state: string;
  properties: string;
  created_at: number;
}

export function toArtifact(row: ArtifactRow): Artifact {
  return {
    id: row.id,
    typeName: row.type_name,
    uri: row.uri,
    fingerprint: row.fingerprint,
    state: row.state as ArtifactState,
    properties: parseJsonObject(row.properties),
    createdAt: row.created_at,
  };
}

export function toArtifactType(row: { id: number; name: string; description: string; properties: string }): ArtifactType {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    properties: parseJsonRecord<PropertyKind>(row.properties),
  };
}

export function toExecution(row: Selectable<ExecutionTable>): Execution {
  return {
    id: row.id,
    typeName: row.type_name,
    stepName: row.step_name,
    state: row.state as ExecutionState,
    parameters: parseJsonObject(row.parameters),
    codeVersion: { commit: row.code_commit, dirty: row.code_dirty === 1 },
    cacheKey: row.cache_key,
    attempts: row.attempts,
    error: row.error,
    properties: parseJsonObject(row.properties),
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    owner: parseOwner(row.owner) ?? null,
  };
}

export function toEvent(row: Selectable<EventTable>): MetadataEvent {
  return {
    artifactId: row.artifact_id,
    executionId: row.execution_id,
    type: row.type as EventType,
    name: row.name,
    createdAt: row.created_at,
  };
}

export function toContext(row: Selectable<ContextTable>): Context {
  return {
    id: row.id,
    typeName: row.type_name as ContextType,
    name: row.name,
    properties: parseJsonObject(row.properties),
    createdAt: row.created_at,
  };
}

function matchesKind(value: JsonValue, kind: PropertyKind): boolean {
  switch (kind) {
    case 'STRING':
      return typeof value === 'string';
    case 'INT':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'DOUBLE':
      return typeof value === 'number' && Number.isFinite(value);
    case 'BOOL':
      return typeof value === 'boolean';
    case 'JSON':
      return true;
  }
}

/**
 * Checks an artifact's properties against its type: each must be declared and of the
 * declared kind. Returns the properties as canonical JSON text, ready to store.
 */
export function checkedProperties(type: ArtifactType, properties: unknown, field: string): string {
  const props = requireObject(properties, field);
  for (const [name, value] of Object.entries(props)) {
    const kind = type.properties[name];
    const where = `${field}.${name}`;
    if (kind === undefined) {
      const declared = Object.keys(type.properties);
      throw new LoomError('INVALID_ARGUMENT', `artifact type "${type.name}" declares no property "${name}"`, {
        field: where,
        fix: declared.length > 0 ? `use one of: ${declared.join(', ')}` : `type "${type.name}" declares no properties`,
      });
    }
    if (!matchesKind(value, kind)) {
      throw new LoomError('INVALID_ARGUMENT', `property "${name}" of type "${type.name}" must be ${kind}, got ${canonicalJson(value)}`, {
        field: where,
      });
    }
  }
  return canonicalJson(props);
}

export function checkedArtifactState(state: unknown, field: string): ArtifactState {
  return requireOneOf(state, ARTIFACT_STATES, field);
}

/** Fails with NOT_FOUND, naming the first few, unless every id is a row of `table`. */
export async function requireExisting(
  db: MetadataKysely,
  table: 'artifact' | 'execution' | 'context',
  ids: number[],
): Promise<void> {
  const wanted = unique(ids);
  if (wanted.length === 0) return;
  const found = new Set<number>();
  for (const part of chunks(wanted, IN_LIST_CHUNK)) {
    const rows = await db.selectFrom(table).select('id').where('id', 'in', part).execute();
    for (const row of rows) found.add(row.id);
  }
  const missing = wanted.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new LoomError('NOT_FOUND', `no ${table} with id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  }
}

/** Loads the named artifact types in one query; NOT_FOUND for a name never registered. */
export async function loadArtifactTypes(db: MetadataKysely, names: string[]): Promise<Map<string, ArtifactType>> {
  const wanted = unique(names);
  const types = new Map<string, ArtifactType>();
  if (wanted.length === 0) return types;
  const rows = await db.selectFrom('artifact_type').selectAll().where('name', 'in', wanted).execute();
  for (const row of rows) types.set(row.name, toArtifactType(row));
  const missing = wanted.find((name) => !types.has(name));
  if (missing !== undefined) {
    throw new LoomError('NOT_FOUND', `no artifact type "${missing}"`, {
      field: 'typeName',
      fix: 'register it with putArtifactType first',
    });
  }
  return types;
}

/** Returns the items found, in the order of `ids`, skipping ids with no row. */
export function inIdOrder<T extends { id: number }>(ids: number[], items: T[]): T[] {
  const byId = new Map(items.map((item) => [item.id, item]));
  return ids.flatMap((id) => {
    const item = byId.get(id);
    return item ? [item] : [];
  });
}
