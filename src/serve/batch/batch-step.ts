/**
 * How a batch job is recorded: as one step of its own through the platform's step runner,
 * like `loom evaluate` (a run id, no contexts), never taken from the cache (a job writes its
 * output again). The execution (`BatchPredict` or `PrecomputePredictions`) has INPUT events
 * from the model version's ServingModel artifact and the data it read, and its one OUTPUT
 * (the predictions), published atomically; a job that fails is recorded FAILED with its
 * error. The runner records its parameters without secrets (an output URL's password).
 *
 * Usage: `const outcome = await runBatchStep(services, { component, stepName: 'predict', model, examples, parameters });`
 */
import type { Progress } from '../../core/progress.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { Artifact } from '../../metadata/types.js';
import type { ComponentDef } from '../../pipeline/component.js';
import { readCodeVersion } from '../../pipeline/code-version.js';
import { standaloneScope } from '../../pipeline/run-scope.js';
import { createStepRunner, type StepOutcome, type StepRunner } from '../../pipeline/step-runner.js';
import type { RegistryStore } from '../../registry/store.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import type { BatchModel } from './model-file.js';

export interface BatchServices {
  registry: RegistryStore;
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  /** The platform's runner; one over the stores above when left out. */
  runner?: StepRunner;
}

export interface BatchStepRequest {
  component: ComponentDef;
  stepName: 'predict' | 'precompute';
  model: BatchModel;
  /** What the job reads (see input-source.ts). */
  examples: Artifact;
  parameters: Record<string, unknown>;
  progress?: Progress;
}

/** Runs the job's component; resolves with the COMPLETE outcome, rejects with the step's error. */
export async function runBatchStep(services: BatchServices, request: BatchStepRequest): Promise<StepOutcome> {
  const runner = services.runner ?? createStepRunner({ metadata: services.metadata, registry: services.registry, artifacts: services.artifacts });
  // A version registered by URI alone (through the MLflow API) has no artifact: its name and version are in the parameters.
  const artifactId = request.model.version.artifactId;
  const [model] = artifactId === null ? [] : await services.metadata.getArtifacts([artifactId]);
  const outcome = await runner.run({
    component: request.component,
    stepName: request.stepName,
    inputs: { model, examples: request.examples },
    parameters: request.parameters,
    run: standaloneScope(request.stepName, readCodeVersion(process.cwd())),
    cache: false,
    ...(request.progress ? { progress: request.progress } : {}),
  });
  if (outcome.state !== 'COMPLETE') throw outcome.error!;
  return outcome;
}
