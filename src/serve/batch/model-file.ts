/**
 * Finds a registered model version for batch work: the same composed graph serving
 * loads (resolved through the registry, READY only), its directory and its one signature.
 * The command resolves it before its step runs (to check the request and name the model
 * in lineage); the executor opens it again by exact version and reads the graph's bytes
 * for the scoring workers (src/serve/batch/score-pool.ts), where a graph ONNX Runtime
 * refuses fails before any row is read.
 */
import { readFile } from 'node:fs/promises';
import { LoomError } from '../../core/errors.js';
import type { RegistryStore } from '../../registry/store.js';
import type { ModelSignature, ModelVersion } from '../../registry/types.js';
import { ServingModel } from '../../pipeline/artifact-types.js';
import { servingSignature } from '../../pipeline/serving-model.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { parseModelRef, resolveModelVersion } from '../../registry/model-ref.js';

export interface BatchModel {
  name: string;
  version: ModelVersion;
  signature: ModelSignature;
  /** The local directory of the version's files. */
  dir: string;
}

export async function openBatchModel(ref: string, services: { registry: RegistryStore; artifacts: ArtifactStore }): Promise<BatchModel> {
  const parsed = parseModelRef(ref);
  const version = await resolveModelVersion(parsed, services.registry);
  if (version.status !== 'READY') {
    throw new LoomError('FAILED_PRECONDITION', `model "${parsed.name}" version ${version.version} is ${version.status}, not READY`, {
      field: '--model',
      fix: 'run `loom models ls` to see registered models, their versions and aliases',
    });
  }
  const dir = await services.artifacts.localPath(version.source);
  const signature = await servingSignature(dir, version.signature, `model "${parsed.name}" version ${version.version}`);
  return { name: parsed.name, version, signature, dir };
}

/** The composed graph's bytes; the scoring workers open their sessions on them. */
export async function batchModelBytes(model: BatchModel): Promise<Uint8Array> {
  return readFile(ServingModel.files.model(model.dir));
}
