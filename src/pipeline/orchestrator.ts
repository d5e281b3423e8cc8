/**
 * The orchestrator runs a pipeline: steps whose inputs are ready run in parallel (up to
 * `maxParallel`), each through resolve -> condition -> cache lookup -> execute (with
 * retries and backoff) -> publish. Every step becomes an execution in the metadata
 * store, linked to the pipeline and to this run, with its input and output events.
 *
 * Usage: `const result = await runPipeline(pipeline, { db, artifacts, codeVersion, progress, log })`
 */
import { randomBytes } from 'node:crypto';
import { asLoomError, LoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import { silentProgress, type Progress } from '../core/progress.js';
import type { LoomDatabase } from './stores.js';
import type { Artifact, CodeVersion, ExecutionState } from '../metadata/types.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { Pipeline, StepDef } from './dsl.js';
import { executeStep } from './execute-step.js';
import { topologicalOrder, upstreamSteps } from './validate-pipeline.js';

export interface OrchestratorOptions {
  db: LoomDatabase;
  artifacts: ArtifactStore;
  codeVersion: CodeVersion;
  progress?: Progress;
  /** Receives one line per step start and finish; silent by default. */
  log?: (line: string) => void;
  maxParallel?: number;
  /** First retry waits this long; each later one twice as long. */
  retryDelayMs?: number;
  /** Where steps keep checkpoints (the project's `checkpoints/`); none without it. */
  checkpointRoot?: string;
  /** Step name -> checkpoint directory to continue from, for `loom train --resume`. */
  resumeFrom?: Record<string, string>;
  /** The pipeline file the run came from, kept with the run so it can be resumed. */
  pipelineFile?: string;
  /** The registered model (`flights@champion`) the train steps continue (`loom train --update`), kept so a resume continues it too. */
  warmStartFrom?: string;
}

export interface StepOutcome {
  step: string;
  component: string;
  state: ExecutionState;
  executionId: number;
  outputs: Record<string, Artifact>;
  error?: LoomError;
  durationMs: number;
}

export interface PipelineRunResult {
  runId: string;
  contextId: number;
  state: 'COMPLETE' | 'FAILED';
  steps: StepOutcome[];
  /** The first step that failed, with its error. */
  failure?: { step: string; error: LoomError };
}

const BLOCKING_STATES: ExecutionState[] = ['FAILED', 'CANCELED'];

export async function runPipeline(pipeline: Pipeline, options: OrchestratorOptions): Promise<PipelineRunResult> {
  const { db } = options;
  const log = options.log ?? (() => {});
  const order = topologicalOrder(pipeline);
  for (const step of order) {
    for (const type of Object.values(step.component.outputs)) await db.metadata.putArtifactType(type);
  }
  const runId = newRunId(pipeline.name);
  const pipelineContext = await db.metadata.putContext({ typeName: 'pipeline', name: pipeline.name });
  const runContext = await db.metadata.putContext({
    typeName: 'pipeline_run',
    name: runId,
    properties: {
      pipeline: pipeline.name,
      state: 'RUNNING',
      startedAt: Date.now(),
      codeVersion: { ...options.codeVersion },
      ...(options.pipelineFile ? { pipelineFile: options.pipelineFile } : {}),
      ...(options.warmStartFrom ? { warmStartFrom: options.warmStartFrom } : {}),
    },
  });
  const contextIds = [pipelineContext.id, runContext.id];

  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<void>>();
  const pending = new Set(order.map((step) => step.name));
  const maxParallel = Math.max(1, options.maxParallel ?? 2);

  const start = (step: StepDef) => {
    pending.delete(step.name);
    log(`step ${step.name} started`);
    const work = runOneStep(step, outcomes, { ...options, progress: options.progress ?? silentProgress, runId, contextIds, pipelineName: pipeline.name })
      .then((outcome) => {
        outcomes.set(step.name, outcome);
        log(`step ${step.name} ${outcome.state.toLowerCase()} in ${(outcome.durationMs / 1000).toFixed(1)}s`);
      })
      .finally(() => running.delete(step.name));
    running.set(step.name, work);
  };

  while (pending.size > 0 || running.size > 0) {
    for (const step of order) {
      if (!pending.has(step.name) || running.size >= maxParallel) continue;
      const upstream = upstreamSteps(step);
      if (upstream.every((name) => outcomes.has(name))) start(step);
    }
    if (running.size > 0) await Promise.race(running.values());
  }

  const steps = order.map((step) => outcomes.get(step.name)!);
  const failed = steps.find((outcome) => outcome.state === 'FAILED');
  const state = failed ? 'FAILED' : 'COMPLETE';
  await db.metadata.updateContext(runContext.id, { ...runContext.properties, state, endedAt: Date.now() });
  return {
    runId,
    contextId: runContext.id,
    state,
    steps,
    failure: failed?.error ? { step: failed.step, error: failed.error } : undefined,
  };
}

interface StepRunOptions extends OrchestratorOptions {
  progress: Progress;
  runId: string;
  contextIds: number[];
  pipelineName: string;
}

/** Runs one step, or records why it did not run; never throws for the step's own failure. */
async function runOneStep(step: StepDef, outcomes: Map<string, StepOutcome>, options: StepRunOptions): Promise<StepOutcome> {
  const startedAt = Date.now();
  const blockedBy = upstreamSteps(step).find((name) => BLOCKING_STATES.includes(outcomes.get(name)!.state));
  const skippedBy = upstreamSteps(step).find((name) => outcomes.get(name)!.state === 'SKIPPED');
  if (blockedBy || skippedBy) {
    const state: ExecutionState = blockedBy ? 'CANCELED' : 'SKIPPED';
    const reason = blockedBy ? `upstream step "${blockedBy}" did not complete` : `upstream step "${skippedBy}" was skipped`;
    return recordNotRun(step, state, reason, options, startedAt);
  }
  try {
    const outputsOf = (name: string, output: string) => outcomes.get(name)?.outputs[output];
    return await executeStep(step, outputsOf, options);
  } catch (error) {
    // Errors of the orchestrator itself (the store went away): the step is failed all the same.
    return { step: step.name, component: step.component.name, state: 'FAILED', executionId: -1, outputs: {}, error: asLoomError(error), durationMs: Date.now() - startedAt };
  }
}

async function recordNotRun(step: StepDef, state: ExecutionState, reason: string, options: StepRunOptions, startedAt: number): Promise<StepOutcome> {
  const execution = await options.db.metadata.createExecution({
    typeName: step.component.name,
    stepName: step.name,
    parameters: step.parameters as JsonObject,
    codeVersion: options.codeVersion,
    state,
    properties: { reason },
    startedAt,
  });
  await options.db.metadata.updateExecution(execution.id, { endedAt: Date.now() });
  for (const contextId of options.contextIds) await options.db.metadata.addToContext(contextId, { executionIds: [execution.id] });
  return { step: step.name, component: step.component.name, state, executionId: execution.id, outputs: {}, durationMs: Date.now() - startedAt };
}

function newRunId(pipelineName: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${pipelineName}-${stamp}-${randomBytes(3).toString('hex')}`;
}
