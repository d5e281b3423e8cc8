/**
 * Experiment tracking in MLflow's vocabulary: experiments hold runs; a run has
 * parameters (set once), metrics (a history of key/value/timestamp/step points; the
 * latest point per key is the run's value), tags, a status and an artifact location.
 * A nested run names its parent in the `mlflow.parentRunId` tag, as MLflow does.
 */
import type { ProcessOwner } from '../core/process-owner.js';
import type { RunInputs, RunOutputs } from './logged-model-types.js';

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const LIFECYCLE_STAGES = ['active', 'deleted'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** Which runs or experiments a search sees, by lifecycle stage (MLflow's ViewType). */
export const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
export type ViewType = (typeof VIEW_TYPES)[number];

/** The tag MLflow clients set on a nested run to name its parent. */
export const PARENT_RUN_TAG = 'mlflow.parentRunId';
/** The tag that mirrors a run's name, as MLflow keeps it. */
export const RUN_NAME_TAG = 'mlflow.runName';
/** Why Loom ended a run itself (its owner process exited without ending it). */
export const FAILURE_REASON_TAG = 'loom.failureReason';
/** The experiment MLflow clients use when none is set. */
export const DEFAULT_EXPERIMENT_ID = '0';

export interface Experiment {
  /** An integer as a string, as MLflow's API has it. */
  experimentId: string;
  name: string;
  /** Where runs' artifacts go: `mlflow-artifacts:/<id>` unless given. */
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  tags: Record<string, string>;
  creationTime: number;
  lastUpdateTime: number;
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  lifecycleStage: LifecycleStage;
  /** `<experiment artifact location>/<run id>/artifacts`. */
  artifactUri: string;
}

/** One metric point. `value` may be NaN or ±Infinity. */
export interface Metric {
  key: string;
  value: number;
  /** Epoch milliseconds. */
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface RunData {
  /** The latest point of each metric (highest step, then latest timestamp), by key. */
  metrics: Metric[];
  params: Record<string, string>;
  tags: Record<string, string>;
}

export interface Run {
  info: RunInfo;
  data: RunData;
  /** The datasets it read (`mlflow.log_input`). */
  inputs: RunInputs;
  /** The logged models it produced. */
  outputs: RunOutputs;
}

/** One write of many values to a run: the one write path (log-metric is a one-item batch). */
export interface LogBatch {
  metrics?: Metric[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

export interface NewExperiment {
  name: string;
  artifactLocation?: string;
  tags?: Record<string, string>;
}

export interface NewRun {
  experimentId?: string;
  runName?: string;
  userId?: string;
  startTime?: number;
  tags?: Record<string, string>;
  status?: RunStatus;
  /**
   * The Loom process that will end the run. If it exits without ending it, the next
   * `failAbandonedRuns` marks the run FAILED. Runs of MLflow clients have none.
   */
  owner?: ProcessOwner;
}

export interface RunUpdate {
  status?: RunStatus;
  endTime?: number | null;
  runName?: string;
}

export interface SearchRunsRequest {
  experimentIds: string[];
  /** MLflow's filter grammar, e.g. `metrics.auc > 0.6 and params.lr = '0.1'`. */
  filter?: string;
  /** e.g. `['metrics.auc DESC', 'attributes.start_time']`; default newest first. */
  orderBy?: string[];
  viewType?: ViewType;
  maxResults?: number;
  pageToken?: string;
}

export interface SearchExperimentsRequest {
  /** `name = 'x'`, `name LIKE 'flights%'`, `tags.team = 'ml'`. */
  filter?: string;
  orderBy?: string[];
  viewType?: ViewType;
  maxResults?: number;
  pageToken?: string;
}
