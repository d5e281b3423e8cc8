/**
 * Registering a model an MLflow client logged (`mlflow.register_model`, or `log_model(...,
 * registered_model_name=...)`). MLflow 3 registers `models:/<model id>` (a logged model);
 * MLflow 2 registers the run's artifact URI (`mlflow-artifacts:/<exp>/<run>/artifacts/model`).
 * Either way the model's files are on this server, under the tracking artifact root.
 *
 * An ONNX-flavoured model (`mlflow.onnx.log_model`) becomes a ServingModel artifact in the
 * content-addressed store (its graph as `model.onnx`, its signature as `signature.json`),
 * so `loom serve` serves it like a model a pipeline pushed. Any other flavour (sklearn,
 * pyfunc) is registered by its MLflow location only: Loom runs no Python at serving time,
 * so those models load with `mlflow.pyfunc.load_model` but are not served by `loom serve`.
 * For scikit-learn, log `mlflow.onnx.log_model(skl2onnx.to_onnx(model, X[:1], options={id(model): {'zipmap': False}}))`.
 * In both cases the version remembers the MLflow location, which `get-download-uri` gives
 * back so `mlflow.pyfunc.load_model("models:/name@alias")` downloads the files MLflow wrote.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoomError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import { readSignature } from '../../onnx/inspect.js';
import type { ModelSignature } from '../../onnx/signature.js';
import { ServingModel } from '../../pipeline/artifact-types.js';
import { MLFLOW_PROPERTIES } from '../../registry/mlflow-json.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { mlflowArtifactsPath, type RunArtifactFiles } from '../../tracking/artifact-files.js';
import type { TrackingStore } from '../../tracking/store.js';
import { MLMODEL_FILE, onnxModelFile, onnxServingSignature, parseMlmodel } from './mlmodel.js';

const LOGGED_MODEL_URI = /^models:\/(m-[0-9a-f]{32})\/?$/;

export interface ImportedMlflowModel {
  /** The version's source: the ServingModel artifact's URI for ONNX, else the MLflow source as given. */
  source: string;
  signature: ModelSignature | null;
  /** The logged model's run, when the client named none. */
  runId: string | null;
  properties: JsonObject;
}

export interface ImportServices {
  tracking: TrackingStore;
  files: RunArtifactFiles;
  artifacts: ArtifactStore;
}

/** The MLflow location of a registration's source, or undefined when it is not an MLflow model on this server. */
async function locate(source: string, modelId: string | undefined, tracking: TrackingStore) {
  const id = modelId || LOGGED_MODEL_URI.exec(source)?.[1];
  if (id) {
    const model = await tracking.getLoggedModel(id);
    if (!model) throw new LoomError('NOT_FOUND', `no logged model with id ${JSON.stringify(id)}`, { field: 'model_id', fix: 'register a model logged to this server (mlflow.<flavor>.log_model)' });
    return { artifactUri: model.artifactLocation, modelId: id, runId: model.sourceRunId };
  }
  return source.startsWith('mlflow-artifacts:') ? { artifactUri: source, modelId: undefined, runId: null } : undefined;
}

/**
 * Imports the MLflow model a registration names (see the module comment); undefined when
 * the source is not an MLflow model on this server (a Loom artifact URI), which registers
 * unchanged. INVALID_ARGUMENT when the location holds no MLmodel file or a bad ONNX model.
 */
export async function importMlflowModel(source: string, modelId: string | undefined, services: ImportServices): Promise<ImportedMlflowModel | undefined> {
  const location = await locate(source, modelId, services.tracking);
  if (!location) return undefined;
  const root = mlflowArtifactsPath(location.artifactUri);
  if (root === undefined) return undefined;
  const mlmodelText = await readText(services.files, `${root}/${MLMODEL_FILE}`, location.artifactUri);
  const mlmodel = parseMlmodel(mlmodelText);
  const properties: JsonObject = {
    [MLFLOW_PROPERTIES.source]: source,
    [MLFLOW_PROPERTIES.artifactUri]: location.artifactUri,
    [MLFLOW_PROPERTIES.flavors]: Object.keys(mlmodel.flavors),
    ...(location.modelId ? { [MLFLOW_PROPERTIES.modelId]: location.modelId } : {}),
  };
  const onnxFile = onnxModelFile(mlmodel);
  if (onnxFile === undefined) return { source, signature: null, runId: location.runId, properties };

  const graphPath = `${root}/${onnxFile}`;
  const bytes = await readBytes(services.files, graphPath, location.artifactUri);
  let graphSignature: ModelSignature;
  try {
    graphSignature = readSignature(bytes);
  } catch (error) {
    throw new LoomError('INVALID_ARGUMENT', `${onnxFile} of ${location.artifactUri} is not an ONNX model: ${(error as Error).message}`, { field: 'source', fix: 'log the model again with mlflow.onnx.log_model' });
  }
  const signature = onnxServingSignature(mlmodel, graphSignature);
  const staging = await services.artifacts.stage();
  try {
    await copyFile(join(services.files.root, services.files.checkedPath(graphPath)), ServingModel.files.model(staging));
    await writeFile(ServingModel.files.signature(staging), JSON.stringify(signature, null, 2));
    const committed = await services.artifacts.commit(staging);
    return { source: committed.uri, signature, runId: location.runId, properties };
  } catch (error) {
    await services.artifacts.discard(staging).catch(() => {});
    throw error;
  }
}

async function readBytes(files: RunArtifactFiles, path: string, artifactUri: string): Promise<Buffer> {
  let read;
  try {
    read = await files.read(path);
  } catch (error) {
    if (error instanceof LoomError && error.code === 'NOT_FOUND') {
      throw new LoomError('INVALID_ARGUMENT', `${artifactUri} holds no ${path.split('/').at(-1)}: it is not an MLflow model whose files were uploaded`, {
        field: 'source',
        fix: 'register a model after mlflow.<flavor>.log_model has finished uploading it',
      });
    }
    throw error;
  }
  return Buffer.concat(await read.stream.toArray());
}

async function readText(files: RunArtifactFiles, path: string, artifactUri: string): Promise<string> {
  return (await readBytes(files, path, artifactUri)).toString('utf8');
}
