/**
 * Finds a registered model version for batch work: the same composed graph serving
 * loads (resolved through the registry, READY only), returned as bytes for the scoring
 * workers (src/serve/batch/score-pool.ts) to open; a graph ONNX Runtime refuses fails
 * there, before any row is read.
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
  /** The composed graph's bytes; the scoring workers open their sessions on them. */
  bytes: Uint8Array;
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
  const bytes = await readFile(ServingModel.files.model(dir));
  const signature = await servingSignature(dir, version.signature, `model "${parsed.name}" version ${version.version}`);
  return { name: parsed.name, version, signature, bytes };
}
