/**
 * The metadata (lineage) store's tables as Kysely sees them: artifact types, artifacts,
 * executions, the events that join them, and contexts. Migrations are in `migrations.ts`;
 * other stores declare their own tables beside their code.
 */
import type { Generated, Kysely } from 'kysely';

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
  /** JSON ProcessOwner of the process running it (migration 0007). */
  owner: string | null;
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

/** One line of an execution's log (migration 0012, `execution-log.ts`). */
export interface ExecutionLogTable {
  execution_id: number;
  seq: number;
  logged_at: number;
  line: string;
}

/** How many lines of an execution's log were beyond the cap and not kept. */
export interface ExecutionLogDroppedTable {
  execution_id: number;
  dropped: number;
}

export interface MetadataTables {
  artifact_type: ArtifactTypeTable;
  artifact: ArtifactTable;
  execution: ExecutionTable;
  event: EventTable;
  context: ContextTable;
  attribution: AttributionTable;
  association: AssociationTable;
  execution_log: ExecutionLogTable;
  execution_log_dropped: ExecutionLogDroppedTable;
}

/** The typed query builder of the metadata store. */
export type MetadataKysely = Kysely<MetadataTables>;
