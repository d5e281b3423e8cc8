/**
 * The orchestrator runs a pipeline: steps whose inputs are ready run in parallel (up to
 * `maxParallel`); each resolves its inputs and goes through the step runner (condition ->
 * cache lookup -> execute with retries -> publish). Every step becomes an execution in
 * the metadata store, linked to the pipeline and to this run, with its input and output
 * events. The orchestrator knows nothing of where executors run: that is the runner's
 * launcher.
 *
 * Usage: `const result = await runPipeline(pipeline, { runner, codeVersion, progress, log })`
 */
import { asLoomError, LoomError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import type { CodeVersion, ExecutionState } from '../metadata/types.js';
import type { Pipeline, StepDef } from './dsl.js';
import { resolveInputs } from './resolve-inputs.js';
import { startPipelineRun } from './run-scope.js';
import type { StepOutcome, StepRunner, StepRunScope } from './step-runner.js';
import { topologicalOrder, upstreamSteps } from './validate-pipeline.js';

export type { StepOutcome };

export interface OrchestratorOptions {
  runner: StepRunner;
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
  /** The run this one runs again (a re-run from the API), kept with the run. */
  rerunOf?: string;
  /** Called with the new run's id once it is recorded, before any step runs (a server answers with it). */
  onStart?: (runId: string) => void;
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
  const { metadata } = options.runner;
  const log = options.log ?? (() => {});
  const order = topologicalOrder(pipeline);
  const run = await startPipelineRun(metadata, {
    pipelineName: pipeline.name,
    codeVersion: options.codeVersion,
    properties: {
      ...(options.pipelineFile ? { pipelineFile: options.pipelineFile } : {}),
      ...(options.warmStartFrom ? { warmStartFrom: options.warmStartFrom } : {}),
      ...(options.rerunOf ? { rerunOf: options.rerunOf } : {}),
    },
  });
  const { scope } = run;
  options.onStart?.(scope.runId);

  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<void>>();
  const pending = new Set(order.map((step) => step.name));
  const maxParallel = Math.max(1, options.maxParallel ?? 2);

  const start = (step: StepDef) => {
    pending.delete(step.name);
    log(`step ${step.name} started`);
    const work = runOneStep(step, outcomes, { ...options, progress: options.progress ?? silentProgress, scope })
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
  await run.finish(state);
  return {
    runId: scope.runId,
    contextId: run.contextId,
    state,
    steps,
    failure: failed?.error ? { step: failed.step, error: failed.error } : undefined,
  };
}

interface StepRunOptions extends OrchestratorOptions {
  progress: Progress;
  scope: StepRunScope;
}

/** Runs one step, or records why it did not run; never throws for the step's own failure. */
async function runOneStep(step: StepDef, outcomes: Map<string, StepOutcome>, options: StepRunOptions): Promise<StepOutcome> {
  const startedAt = Date.now();
  const blockedBy = upstreamSteps(step).find((name) => BLOCKING_STATES.includes(outcomes.get(name)!.state));
  const skippedBy = upstreamSteps(step).find((name) => outcomes.get(name)!.state === 'SKIPPED');
  const { runner, scope } = options;
  if (blockedBy || skippedBy) {
    const state = blockedBy ? 'CANCELED' : 'SKIPPED';
    const reason = blockedBy ? `upstream step "${blockedBy}" did not complete` : `upstream step "${skippedBy}" was skipped`;
    return runner.recordNotRun({ component: step.component, stepName: step.name, parameters: step.parameters, run: scope }, state, reason);
  }
  try {
    const inputs = await resolveInputs(step, (name, output) => outcomes.get(name)?.outputs[output], runner);
    return await runner.run({
      component: step.component,
      stepName: step.name,
      inputs,
      parameters: step.parameters,
      run: scope,
      when: step.when,
      retries: step.retries,
      retryDelayMs: options.retryDelayMs,
      checkpointRoot: options.checkpointRoot,
      resumeFrom: options.resumeFrom?.[step.name],
      progress: options.progress,
      log: options.log,
    });
  } catch (error) {
    // Errors of the orchestrator itself (the store went away): the step is failed all the same.
    return { step: step.name, component: step.component.name, state: 'FAILED', executionId: -1, outputs: {}, error: asLoomError(error), durationMs: Date.now() - startedAt };
  }
}
