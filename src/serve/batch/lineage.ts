/**
 * A batch job in lineage, as MLMD records a component run: an execution (`BatchPredict`
 * or `PrecomputePredictions`) with INPUT events from the model version's artifact and the
 * dataset it read, and one OUTPUT artifact (the predictions), published atomically. A
 * job that fails is recorded FAILED with its error, so failures are visible too.
 *
 * Usage:
 *   const job = await startBatchJob(metadata, { typeName: 'BatchPredict', parameters, inputs });
 *   ... await job.complete({ name: 'predictions', artifact }) or await job.fail(error);
 */
import { asLoomError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { Artifact, NewArtifact } from '../../metadata/types.js';
import { typeRecord } from '../../pipeline/artifact-types.js';
import { readCodeVersion } from '../../pipeline/code-version.js';
import { ExternalDataset, PrecomputedPredictions, Predictions } from './artifact-types.js';
import type { BatchInput } from './input-source.js';

export interface BatchJob {
  executionId: number;
  complete(output: { name: string; artifact: NewArtifact }, properties?: JsonObject): Promise<Artifact>;
  fail(error: unknown): Promise<void>;
}

export interface BatchJobStart {
  typeName: 'BatchPredict' | 'PrecomputePredictions';
  parameters: JsonObject;
  /** The model version's artifact id (null for a version registered without one: then only its name and version are recorded). */
  modelArtifactId: number | null;
  input: BatchInput;
}

/** Records the execution as RUNNING with its inputs. */
export async function startBatchJob(metadata: MetadataStore, start: BatchJobStart): Promise<BatchJob> {
  for (const type of [Predictions, PrecomputedPredictions, ExternalDataset]) await metadata.putArtifactType(typeRecord(type));
  const inputId = 'artifactId' in start.input.lineage ? start.input.lineage.artifactId : (await metadata.putArtifacts([start.input.lineage.artifact]))[0]!.id;
  const execution = await metadata.createExecution({
    typeName: start.typeName,
    stepName: start.typeName === 'BatchPredict' ? 'predict' : 'precompute',
    parameters: start.parameters,
    codeVersion: readCodeVersion(process.cwd()),
    state: 'RUNNING',
    startedAt: Date.now(),
  });
  await metadata.putEvents([
    ...(start.modelArtifactId !== null ? [{ artifactId: start.modelArtifactId, executionId: execution.id, type: 'INPUT' as const, name: 'model' }] : []),
    { artifactId: inputId, executionId: execution.id, type: 'INPUT', name: 'examples' },
  ]);
  return {
    executionId: execution.id,
    async complete(output, properties = {}) {
      const published = await metadata.publishExecution({
        executionId: execution.id,
        state: 'COMPLETE',
        outputs: [output],
        contextIds: [],
        properties,
        endedAt: Date.now(),
      });
      return published.outputs[0]!.artifact;
    },
    async fail(error) {
      await metadata.updateExecution(execution.id, { state: 'FAILED', error: asLoomError(error).describe(), endedAt: Date.now() });
    },
  };
}
