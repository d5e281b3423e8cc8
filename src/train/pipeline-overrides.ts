/**
 * A loaded pipeline changed for one run, as `loom train --update` and `loom tune --trials`
 * ask: train steps continuing a registered model, tune steps with another budget. Plain
 * functions from a pipeline to a pipeline, so any entry point (CLI, HTTP API) can offer them.
 *
 * Usage: `await runPipeline(withWarmStart(pipeline, 'flights@champion'), options);`
 */
import { LoomError } from '../core/errors.js';
import type { Pipeline } from '../pipeline/dsl.js';
import { trainComponent } from './component.js';
import { DEFAULT_ALGORITHM, TRAINERS } from './trainers/index.js';
import { tuneComponent } from './tune-component.js';

/** The pipeline with the `warmStartFrom` input of each train step whose trainer can continue a model set to the registry alias `model@alias`. */
export function withWarmStart(pipeline: Pipeline, reference: string): Pipeline {
  const [modelName, alias] = reference.split('@') as [string, string];
  // Only trainers that learn incrementally take the input; the others' steps train from scratch.
  const algorithmOf = (step: Pipeline['steps'][number]) => (step.parameters.algorithm as string | undefined) ?? DEFAULT_ALGORITHM;
  const warmStarts = (algorithm: string) => TRAINERS.find((trainer) => trainer.algorithm === algorithm)?.warmStarts === true;
  const trainSteps = pipeline.steps.filter((step) => step.component.name === trainComponent.name && warmStarts(algorithmOf(step)));
  if (trainSteps.length === 0) {
    const names = TRAINERS.filter((trainer) => trainer.warmStarts).map((trainer) => `'${trainer.algorithm}'`).join(' or ');
    throw new LoomError('INVALID_ARGUMENT', `pipeline "${pipeline.name}" has no train step whose trainer continues an earlier model (${names})`, {
      field: 'pipeline-file',
      fix: `give a pipeline whose train step has algorithm ${names} (the other trainers and tune steps train from scratch)`,
    });
  }
  return {
    ...pipeline,
    steps: pipeline.steps.map((step) => (trainSteps.includes(step) ? { ...step, inputs: { ...step.inputs, warmStartFrom: { kind: 'alias', modelName, alias } } } : step)),
  };
}

/** The pipeline with every tune step's budget replaced by the one given. */
export function withTuneBudget(pipeline: Pipeline, budget: { trials?: number; parallel?: number; timeout?: number }): Pipeline {
  const tuneSteps = pipeline.steps.filter((step) => step.component.name === tuneComponent.name);
  if (tuneSteps.length === 0) {
    throw new LoomError('INVALID_ARGUMENT', `pipeline "${pipeline.name}" has no tune step`, {
      field: 'pipeline file',
      fix: "add one: p.step('tune', tuneComponent, { inputs: { transformedExamples, transformGraph }, parameters: { space: {...} } }) (src/train/tune-component.ts)",
    });
  }
  const override = {
    ...(budget.trials !== undefined ? { trials: budget.trials } : {}),
    ...(budget.parallel !== undefined ? { parallelism: budget.parallel } : {}),
    ...(budget.timeout !== undefined ? { timeoutSeconds: budget.timeout } : {}),
  };
  return {
    ...pipeline,
    steps: pipeline.steps.map((step) => (tuneSteps.includes(step) ? { ...step, parameters: { ...step.parameters, ...override } } : step)),
  };
}
