/**
 * One step's life: resolve its inputs, check its condition, look up the cache, run the
 * executor (retrying what may pass, with exponential backoff), then publish its outputs
 * to the artifact store and the metadata store. The launcher records the cache entry
 * (a COMPLETE execution with its key) only after the outputs are committed.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { asLoomError, type LoomError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json.js';
import type { Progress } from '../core/progress.js';
import type { LoomDatabase } from './stores.js';
import type { Artifact, CodeVersion, Execution } from '../metadata/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { EXECUTION_TAG, PIPELINE_RUN_TAG, PIPELINE_TAG, STEP_TAG, StepTrackingLogger } from '../tracking/logger.js';
import { stepCacheKey } from './cache-key.js';
import { pathExists } from '../core/path-exists.js';
import { startPlatformServer, type PlatformServer } from '../server/server.js';
import { CHECKPOINT_FILE } from '../core/checkpoint-files.js';
import type { ExecutorServices, InputArtifact, InputDef, ResolvedInputs } from './component.js';
import type { StepDef } from './dsl.js';
import type { StepOutcome } from './orchestrator.js';
import { resolveInputs, type FinishedOutputs } from './resolve-inputs.js';

export interface StepEnvironment {
  db: LoomDatabase;
  artifacts: ArtifactStore;
  codeVersion: CodeVersion;
  progress: Progress;
  log?: (line: string) => void;
  retryDelayMs?: number;
  runId: string;
  contextIds: number[];
  /** Names the tracking experiment a step's live metrics go to; default "Default". */
  pipelineName?: string;
  /** Where steps keep checkpoints (`<root>/<cache key>`); without it, steps get none. */
  checkpointRoot?: string;
  /** Step name -> a checkpoint directory to continue from (`loom train --resume <run id>`). */
  resumeFrom?: Record<string, string>;
}

export async function executeStep(step: StepDef, outputsOf: FinishedOutputs, env: StepEnvironment): Promise<StepOutcome> {
  const startedAt = Date.now();
  const { metadata } = env.db;
  const inputs = await resolveInputs(step, outputsOf, env.db);
  const parameters = step.component.parameters.parse(step.parameters) as JsonObject;
  const inputFingerprints = Object.fromEntries(Object.entries(inputs).map(([name, artifact]) => [name, artifact?.fingerprint ?? null]));
  const cacheKey = stepCacheKey(step.component, parameters, inputFingerprints);

  const execution = await metadata.createExecution({
    typeName: step.component.name,
    stepName: step.name,
    parameters,
    codeVersion: env.codeVersion,
    cacheKey,
    state: 'RUNNING',
    startedAt,
  });
  for (const contextId of env.contextIds) await metadata.addToContext(contextId, { executionIds: [execution.id] });
  const inputEvents = Object.entries(inputs).flatMap(([name, artifact]) =>
    artifact ? [{ artifactId: artifact.id, executionId: execution.id, type: 'INPUT' as const, name }] : [],
  );
  await metadata.putEvents(inputEvents);

  const outcome = (state: StepOutcome['state'], outputs: Record<string, Artifact>, error?: LoomError): StepOutcome => ({
    step: step.name,
    component: step.component.name,
    state,
    executionId: execution.id,
    outputs,
    error,
    durationMs: Date.now() - startedAt,
  });

  const skipReason = conditionFailure(step, inputs);
  if (skipReason) {
    await metadata.updateExecution(execution.id, { state: 'SKIPPED', endedAt: Date.now(), properties: { reason: skipReason } });
    return outcome('SKIPPED', {});
  }

  const external = () => step.component.externalFingerprint?.(parameters) ?? Promise.resolve(null);
  const cached = await findUsableCache(cacheKey, await external(), env);
  if (cached) {
    const published = await metadata.publishExecution({
      executionId: execution.id,
      state: 'CACHED',
      outputs: cached.outputs.map(({ name, artifact }) => ({ name, artifact: { id: artifact.id } })),
      contextIds: env.contextIds,
      properties: { cachedFrom: cached.execution.id },
      endedAt: Date.now(),
    });
    return outcome('CACHED', Object.fromEntries(published.outputs.map(({ name, artifact }) => [name, artifact])));
  }

  const inputArtifacts = await toInputArtifacts(inputs, env.artifacts);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const outputs = await runAttempt(step, execution, inputArtifacts, parameters, external, env);
      return outcome('COMPLETE', outputs);
    } catch (thrown) {
      const error = asLoomError(thrown);
      const canRetry = error.retryable && attempt <= step.retries;
      if (!canRetry) {
        await metadata.updateExecution(execution.id, { state: 'FAILED', error: error.describe(), attempts: attempt, endedAt: Date.now() });
        return outcome('FAILED', {}, error);
      }
      const delay = (env.retryDelayMs ?? 500) * 2 ** (attempt - 1);
      env.log?.(`step ${step.name} attempt ${attempt} failed (${error.message}); retrying in ${delay} ms`);
      await metadata.updateExecution(execution.id, { attempts: attempt + 1 });
      await sleep(delay);
    }
  }
}

