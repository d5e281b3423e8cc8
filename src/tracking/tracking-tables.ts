/**
 * The tracking store's tables as Kysely sees them: MLflow's experiments, runs, params,
 * tags and metrics. Migrations are in `migrations.ts`.
 */
import type { Generated, Kysely } from 'kysely';

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

/** An MLflow 3 logged model (migration 0010_tracking_logged_models). */
export interface TrackingLoggedModelTable {
  /** `m-` and 32 lowercase hex characters. */
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  /** 'PENDING' | 'READY' | 'UPLOAD_FAILED'. */
  status: string;
  model_type: string;
  source_run_id: string | null;
  lifecycle_stage: string;
  creation_time: number;
  last_updated_time: number;
}

export interface TrackingLoggedModelKeyValueTable {
  model_id: string;
  key: string;
  value: string;
}

/** A dataset a run read (`log_input`); one row per run, name and digest. */
export interface TrackingDatasetInputTable {
  run_id: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string;
  profile: string;
  /** JSON object of the input's tags. */
  tags: string;
  logged_at: number;
}

/** A model a run produced (`log_outputs`). */
export interface TrackingModelOutputTable {
  run_id: string;
  model_id: string;
  step: number;
}

export interface TrackingTables {
  tracking_experiment: TrackingExperimentTable;
  tracking_experiment_tag: TrackingExperimentTagTable;
  tracking_run: TrackingRunTable;
  tracking_param: TrackingKeyValueTable;
  tracking_tag: TrackingKeyValueTable;
  tracking_metric: TrackingMetricTable;
  tracking_latest_metric: TrackingLatestMetricTable;
  tracking_logged_model: TrackingLoggedModelTable;
  tracking_logged_model_tag: TrackingLoggedModelKeyValueTable;
  tracking_logged_model_param: TrackingLoggedModelKeyValueTable;
  tracking_dataset_input: TrackingDatasetInputTable;
  tracking_model_output: TrackingModelOutputTable;
}

/** The typed query builder of the tracking store. */
export type TrackingKysely = Kysely<TrackingTables>;
