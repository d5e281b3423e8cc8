/**
 * Tracking entities in MLflow's REST JSON shapes (mlflow/protos/service.proto): snake_case
 * fields, tags and params as `[{key, value}]`, and non-finite metric values as the strings
 * "NaN", "Infinity" and "-Infinity", as protobuf JSON writes doubles.
 */
import type { DatasetInput, LoggedModel, LoggedModelStatus } from './logged-model-types.js';
import type { Experiment, Metric, Run, RunInfo } from './types.js';

export interface MlflowKeyValue {
  key: string;
  value: string;
}

export interface MlflowMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  tags: MlflowKeyValue[];
}

export interface MlflowRunInfo {
  run_id: string;
  run_uuid: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface MlflowDatasetInput {
  tags: MlflowKeyValue[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics: MlflowMetric[]; params: MlflowKeyValue[]; tags: MlflowKeyValue[] };
  inputs: { dataset_inputs: MlflowDatasetInput[]; model_inputs: never[] };
  outputs: { model_outputs: { model_id: string; step: number }[] };
}

/** LoggedModelStatus as service.proto names it. */
export const MLFLOW_LOGGED_MODEL_STATUS: Record<LoggedModelStatus, string> = {
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  UPLOAD_FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
};

export interface MlflowLoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: string;
    model_type: string;
    source_run_id?: string;
    tags: MlflowKeyValue[];
  };
  data: { params: MlflowKeyValue[]; metrics: MlflowMetric[] };
}

export function keyValues(record: Record<string, string>): MlflowKeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

/** A double as protobuf JSON writes it. */
export function jsonDouble(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

export function toMlflowMetric(metric: Metric): MlflowMetric {
  return { key: metric.key, value: jsonDouble(metric.value), timestamp: metric.timestamp, step: metric.step };
}

export function toMlflowExperiment(experiment: Experiment): MlflowExperiment {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    creation_time: experiment.creationTime,
    last_update_time: experiment.lastUpdateTime,
    tags: keyValues(experiment.tags),
  };
}

export function toMlflowRunInfo(info: RunInfo): MlflowRunInfo {
  const json: MlflowRunInfo = {
    run_id: info.runId,
    run_uuid: info.runId,
    experiment_id: info.experimentId,
    run_name: info.runName,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    artifact_uri: info.artifactUri,
    lifecycle_stage: info.lifecycleStage,
  };
  if (info.endTime !== null) json.end_time = info.endTime;
  return json;
}

function toMlflowDatasetInput(input: DatasetInput): MlflowDatasetInput {
  const { name, digest, sourceType, source, schema, profile } = input.dataset;
  return {
    tags: keyValues(input.tags),
    dataset: { name, digest, source_type: sourceType, source, ...(schema ? { schema } : {}), ...(profile ? { profile } : {}) },
  };
}

export function toMlflowRun(run: Run): MlflowRun {
  return {
    info: toMlflowRunInfo(run.info),
    data: { metrics: run.data.metrics.map(toMlflowMetric), params: keyValues(run.data.params), tags: keyValues(run.data.tags) },
    inputs: { dataset_inputs: run.inputs.datasetInputs.map(toMlflowDatasetInput), model_inputs: [] },
    outputs: { model_outputs: run.outputs.modelOutputs.map((m) => ({ model_id: m.modelId, step: m.step })) },
  };
}

/** A logged model as service.proto's LoggedModel (metrics of logged models are not recorded, so none). */
export function toMlflowLoggedModel(model: LoggedModel): MlflowLoggedModel {
  return {
    info: {
      model_id: model.modelId,
      experiment_id: model.experimentId,
      name: model.name,
      creation_timestamp_ms: model.creationTime,
      last_updated_timestamp_ms: model.lastUpdatedTime,
      artifact_uri: model.artifactLocation,
      status: MLFLOW_LOGGED_MODEL_STATUS[model.status],
      model_type: model.modelType,
      ...(model.sourceRunId ? { source_run_id: model.sourceRunId } : {}),
      tags: keyValues(model.tags),
    },
    data: { params: keyValues(model.params), metrics: [] },
  };
}
