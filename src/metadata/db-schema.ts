/**
 * The tables of the Loom database as Kysely sees them: the metadata store's and the
 * registry's, which share one database. Both backends store the same shapes: ids are
 * integers, JSON is text, timestamps are epoch milliseconds and booleans are 0/1
 * integers, so every query is written once.
 */
import type { Generated, Kysely } from 'kysely';

export const DIALECT_KINDS = ['sqlite', 'postgres'] as const;
export type DialectKind = (typeof DIALECT_KINDS)[number];

export interface ArtifactTypeTable {
  id: Generated<number>;
  name: string;
  description: string;
  /** JSON: Record<string, PropertyKind>. */
  properties: string;
}

export interface ArtifactTable {
  id: Generated<number>;
  type_id: number;
  uri: string;
  fingerprint: string;
  state: string;
  properties: string;
  created_at: number;
}

export interface ExecutionTable {
  id: Generated<number>;
  type_name: string;
  step_name: string;
  state: string;
  parameters: string;
  code_commit: string | null;
  code_dirty: number;
  cache_key: string | null;
  attempts: number;
  error: string | null;
  properties: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface EventTable {
  id: Generated<number>;
  artifact_id: number;
  execution_id: number;
  type: string;
  name: string;
  created_at: number;
}

export interface ContextTable {
  id: Generated<number>;
  type_name: string;
  name: string;
  properties: string;
  created_at: number;
}

export interface AttributionTable {
  context_id: number;
  artifact_id: number;
}

export interface AssociationTable {
  context_id: number;
  execution_id: number;
}

export interface RegisteredModelTable {
  id: Generated<number>;
  name: string;
  description: string;
  tags: string;
  /** The highest version number handed out; 0 before the first. Bumped under the row lock. */
  latest_version: number;
  created_at: number;
  updated_at: number;
}

export interface ModelVersionTable {
  id: Generated<number>;
  model_id: number;
  version: number;
  source: string;
  artifact_id: number | null;
  run_id: string | null;
  status: string;
  description: string;
  signature: string | null;
  metrics: string;
  tags: string;
  properties: string;
  created_at: number;
}

export interface ModelAliasTable {
  model_id: number;
  alias: string;
  version: number;
}

export interface AliasMoveTable {
  id: Generated<number>;
  model_id: number;
  alias: string;
  version: number | null;
  previous_version: number | null;
  actor: string;
  reason: string;
  moved_at: number;
}

export interface LoomTables {
  artifact_type: ArtifactTypeTable;
  artifact: ArtifactTable;
  execution: ExecutionTable;
  event: EventTable;
  context: ContextTable;
  attribution: AttributionTable;
  association: AssociationTable;
  registered_model: RegisteredModelTable;
  model_version: ModelVersionTable;
  model_alias: ModelAliasTable;
  alias_move: AliasMoveTable;
}

/** The typed query builder both stores share. */
export type LoomKysely = Kysely<LoomTables>;