async function runAttempt(
  step: StepDef,
  execution: Execution,
  inputs: Record<string, InputArtifact | undefined>,
  parameters: JsonObject,
  external: () => Promise<string | null>,
  env: StepEnvironment,
): Promise<Record<string, Artifact>> {
  const outputNames = Object.keys(step.component.outputs);
  const staging: Record<string, string> = {};
  try {
    for (const name of outputNames) staging[name] = await env.artifacts.stage();
    // Each attempt gets its own tracking run, created only if the executor logs to it.
    const tracking = new StepTrackingLogger(env.db.tracking, {
      experimentName: env.pipelineName ?? 'Default',
      runName: `${step.name}-${execution.id}`,
      tags: { [EXECUTION_TAG]: String(execution.id), [PIPELINE_RUN_TAG]: env.runId, [PIPELINE_TAG]: env.pipelineName ?? '', [STEP_TAG]: step.name },
    });
    const trackingApi = lazyTrackingServer(env, tracking);
    const checkpoints = await stepCheckpoints(step, execution, env);
    const result = await step.component.execute({
      // The pipeline was validated: every required input is present.
      inputs: inputs as ResolvedInputs<Record<string, InputDef>>,
      outputs: staging,
      parameters,
      services: {
        registry: env.db.registry,
        artifacts: env.artifacts,
        progress: env.progress,
        log: (message) => env.log?.(`  · ${message}`),
        runId: env.runId,
        tracking,
        checkpoints,
        trackingServer: trackingApi.start,
      },
    })
      .catch(async (error: unknown) => {
        // A failure to close the tracking run must not hide the executor's own error.
        await tracking.end('FAILED').catch(() => undefined);
        throw error;
      })
      .finally(() => trackingApi.stop().catch(() => undefined));
    await tracking.end('FINISHED');
    const committed = [];
    for (const name of outputNames) {
      const artifact = await env.artifacts.commit(staging[name]!);
      committed.push({
        name,
        artifact: {
          typeName: step.component.outputs[name]!.name,
          uri: artifact.uri,
          fingerprint: artifact.fingerprint,
          properties: (result.properties[name] ?? {}) as JsonObject,
        },
      });
    }
    const published = await env.db.metadata.publishExecution({
      executionId: execution.id,
      state: 'COMPLETE',
      outputs: committed,
      contextIds: env.contextIds,
      properties: { externalFingerprint: await external() },
      endedAt: Date.now(),
    });
    // A finished step needs its checkpoints no more.
    if (checkpoints) {
      for (const finished of new Set([checkpoints.dir, checkpoints.resumeFrom])) if (finished) await rm(finished, { recursive: true, force: true });
    }
    return Object.fromEntries(published.outputs.map(({ name, artifact }) => [name, artifact]));
  } finally {
    // Staging directories that were committed are gone already; the rest never become artifacts.
    for (const dir of Object.values(staging)) await env.artifacts.discard(dir);
  }
}

/**
 * A step's checkpoint directory is named by its cache key, so running the same step on the
 * same inputs again (after a crash) finds what the killed attempt wrote and continues.
 */
async function stepCheckpoints(step: StepDef, execution: Execution, env: StepEnvironment): Promise<ExecutorServices['checkpoints']> {
  if (!env.checkpointRoot || !execution.cacheKey) return undefined;
  const dir = join(env.checkpointRoot, execution.cacheKey);
  // This step's own checkpoint is the newest (a retry, or a crash after resuming); else the one asked for.
  const resumeFrom = (await pathExists(join(dir, CHECKPOINT_FILE))) ? dir : env.resumeFrom?.[step.name];
  if (resumeFrom) env.log?.(`  · ${step.name}: continuing from the checkpoint in ${resumeFrom}`);
  return { dir, resumeFrom };
}

/** A platform API on loopback, started on first use for this attempt's tracking run and stopped with it. */
function lazyTrackingServer(env: StepEnvironment, tracking: StepTrackingLogger) {
  let server: Promise<PlatformServer> | undefined;
  return {
    start: async () => {
      server ??= startPlatformServer({ port: 0, db: env.db, artifacts: env.artifacts }).catch((error: unknown) => {
        server = undefined;
        throw error;
      });
      return { uri: (await server).url, runId: await tracking.ensureRun() };
    },
    stop: async () => {
      if (server) await (await server).close();
    },
  };
}

function conditionFailure(step: StepDef, inputs: Record<string, Artifact | undefined>): string | undefined {
  if (!step.when) return undefined;
  const { input, property, equals } = step.when;
  const actual: JsonValue | undefined = inputs[input]?.properties[property];
  if (actual === equals) return undefined;
  return `condition not met: ${input}.${property} is ${JSON.stringify(actual ?? null)}, not ${JSON.stringify(equals)}`;
}

/**
 * A cache hit counts only if the outside state the step read is unchanged since it ran
 * and every output's files are still in the artifact store.
 */
async function findUsableCache(cacheKey: string, externalFingerprint: string | null, env: StepEnvironment) {
  const cached = await env.db.metadata.findCachedExecution(cacheKey);
  if (!cached) return undefined;
  if ((cached.execution.properties.externalFingerprint ?? null) !== externalFingerprint) return undefined;
  for (const { artifact } of cached.outputs) {
    if (!(await env.artifacts.exists(artifact.uri))) return undefined;
  }
  return cached;
}

async function toInputArtifacts(inputs: Record<string, Artifact | undefined>, store: ArtifactStore): Promise<Record<string, InputArtifact | undefined>> {
  const result: Record<string, InputArtifact | undefined> = {};
  for (const [name, artifact] of Object.entries(inputs)) {
    result[name] = artifact && {
      id: artifact.id,
      uri: artifact.uri,
      path: await store.localPath(artifact.uri),
      fingerprint: artifact.fingerprint,
      properties: artifact.properties,
    };
  }
  return result;
}
