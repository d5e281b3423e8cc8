/**
 * The one way a step runs and is recorded, whether a pipeline, `loom evaluate`, `loom data
 * validate` or `loom predict` asks (TFX's driver → executor → publisher): record the
 * execution with its inputs → check its condition → look up the cache by the step's
 * fingerprint → hand a plain-data context to the launcher (retrying what may pass, with
 * exponential backoff) → check the typed properties → commit the outputs to the artifact
 * store → publish them with the execution in one transaction. The cache entry (a COMPLETE
 * execution with its key) exists only once the outputs are committed. A verdict that
 * fails the step (a validation with errors) publishes its outputs first, then fails.
 *
 * Usage:
 *   const runner = createStepRunner({ metadata, artifacts, registry, tracking });
 *   const outcome = await runner.run({ component: evaluateComponent, stepName: 'evaluate', inputs, parameters, run });
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { asLoomError, LoomError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { redactSecrets } from '../core/redact.js';
import { parseInput } from '../core/validation.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact, CodeVersion, ExecutionState } from '../metadata/types.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { EXECUTION_TAG, PIPELINE_RUN_TAG, PIPELINE_TAG, STEP_TAG } from '../tracking/logger.js';
import type { TrackingStore } from '../tracking/store.js';
import { typeRecord } from './artifact-types.js';
import { stepCacheKey } from './cache-key.js';
import type { ComponentDef, InputArtifact } from './component.js';
import type { StepCondition } from './dsl.js';
import { inProcessLauncher, type Launcher, type MlflowServerFactory } from './launcher.js';
import { stepLogRecorder } from './step-log.js';
import { finishCheckpoints, publishAttempt, stageOutputs, stepCheckpoints } from './step-outputs.js';

/** The run a step belongs to: a pipeline run, or the run a command records for itself. */
export interface StepRunScope {
  runId: string;
  pipelineName: string;
  /** Contexts (the pipeline and its run) the execution joins at start and its outputs at publish. */
  contextIds: number[];
  codeVersion: CodeVersion;
}


export interface StepRequest {
  component: ComponentDef;
  stepName: string;
  /** Resolved input artifacts; an optional input may be absent. */
  inputs: Record<string, Artifact | undefined>;
  /** Checked against the component's parameter schema; defaults apply. */
  parameters: unknown;
  run: StepRunScope;
  /** Run only when an input's property has this value; SKIPPED otherwise. */
  when?: StepCondition;
  /** Attempts after the first for a retryable error. */
  retries?: number;
  /** First retry waits this long; each later one twice as long. Default 500. */
  retryDelayMs?: number;
  /** Whether an equal earlier execution may stand in (default true). Commands that must do the work again say false. */
  cache?: boolean;
  /** Where checkpoints live (`<root>/<cache key>`); without it the step gets none. */
  checkpointRoot?: string;
  /** A checkpoint directory to continue from (`loom train --resume`). */
  resumeFrom?: string;
  progress?: Progress;
  log?: (line: string) => void;
}

export interface StepOutcome {
  step: string;
  component: string;
  state: ExecutionState;
  executionId: number;
  /** Published outputs; a step failed by its verdict has them too. */
  outputs: Record<string, Artifact>;
  error?: LoomError;
  durationMs: number;
}

export interface StepRunner {
  readonly metadata: MetadataStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  run(request: StepRequest): Promise<StepOutcome>;
  /** Records a step that did not run (an upstream step failed or was skipped). */
  recordNotRun(request: Pick<StepRequest, 'component' | 'stepName' | 'parameters' | 'run'>, state: 'CANCELED' | 'SKIPPED', reason: string): Promise<StepOutcome>;
}

export interface StepRunnerOptions {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  registry: RegistryStore;
  /** Where executors' live metrics go (the default launcher's tracking logger). */
  tracking?: TrackingStore;
  /** Where executors run; default in this process with the stores above. */
  launcher?: Launcher;
  /** For the default launcher: an MLflow endpoint for custom trainers (the CLI supplies one). */
  mlflowServer?: MlflowServerFactory;
}

