/**
 * Loads a registered model for serving: resolves a reference (`flights`, `flights@champion`,
 * `flights@3`) through the registry to one version, finds its files through the artifact
 * store, and opens an ONNX Runtime session on the composed graph.
 *
 * Usage: `const model = await loadModel('flights@champion', { registry, artifacts }); ... await model.close();`
 */
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import { ServingModel } from '../pipeline/artifact-types.js';
import { servingSignature } from '../pipeline/serving-model.js';
import { MLFLOW_PROPERTIES } from '../registry/mlflow-json.js';
import { MODEL_LIST_FIX, parseModelRef, resolveModelVersion } from '../registry/model-ref.js';
import type { RegistryStore } from '../registry/store.js';
import type { ModelSignature, ModelVersion } from '../registry/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { Batcher, DEFAULT_BATCH_CONFIG, type BatchConfig } from './batcher.js';
import { compileSignature, dummyRow, type CompiledSignature } from './features.js';
import type { ModelMetrics } from './metrics.js';

/** A model version ready to answer requests, with its batcher and in-flight count. */
export interface LoadedModel {
  /** The reference it was loaded by, as written (`flights@champion`). */
  ref: string;
  name: string;
  version: ModelVersion;
  signature: ModelSignature;
  compiled: CompiledSignature;
  session: ort.InferenceSession;
  batcher: Batcher;
  /** Metric children bound to this version (set by the server that loaded it). */
  metrics?: ModelMetrics;
  /** Counts a request in; pair with `release()`. A draining model still finishes what it took. */
  acquire(): void;
  release(): void;
  /** Requests taken and not yet released. */
  readonly inFlight: number;
  /** Waits for every request taken to be released, then releases the session. Idempotent. */
  close(): Promise<void>;
}

/** Batching knobs and the hook that sees every run's size. */
export interface LoadOptions {
  batch?: BatchConfig;
  onRun?: (rows: number) => void;
}

export interface ModelLoaderServices {
  registry: RegistryStore;
  artifacts: ArtifactStore;
}

/** Resolves, fetches, opens and warms up a model (see `openModelVersion`). */
export async function loadModel(ref: string, services: ModelLoaderServices, options: LoadOptions = {}): Promise<LoadedModel> {
  const parsed = parseModelRef(ref);
  const version = await resolveModelVersion(parsed, services.registry);
  return openModelVersion(ref, version, services, options);
}

/**
 * Opens a registered version: its files through the artifact store, an ONNX Runtime
 * session with one intra-op thread (a server runs many requests side by side), then a
 * warm-up inference on a signature-valid dummy row, so a corrupt or incompatible file
 * fails here and never on a request.
 */
export async function openModelVersion(ref: string, version: ModelVersion, services: ModelLoaderServices, options: LoadOptions = {}): Promise<LoadedModel> {
  const name = version.modelName;
  if (version.status !== 'READY') {
    throw new LoomError('FAILED_PRECONDITION', `model "${name}" version ${version.version} is ${version.status}, not READY`, {
      field: 'model',
      fix: MODEL_LIST_FIX,
    });
  }
  const flavors = version.properties[MLFLOW_PROPERTIES.flavors];
  if (Array.isArray(flavors) && !version.source.startsWith('loom-artifact:')) {
    // Registered through MLflow without an onnx flavour (server/mlflow/model-import.ts): Loom runs no Python.
    throw new LoomError('FAILED_PRECONDITION', `model "${name}" version ${version.version} was logged through MLflow as ${flavors.join(', ')}, with no onnx flavour, so loom serve cannot run it`, {
      field: 'model',
      fix: 'log it with mlflow.onnx.log_model (for scikit-learn: skl2onnx.to_onnx(model, X[:1], options={id(model): {"zipmap": False}})) and register that',
    });
  }
  const dir = await services.artifacts.localPath(version.source);
  const signature = await servingSignature(dir, version.signature, `model "${name}" version ${version.version}`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(ServingModel.files.model(dir), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new LoomError('FAILED_PRECONDITION', `model "${name}" version ${version.version} cannot be loaded by ONNX Runtime: ${(error as Error).message}`, {
      field: 'model',
      fix: 'the model file is damaged or not ONNX; push a good version and move the alias to it',
    });
  }
  const compiled = compileSignature(signature);
  const batcher = new Batcher(session, compiled, signature.outputs, options.batch ?? DEFAULT_BATCH_CONFIG, options.onRun);
  try {
    await batcher.run(dummyRow(compiled));
  } catch (error) {
    await session.release().catch(() => {});
    throw new LoomError('FAILED_PRECONDITION', `model "${name}" version ${version.version} failed its warm-up inference: ${(error as Error).message}`, {
      field: 'model',
      fix: 'check that the model graph takes the inputs its signature names; push a good version',
    });
  }
  let inFlight = 0;
  let drained: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  return {
    ref,
    name,
    version,
    signature,
    compiled,
    session,
    batcher,
    acquire() {
      inFlight++;
    },
    release() {
      inFlight--;
      if (inFlight === 0 && drained) drained();
    },
    get inFlight() {
      return inFlight;
    },
    close() {
      closing ??= (async () => {
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        await session.release();
      })();
      return closing;
    },
  };
}

