/**
 * MLflow 3's logged models and a run's inputs and outputs, in Loom's vocabulary. A logged
 * model is what `mlflow.<flavor>.log_model` creates: an entity of its own (id `m-<32 hex>`)
 * in an experiment, optionally made by a run, with params, tags and a status that moves
 * from PENDING to READY (or UPLOAD_FAILED) once its files are uploaded. Its files live at
 * `<experiment artifact location>/models/<model id>/artifacts`, as MLflow's server puts them.
 * A run records the datasets it read (`mlflow.log_input`) and the models it produced.
 */
import type { LifecycleStage, ViewType } from './types.js';

export const LOGGED_MODEL_STATUSES = ['PENDING', 'READY', 'UPLOAD_FAILED'] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** The tag MLflow's `register_model` sets on a logged model: a JSON list of `{name, version}`. */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

export interface LoggedModel {
  /** `m-` and 32 lowercase hex characters, as MLflow makes them. */
  modelId: string;
  experimentId: string;
  name: string;
  /** `<experiment artifact location>/models/<model id>/artifacts`. */
  artifactLocation: string;
  status: LoggedModelStatus;
  /** The flavour-independent kind a user gives (`agent`, `classifier`); empty when none. */
  modelType: string;
  /** The run that made it, if any. */
  sourceRunId: string | null;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdatedTime: number;
  tags: Record<string, string>;
  params: Record<string, string>;
}

export interface NewLoggedModel {
  experimentId: string;
  /** A generated name (`model-<8 hex>`) when left out. */
  name?: string;
  modelType?: string;
  sourceRunId?: string;
  tags?: Record<string, string>;
  params?: Record<string, string>;
}

/** One ORDER BY of a logged-model search: an attribute (`creation_timestamp`, `name`, ...). */
export interface LoggedModelOrder {
  field: string;
  ascending: boolean;
}

export interface SearchLoggedModelsRequest {
  experimentIds: string[];
  /** `name = 'x'`, `status = 'READY'`, `source_run_id = '...'`, `tags.k = 'v'`, `params.k = 'v'`, joined with AND. */
  filter?: string;
  /** Default: newest first. */
  orderBy?: LoggedModelOrder[];
  viewType?: ViewType;
  maxResults?: number;
  pageToken?: string;
}

/** A dataset as MLflow describes it (mlflow.entities.Dataset): name, digest and where it came from. */
export interface Dataset {
  name: string;
  digest: string;
  /** `local`, `http`, `code`, or Loom's `loom` for a dataset version of the Loom project. */
  sourceType: string;
  /** JSON describing the source (a path, a URL, or `{"uri": "loom-dataset://..."}`). */
  source: string;
  /** JSON schema of the dataset, as MLflow writes it; empty when none. */
  schema: string;
  /** JSON profile (row counts and the like); empty when none. */
  profile: string;
}

/** A dataset a run read, with its input tags (`mlflow.data.context`: `training`, `eval`). */
export interface DatasetInput {
  dataset: Dataset;
  tags: Record<string, string>;
}

/** A model a run produced, at a training step. */
export interface ModelOutput {
  modelId: string;
  step: number;
}

export interface RunInputs {
  datasetInputs: DatasetInput[];
}

export interface RunOutputs {
  modelOutputs: ModelOutput[];
}