export function createStepRunner(options: StepRunnerOptions): StepRunner {
  const { metadata, artifacts, registry } = options;
  const launcher = options.launcher ?? inProcessLauncher({ registry, artifacts, tracking: options.tracking, mlflowServer: options.mlflowServer });
  const registered = new Set<string>();

  async function run(request: StepRequest): Promise<StepOutcome> {
    const startedAt = Date.now();
    const { component, run: scope } = request;
    for (const type of Object.values(component.outputs)) {
      if (!registered.has(type.name)) await metadata.putArtifactType(typeRecord(type));
      registered.add(type.name);
    }
    const parameters = parseInput(component.parameters, request.parameters, { what: `parameters of step "${request.stepName}" (${component.name})` }) as JsonObject;
    // Recorded (and keyed) without secrets; the executor below gets the real values. A
    // credential changes who reads, not what is computed, so it stays out of the cache key too.
    const recorded = redactSecrets(parameters);
    const inputFingerprints = Object.fromEntries(Object.keys(component.inputs).map((name) => [name, request.inputs[name]?.fingerprint ?? null]));
    const cacheKey = stepCacheKey(component, recorded, inputFingerprints);
    const execution = await metadata.createExecution({
      typeName: component.name,
      stepName: request.stepName,
      parameters: recorded,
      codeVersion: scope.codeVersion,
      cacheKey,
      state: 'RUNNING',
      startedAt,
    });
    // Joined at start, so a run that is still going (or crashed) lists its execution.
    for (const contextId of scope.contextIds) await metadata.addToContext(contextId, { executionIds: [execution.id] });
    await metadata.putEvents(
      Object.entries(request.inputs).flatMap(([name, artifact]) => (artifact ? [{ artifactId: artifact.id, executionId: execution.id, type: 'INPUT' as const, name }] : [])),
    );
    const outcome = (state: ExecutionState, outputs: Record<string, Artifact>, error?: LoomError): StepOutcome => ({
      step: request.stepName,
      component: component.name,
      state,
      executionId: execution.id,
      outputs,
      error,
      durationMs: Date.now() - startedAt,
    });

    const skipReason = conditionFailure(request);
    if (skipReason) {
      await metadata.updateExecution(execution.id, { state: 'SKIPPED', endedAt: Date.now(), properties: { reason: skipReason } });
      return outcome('SKIPPED', {});
    }
    const external = () => component.externalFingerprint?.(parameters) ?? Promise.resolve(null);
    const cached = request.cache === false ? undefined : await findUsableCache(cacheKey, await external());
    if (cached) {
      const published = await metadata.publishExecution({
        executionId: execution.id,
        state: 'CACHED',
        outputs: cached.outputs.map(({ name, artifact }) => ({ name, artifact: { id: artifact.id } })),
        contextIds: scope.contextIds,
        properties: { cachedFrom: cached.execution.id },
        endedAt: Date.now(),
      });
      return outcome('CACHED', Object.fromEntries(published.outputs.map(({ name, artifact }) => [name, artifact])));
    }

    const inputs = await toInputArtifacts(request.inputs);
    // Every line is kept with the execution (the dashboard shows it, live) as well as shown to the caller.
    const recorder = stepLogRecorder(metadata, execution.id, { warn: (message) => (request.log ? request.log(message) : process.emitWarning(message)) });
    const log = (message: string) => {
      recorder.write(message);
      request.log?.(`  · ${message}`);
    };
    for (let attempt = 1; ; attempt += 1) {
      const checkpoints = await stepCheckpoints(request, cacheKey);
      const staging = await stageOutputs(artifacts, component);
      try {
        const result = await launcher.launch({
          component,
          context: {
            inputs,
            outputs: staging.dirs,
            parameters,
            run: { runId: scope.runId, pipelineName: scope.pipelineName, stepName: request.stepName, executionId: execution.id },
            ...(checkpoints ? { checkpoints } : {}),
          },
          tracking: {
            experimentName: scope.pipelineName || 'Default',
            runName: `${request.stepName}-${execution.id}`,
            tags: { [EXECUTION_TAG]: String(execution.id), [PIPELINE_RUN_TAG]: scope.runId, [PIPELINE_TAG]: scope.pipelineName, [STEP_TAG]: request.stepName },
          },
          progress: request.progress ?? silentProgress,
          log,
        });
        // The log is complete before the outcome is recorded, so a finished step shows all of it.
        await recorder.flush();
        const published = await publishAttempt({ metadata, artifacts }, { component, executionId: execution.id, contextIds: scope.contextIds, staging, result, external });
        if (result.failure) {
          const error = new LoomError(result.failure.code, result.failure.message, { retryable: false, ...(result.failure.fix ? { fix: result.failure.fix } : {}) });
          return outcome('FAILED', published, error);
        }
        await finishCheckpoints(checkpoints);
        return outcome('COMPLETE', published);
      } catch (thrown) {
        const error = asLoomError(thrown);
        if (!(error.retryable && attempt <= (request.retries ?? 0))) {
          await recorder.flush();
          await metadata.updateExecution(execution.id, { state: 'FAILED', error: error.describe(), attempts: attempt, endedAt: Date.now() });
          return outcome('FAILED', {}, error);
        }
        const delay = (request.retryDelayMs ?? 500) * 2 ** (attempt - 1);
        const retrying = `step ${request.stepName} attempt ${attempt} failed (${error.message}); retrying in ${delay} ms`;
        recorder.write(retrying);
        request.log?.(retrying);
        await metadata.updateExecution(execution.id, { attempts: attempt + 1 });
        await sleep(delay);
      } finally {
        // Committed staging directories are gone already; the rest never become artifacts.
        await staging.discard();
        await recorder.flush();
      }
    }
  }

  /**
   * A cache hit counts only if the outside state the step read is unchanged since it ran
   * and every output's files are still in the artifact store.
   */
  async function findUsableCache(cacheKey: string, externalFingerprint: string | null) {
    const cached = await metadata.findCachedExecution(cacheKey);
    if (!cached) return undefined;
    if ((cached.execution.properties.externalFingerprint ?? null) !== externalFingerprint) return undefined;
    for (const { artifact } of cached.outputs) {
      if (!(await artifacts.exists(artifact.uri))) return undefined;
    }
    return cached;
  }

  async function toInputArtifacts(inputs: Record<string, Artifact | undefined>): Promise<Record<string, InputArtifact>> {
    const result: Record<string, InputArtifact> = {};
    for (const [name, artifact] of Object.entries(inputs)) {
      if (!artifact) continue;
      result[name] = { id: artifact.id, uri: artifact.uri, path: await inputPath(artifact.uri), fingerprint: artifact.fingerprint, properties: artifact.properties };
    }
    return result;
  }

  /**
   * Where an executor reads an input: the artifact store's copy, or, for data recorded where
   * it already lay (`loom predict` on a file: an ExternalDataset, `file://<absolute path>`),
   * that path as recorded (it may be a glob).
   */
  async function inputPath(uri: string): Promise<string> {
    return uri.startsWith(FILE_URI) ? uri.slice(FILE_URI.length) : artifacts.localPath(uri);
  }

  async function recordNotRun(request: Pick<StepRequest, 'component' | 'stepName' | 'parameters' | 'run'>, state: 'CANCELED' | 'SKIPPED', reason: string): Promise<StepOutcome> {
    const startedAt = Date.now();
    const execution = await metadata.createExecution({
      typeName: request.component.name,
      stepName: request.stepName,
      parameters: redactSecrets((request.parameters ?? {}) as JsonObject),
      codeVersion: request.run.codeVersion,
      state,
      properties: { reason },
      startedAt,
    });
    await metadata.updateExecution(execution.id, { endedAt: Date.now() });
    for (const contextId of request.run.contextIds) await metadata.addToContext(contextId, { executionIds: [execution.id] });
    return { step: request.stepName, component: request.component.name, state, executionId: execution.id, outputs: {}, durationMs: Date.now() - startedAt };
  }

  return { metadata, registry, artifacts, run, recordNotRun };
}

const FILE_URI = 'file://';

function conditionFailure(request: StepRequest): string | undefined {
  if (!request.when) return undefined;
  const { input, property, equals } = request.when;
  const actual: JsonValue | undefined = request.inputs[input]?.properties[property];
  if (actual === equals) return undefined;
  return `condition not met: ${input}.${property} is ${JSON.stringify(actual ?? null)}, not ${JSON.stringify(equals)}`;
}
