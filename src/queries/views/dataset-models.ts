/**
 * The answer of `/api/loom/datasets/:version/models` (queries/dataset-models.ts), as types: the
 * dashboard imports them too, so this module imports nothing (no Node).
 */

/** A registered model version made from the dataset version. */
export interface DatasetModel {
  name: string;
  version: number;
  /** The PushedModel artifact that records the registration. */
  pushedArtifactId: number;
}

/** The model versions made from a dataset version, by name then newest version first. */
export interface DatasetModels {
  version: string;
  models: DatasetModel[];
}
