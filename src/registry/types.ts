/**
 * The model registry, on MLflow's model: registered models, numbered versions and
 * aliases (`champion`, `challenger`) that move atomically, each move recorded.
 */
import type { JsonObject } from '../core/json.js';

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
}

/** One input of a served model: its name, element type and shape (-1 for any size). */
export interface TensorSpec {
  name: string;
  type: 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool';
  shape: number[];
}
export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
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
  createdAt: number;
}
export type NewModelVersion = Pick<ModelVersion, 'modelName' | 'source'> &
  Partial<Omit<ModelVersion, 'modelName' | 'source' | 'version' | 'createdAt'>>;

/** One move of an alias; `version` null means the alias was removed. */
export interface AliasMove {
  modelName: string;
  alias: string;
  version: number | null;
  previousVersion: number | null;
  actor: string;
  reason: string;
  movedAt: number;
}
