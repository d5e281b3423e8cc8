/**
 * The model registry, on MLflow's model: registered models, numbered versions and
 * aliases (`champion`, `challenger`) that move atomically, each move recorded.
 */
import type { JsonObject } from '../core/json.js';
import type { ModelSignature } from '../onnx/signature.js';
import type { AliasMove } from '../queries/views/alias-moves.js';

/** A version records its graph's signature; the types belong to onnx/ and are re-exported for registry callers. */
export type { ModelSignature, TensorSpec } from '../onnx/signature.js';

export const MODEL_VERSION_STATUSES = ['PENDING_REGISTRATION', 'READY', 'FAILED_REGISTRATION'] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

export interface RegisteredModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  /** Alias name -> version number. */
  aliases: Record<string, number>;
  latestVersion: number | null;
  /** Aliases that move only through an approved request (`requestAliasMove` then `approveAliasMove`). */
  approvalRequiredFor: string[];
}


export interface ModelVersion {
  modelName: string;
  version: number;
  /** Artifact-store URI of the served (composed) ONNX model. */
  source: string;
  /** Metadata-store id of the model artifact, for lineage. */
  artifactId: number | null;
  /** Metadata-store id of the pipeline run context (or tracking run) that produced it. */
  runId: string | null;
  status: ModelVersionStatus;
  description: string;
  signature: ModelSignature | null;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  properties: JsonObject;
  /** Where the version came from, beyond its run: data snapshots, transform, model, evaluation. */
  lineage: ModelVersionLineage;
  /** When it was archived (MLflow stage `Archived`); archived versions take no alias. Null while active. */
  archivedAt: number | null;
  createdAt: number;
  updatedAt: number;
}
export type NewModelVersion = Pick<ModelVersion, 'modelName' | 'source'> &
  Partial<Omit<ModelVersion, 'modelName' | 'source' | 'version' | 'createdAt' | 'updatedAt' | 'archivedAt' | 'lineage'>> & {
    lineage?: Partial<ModelVersionLineage>;
  };

/**
 * What judged the version. What it was made from (data snapshots, transform, model) is not
 * copied here: the metadata store's lineage of its artifact answers that (`loom lineage
 * <name>@<version>`, `queries/lineage.ts`), and a copy would only drift from it.
 */
export interface ModelVersionLineage {
  /** The evaluation that judged the version, and its verdict. */
  evaluationUri: string | null;
  blessed: boolean | null;
}

/** What `updateModelVersion` may change. Status moves only from PENDING_REGISTRATION. */
export interface ModelVersionUpdate {
  description?: string;
  status?: ModelVersionStatus;
}

/** Who does something to the registry and why; every alias move records both. */
export interface Actor {
  actor: string;
  reason: string;
}

export const VERSION_CHANGE_KINDS = ['archive', 'restore'] as const;
export type VersionChangeKind = (typeof VERSION_CHANGE_KINDS)[number];

/** A recorded change of a version other than an alias move: who archived or restored it, and why. */
export interface VersionChange {
  modelName: string;
  version: number;
  kind: VersionChangeKind;
  actor: string;
  reason: string;
  changedAt: number;
}

// An alias move is also an API answer the dashboard reads: declared once, in views/ (no Node).
export { ALIAS_MOVE_KINDS, type AliasMove, type AliasMoveKind } from '../queries/views/alias-moves.js';

export const ALIAS_REQUEST_STATES = ['PENDING', 'APPROVED', 'REJECTED'] as const;
export type AliasRequestState = (typeof ALIAS_REQUEST_STATES)[number];

/** A request to move a protected alias, waiting for (or decided by) a second person. */
export interface AliasMoveRequest {
  id: number;
  modelName: string;
  alias: string;
  version: number;
  requestedBy: string;
  reason: string;
  requestedAt: number;
  state: AliasRequestState;
  decidedBy: string | null;
  decidedAt: number | null;
}

/**
 * What still uses a version, so it must not be archived or deleted: the aliases on it, and
 * the roles in which the model's live deployment (serving's `deployment` table) pins it by number.
 */
export interface VersionUse {
  inUse: boolean;
  aliases: string[];
  deployments: string[];
}

/** A tag condition: `=` needs the tag with that value; `!=` matches a missing tag or another value. */
export interface TagCondition {
  key: string;
  op: '=' | '!=';
  value: string;
}

/** Filters of `listRegisteredModels` (MLflow's `name = 'x'` / `name LIKE 'x%'` / `ILIKE` / `tags.k = 'v'`); they combine with AND. */
export interface ModelFilter {
  name?: string;
  nameLike?: string;
  /** Case-insensitive LIKE. */
  nameILike?: string;
  tags?: TagCondition[];
}

/** Filters of `searchModelVersions`; each is optional and they combine with AND. */
export interface VersionFilter extends ModelFilter {
  runId?: string;
  source?: string;
  /** Leave archived versions out (they are included by default, as MLflow does). */
  excludeArchived?: boolean;
}

/**
 * A deleted model as it stays in the database: the model as it was (under its own name)
 * with every version it had, every alias move and every request, and who deleted it when.
 * Deleting returns it (the audit entry's "before"); `modelTombstones` reads it back. The
 * name is free for a new model as soon as the old one is deleted, as in MLflow.
 */
export interface ModelTombstone {
  model: RegisteredModel;
  /** Every version it had, oldest first (those deleted before the model too). */
  versions: ModelVersion[];
  /** Every alias move, oldest first. */
  aliasMoves: AliasMove[];
  requests: AliasMoveRequest[];
  deletedAt: number;
  deletedBy: string;
}
