/**
 * Registry rows to registry objects, and the checks on what callers send in.
 */
import type { Selectable } from 'kysely';
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { AliasMoveTable, AliasRequestTable, ModelVersionTable, RegisteredModelTable } from './registry-tables.js';
import { parseJsonObject, parseJsonRecord, requireObject } from '../metadata/query-helpers.js';
import type {
  AliasMove,
  AliasMoveKind,
  AliasMoveRequest,
  AliasRequestState,
  ModelSignature,
  ModelVersion,
  ModelVersionLineage,
  ModelVersionStatus,
  RegisteredModel,
} from './types.js';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;
// Like MLflow, an alias must not look like a version number, so `models:/m/3` is never ambiguous.
const ALIAS_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

export function checkedModelName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
    throw new LoomError('INVALID_ARGUMENT', `model name must be 1-256 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`, {
      field,
    });
  }
  return name;
}

export function checkedAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS_NAME.test(alias)) {
    throw new LoomError('INVALID_ARGUMENT', `alias must start with a letter or '_' and hold letters, digits, '_' or '-', got ${JSON.stringify(alias)}`, {
      field: 'alias',
    });
  }
  return alias;
}

export function checkedVersion(version: unknown): number {
  if (!Number.isSafeInteger(version) || (version as number) < 1) {
    throw new LoomError('INVALID_ARGUMENT', `version must be an integer from 1, got ${String(version)}`, { field: 'version' });
  }
  return version as number;
}

/** Tags are string to string; returned as canonical JSON text. */
export function checkedTags(tags: unknown, field = 'tags'): string {
  const object = requireObject(tags, field);
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'string') {
      throw new LoomError('INVALID_ARGUMENT', `tag "${key}" must be a string`, { field: `${field}.${key}` });
    }
  }
  return canonicalJson(object);
}

export function checkedMetrics(metrics: unknown): string {
  const object = requireObject(metrics, 'metrics');
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new LoomError('INVALID_ARGUMENT', `metric "${key}" must be a finite number`, { field: `metrics.${key}` });
    }
  }
  return canonicalJson(object);
}

export function checkedSignature(signature: unknown): string | null {
  if (signature === undefined || signature === null) return null;
  const s = signature as Partial<ModelSignature>;
  if (typeof signature !== 'object' || !Array.isArray(s.inputs) || !Array.isArray(s.outputs)) {
    throw new LoomError('INVALID_ARGUMENT', 'signature must have inputs and outputs lists', { field: 'signature' });
  }
  return canonicalJson(signature);
}

export function toRegisteredModel(row: Selectable<RegisteredModelTable>, aliases: Record<string, number>): RegisteredModel {
  return {
    name: row.name,
    description: row.description,
    tags: parseJsonRecord<string>(row.tags),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    aliases,
    latestVersion: row.latest_version > 0 ? row.latest_version : null,
    approvalRequiredFor: JSON.parse(row.approval_aliases) as string[],
  };
}

export function toModelVersion(row: Selectable<ModelVersionTable> & { model_name: string }): ModelVersion {
  return {
    modelName: row.model_name,
    version: row.version,
    source: row.source,
    artifactId: row.artifact_id,
    runId: row.run_id,
    status: row.status as ModelVersionStatus,
    description: row.description,
    signature: row.signature === null ? null : (JSON.parse(row.signature) as ModelSignature),
    metrics: parseJsonRecord<number>(row.metrics),
    tags: parseJsonRecord<string>(row.tags),
    properties: parseJsonObject(row.properties),
    lineage: storedLineage(row.lineage),
    archivedAt: row.archived_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toAliasMove(row: Selectable<AliasMoveTable>, modelName: string): AliasMove {
  return {
    modelName,
    alias: row.alias,
    version: row.version,
    previousVersion: row.previous_version,
    actor: row.actor,
    reason: row.reason,
    movedAt: row.moved_at,
    kind: row.kind as AliasMoveKind,
  };
}

export function toAliasRequest(row: Selectable<AliasRequestTable>, modelName: string): AliasMoveRequest {
  return {
    id: row.id,
    modelName,
    alias: row.alias,
    version: row.version,
    requestedBy: row.requested_by,
    reason: row.reason,
    requestedAt: row.requested_at,
    state: row.state as AliasRequestState,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
  };
}

const EMPTY_LINEAGE: ModelVersionLineage = { evaluationUri: null, blessed: null };

/**
 * A version's lineage as stored. Rows written before `dataVersions`, `transformUri` and
 * `modelUri` were dropped (never filled: the metadata store answers them) still hold them;
 * only the fields a version has today are read.
 */
function storedLineage(text: string): ModelVersionLineage {
  const stored = JSON.parse(text) as Partial<ModelVersionLineage>;
  return { evaluationUri: stored.evaluationUri ?? null, blessed: stored.blessed ?? null };
}

/** Lineage as canonical JSON text; every URI a non-empty string or null. */
export function checkedLineage(lineage: unknown): string {
  const object = requireObject(lineage, 'lineage') as Partial<Record<keyof ModelVersionLineage, unknown>>;
  const known = new Set(Object.keys(EMPTY_LINEAGE));
  for (const key of Object.keys(object)) {
    if (!known.has(key)) throw new LoomError('INVALID_ARGUMENT', `lineage has no field "${key}"`, { field: `lineage.${key}`, fix: `use ${[...known].join(', ')}` });
  }
  const full = { ...EMPTY_LINEAGE, ...object };
  if (full.evaluationUri !== null && (typeof full.evaluationUri !== 'string' || full.evaluationUri === '')) {
    throw new LoomError('INVALID_ARGUMENT', 'lineage.evaluationUri must be a non-empty string or null', { field: 'lineage.evaluationUri' });
  }
  if (full.blessed !== null && typeof full.blessed !== 'boolean') {
    throw new LoomError('INVALID_ARGUMENT', 'lineage.blessed must be true, false or null', { field: 'lineage.blessed' });
  }
  return canonicalJson(full);
}

/** A tag key: non-empty, at most 250 characters (MLflow's limit). */
export function checkedTagKey(key: unknown): string {
  if (typeof key !== 'string' || key === '' || key.length > 250) {
    throw new LoomError('INVALID_ARGUMENT', `tag key must be 1-250 characters, got ${JSON.stringify(key)}`, { field: 'key' });
  }
  return key;
}
