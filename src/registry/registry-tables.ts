/**
 * The registry's tables as Kysely sees them: registered models, versions, aliases and how
 * they moved, approval requests, and deployments (which pin versions, so the registry
 * reads them before deleting or archiving one). Migrations are in `migrations.ts` and
 * `deployment-migrations.ts`.
 */
import type { Generated, Kysely } from 'kysely';

export interface RegisteredModelTable {
  id: Generated<number>;
  name: string;
  description: string;
  tags: string;
  /** The highest version number handed out; 0 before the first. Bumped under the row lock. */
  latest_version: number;
  created_at: number;
  updated_at: number;
  /** JSON list of aliases that move only through an approved request (0003). */
  approval_aliases: Generated<string>;
  /** Set when the model was deleted (a tombstone, 0010); `name` is then `<name>@deleted-<id>`. */
  deleted_at: number | null;
  deleted_by: string | null;
  /** The name the model had when it was deleted (0010). */
  deleted_name: string | null;
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
  /** JSON ModelVersionLineage (0003). */
  lineage: Generated<string>;
  /** Null while active (0003). */
  archived_at: number | null;
  /** (0003) */
  updated_at: Generated<number>;
  /** Set when the version, or its model, was deleted (a tombstone, 0010). */
  deleted_at: number | null;
  deleted_by: string | null;
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
  /** set | delete | rollback | approved (0003). */
  kind: Generated<string>;
}

/** A request to move an alias that needs approval (0003). */
export interface AliasRequestTable {
  id: Generated<number>;
  model_id: number;
  alias: string;
  version: number;
  requested_by: string;
  reason: string;
  requested_at: number;
  state: string;
  decided_by: string | null;
  decided_at: number | null;
}

/** One deployment of a served model; the newest row per `model_name` is live. */
export interface DeploymentTable {
  id: Generated<number>;
  model_name: string;
  primary_ref: string;
  canary_ref: string | null;
  canary_weight: number;
  shadow_ref: string | null;
  /** 'hash' (by request id) or 'random'. */
  split: string;
  max_batch_size: number | null;
  max_batch_wait_us: number | null;
  replaces_id: number | null;
  actor: string;
  reason: string;
  created_at: number;
}

/** Who archived or restored a version, when and why (0009). */
export interface ModelVersionChangeTable {
  id: Generated<number>;
  model_id: number;
  version: number;
  /** archive | restore */
  kind: string;
  actor: string;
  reason: string;
  changed_at: number;
}

export interface RegistryTables {
  registered_model: RegisteredModelTable;
  model_version: ModelVersionTable;
  model_alias: ModelAliasTable;
  alias_move: AliasMoveTable;
  model_version_change: ModelVersionChangeTable;
  alias_request: AliasRequestTable;
  deployment: DeploymentTable;
}

/** The typed query builder of the registry and deployment stores. */
export type RegistryKysely = Kysely<RegistryTables>;
