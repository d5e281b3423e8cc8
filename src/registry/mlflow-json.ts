/**
 * Registry objects in MLflow's REST JSON (model_registry.proto field names), so MLflow
 * clients read Loom's registry unchanged. Versions are strings there; archived versions
 * show as MLflow's `Archived` stage and active ones as `None` (Loom uses aliases, not stages).
 */
import type { ModelVersion, RegisteredModel } from './types.js';

export interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: 'None' | 'Archived';
  description: string;
  source: string;
  run_id?: string;
  run_link?: string;
  /** The MLflow 3 logged model it was registered from. */
  model_id?: string;
  status: ModelVersion['status'];
  tags: { key: string; value: string }[];
  aliases: string[];
}

export interface MlflowRegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  latest_versions: MlflowModelVersion[];
  tags: { key: string; value: string }[];
  aliases: { alias: string; version: string }[];
}

/** What a version registered from an MLflow model keeps of its origin, by property name (see server/mlflow/model-import.ts). */
export const MLFLOW_PROPERTIES = { source: 'mlflowSource', artifactUri: 'mlflowArtifactUri', modelId: 'mlflowModelId', flavors: 'mlflowFlavors' } as const;

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([key, value]) => ({ key, value }));

/** @param modelAliases the model's alias map, to list the aliases each version holds */
export function toMlflowModelVersion(version: ModelVersion, modelAliases: Record<string, number> = {}): MlflowModelVersion {
  const { [MLFLOW_PROPERTIES.source]: mlflowSource, [MLFLOW_PROPERTIES.modelId]: modelId } = version.properties;
  return {
    name: version.modelName,
    version: String(version.version),
    creation_timestamp: version.createdAt,
    last_updated_timestamp: version.updatedAt,
    current_stage: version.archivedAt === null ? 'None' : 'Archived',
    description: version.description,
    // A model registered through MLflow shows the source the client gave (`models:/<model id>`).
    source: typeof mlflowSource === 'string' ? mlflowSource : version.source,
    ...(typeof modelId === 'string' ? { model_id: modelId } : {}),
    ...(version.runId ? { run_id: version.runId } : {}),
    // MLflow's run_link has no column of its own; the create route keeps it in properties.
    ...(typeof version.properties.runLink === 'string' ? { run_link: version.properties.runLink } : {}),
    status: version.status,
    tags: tagList(version.tags),
    aliases: Object.entries(modelAliases).filter(([, v]) => v === version.version).map(([alias]) => alias),
  };
}

export function toMlflowRegisteredModel(model: RegisteredModel, latestVersions: ModelVersion[] = []): MlflowRegisteredModel {
  return {
    name: model.name,
    creation_timestamp: model.createdAt,
    last_updated_timestamp: model.updatedAt,
    description: model.description,
    latest_versions: latestVersions.map((v) => toMlflowModelVersion(v, model.aliases)),
    tags: tagList(model.tags),
    aliases: Object.entries(model.aliases).map(([alias, version]) => ({ alias, version: String(version) })),
  };
}
