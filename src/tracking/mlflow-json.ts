/**
 * Tracking entities in MLflow's REST JSON shapes (mlflow/protos/service.proto): snake_case
 * fields, tags and params as `[{key, value}]`, and non-finite metric values as the strings
 * "NaN", "Infinity" and "-Infinity", as protobuf JSON writes doubles.
 */
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

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics: MlflowMetric[]; params: MlflowKeyValue[]; tags: MlflowKeyValue[] };
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

export function toMlflowRun(run: Run): MlflowRun {
  return {
    info: toMlflowRunInfo(run.info),
    data: { metrics: run.data.metrics.map(toMlflowMetric), params: keyValues(run.data.params), tags: keyValues(run.data.tags) },
  };
}
