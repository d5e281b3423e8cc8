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

/** Experiment tracking (migration 0004_tracking): MLflow's experiments, runs, params, tags and metrics. */
export interface TrackingExperimentTable {
  id: Generated<number>;
  name: string;
  artifact_location: string;
  /** 'active' | 'deleted'. */
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

export interface TrackingExperimentTagTable {
  experiment_id: number;
  key: string;
  value: string;
}

export interface TrackingRunTable {
  /** Keys the metric history (shorter than run_id in every row and index entry). */
  id: Generated<number>;
  /** 32 lowercase hex characters (a uuid4 without dashes), as MLflow makes them. */
  run_id: string;
  experiment_id: number;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
  /** JSON ProcessOwner of the Loom process that started it; null for runs of MLflow clients (migration 0008). */
  owner: string | null;
}

export interface TrackingKeyValueTable {
  run_id: string;
  key: string;
  value: string;
}

/** One metric point of the history. */
export interface TrackingMetricTable {
  /** tracking_run.id */
  run_key: number;
  key: string;
  /** 0 when is_nan is 1. */
  value: number;
  is_nan: number;
  timestamp: number;
  step: number;
}

/** The latest point of each metric of a run. */
export interface TrackingLatestMetricTable {
  run_id: string;
  key: string;
  value: number;
  is_nan: number;
  timestamp: number;
  step: number;
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

/** The online server's prediction log (PostgreSQL backend only). */
export interface PredictionLogTable {
  request_id: string;
  model_name: string;
  model_version: number;
  /** 'primary', 'canary' or 'shadow'. */
  role: string;
  protocol: string;
  features: unknown;
  outputs: unknown;
  latency_ms: number;
  logged_at: number;
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
  model_version_change: ModelVersionChangeTable;
  alias_request: AliasRequestTable;
  deployment: DeploymentTable;
  prediction_log: PredictionLogTable;
  tracking_experiment: TrackingExperimentTable;
  tracking_experiment_tag: TrackingExperimentTagTable;
  tracking_run: TrackingRunTable;
  tracking_param: TrackingKeyValueTable;
  tracking_tag: TrackingKeyValueTable;
  tracking_metric: TrackingMetricTable;
  tracking_latest_metric: TrackingLatestMetricTable;
}

/** The typed query builder both stores share. */
export type LoomKysely = Kysely<LoomTables>;
