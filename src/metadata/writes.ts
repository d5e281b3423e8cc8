/**
 * The batch writes both `putX` calls and `publishExecution` use. Each is one multi-row
 * INSERT per chunk of rows, never a statement per row, and expects to run inside the
 * caller's transaction.
 */
import { LoomError } from '../core/errors.js';
import type { MetadataKysely } from './db-schema.js';
import {
  checkedArtifactState,
  checkedProperties,
  loadArtifactTypes,
  requireExisting,
  toArtifact,
} from './metadata-rows.js';
import { chunks, INSERT_CHUNK_ROWS, requireName, requireOneOf, unique } from './query-helpers.js';
import { EVENT_TYPES, type Artifact, type NewArtifact, type NewEvent } from './types.js';

/**
 * Validates and inserts artifacts, returning them in the order given. Unknown type →
 * NOT_FOUND; an undeclared or mistyped property → INVALID_ARGUMENT naming it.
 * `field` prefixes the names in error messages (`artifacts` or `outputs`).
 */
export async function insertArtifacts(db: MetadataKysely, artifacts: NewArtifact[], now: number, field: string): Promise<Artifact[]> {
  if (artifacts.length === 0) return [];
  const types = await loadArtifactTypes(
    db,
    artifacts.map((a, i) => requireName(a.typeName, `${field}[${i}].typeName`)),
  );
  const rows = artifacts.map((a, i) => {
    const type = types.get(a.typeName)!;
    return {
      type_id: type.id,
      uri: requireName(a.uri, `${field}[${i}].uri`),
      fingerprint: requireName(a.fingerprint, `${field}[${i}].fingerprint`),
      // New artifacts are LIVE unless the caller says otherwise (e.g. PENDING while uploading).
      state: checkedArtifactState(a.state ?? 'LIVE', `${field}[${i}].state`),
      properties: checkedProperties(type, a.properties, `${field}[${i}].properties`),
      created_at: now,
    };
  });
  const typeNameById = new Map([...types.values()].map((t) => [t.id, t.name]));
  const inserted: Artifact[] = [];
  for (const part of chunks(rows, INSERT_CHUNK_ROWS)) {
    const returned = await db.insertInto('artifact').values(part).returning(['id', 'type_id']).execute();
    // Ids grow in VALUES order on both backends, so sorting them restores the input order
    // whatever order RETURNING hands them back in.
    const ids = returned.map((r) => r.id).sort((a, b) => a - b);
    ids.forEach((id, i) => {
      const row = part[i];
      inserted.push(toArtifact({ ...row, id, type_name: typeNameById.get(row.type_id)! }));
    });
  }
  return inserted;
}

/** Checks events and inserts them; an event already recorded is left as it is. */
export async function insertEvents(db: MetadataKysely, events: NewEvent[], now: number): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e, i) => {
    if (!Number.isSafeInteger(e.artifactId) || !Number.isSafeInteger(e.executionId)) {
      throw new LoomError('INVALID_ARGUMENT', `events[${i}] needs integer artifactId and executionId`, { field: `events[${i}]` });
    }
    return {
      artifact_id: e.artifactId,
      execution_id: e.executionId,
      type: requireOneOf(e.type, EVENT_TYPES, `events[${i}].type`),
      name: requireName(e.name, `events[${i}].name`),
      created_at: now,
    };
  });
  await requireExisting(db, 'artifact', rows.map((r) => r.artifact_id));
  await requireExisting(db, 'execution', rows.map((r) => r.execution_id));
  for (const part of chunks(rows, INSERT_CHUNK_ROWS)) {
    await db
      .insertInto('event')
      .values(part)
      .onConflict((oc) => oc.columns(['execution_id', 'type', 'name', 'artifact_id']).doNothing())
      .execute();
  }
}

/** Links artifacts and executions to contexts (all of them to each context); idempotent. */
export async function insertContextLinks(
  db: MetadataKysely,
  contextIds: number[],
  links: { executionIds?: number[]; artifactIds?: number[] },
): Promise<void> {
  const contexts = unique(contextIds);
  const artifactIds = unique(links.artifactIds ?? []);
  const executionIds = unique(links.executionIds ?? []);
  await requireExisting(db, 'context', contexts);
  await requireExisting(db, 'artifact', artifactIds);
  await requireExisting(db, 'execution', executionIds);
  const attributions = contexts.flatMap((context_id) => artifactIds.map((artifact_id) => ({ context_id, artifact_id })));
  for (const part of chunks(attributions, INSERT_CHUNK_ROWS)) {
    await db
      .insertInto('attribution')
      .values(part)
      .onConflict((oc) => oc.columns(['context_id', 'artifact_id']).doNothing())
      .execute();
  }
  const associations = contexts.flatMap((context_id) => executionIds.map((execution_id) => ({ context_id, execution_id })));
  for (const part of chunks(associations, INSERT_CHUNK_ROWS)) {
    await db
      .insertInto('association')
      .values(part)
      .onConflict((oc) => oc.columns(['context_id', 'execution_id']).doNothing())
      .execute();
  }
}
