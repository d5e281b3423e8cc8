import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoomError } from '../core/errors.js';
import type { ComponentDef } from '../pipeline/component.js';
import type { Pipeline, StepDef } from '../pipeline/dsl.js';
import { trainComponent } from './component.js';
import { withTuneBudget, withWarmStart } from './pipeline-overrides.js';
import { tuneComponent } from './tune-component.js';

/** A pipeline of one train step per trainer given, plus a tune step when asked (the rest of a pipeline does not matter here). */
function pipeline(trainers: { step: string; parameters: Record<string, unknown> }[], tune = false): Pipeline {
  const step = (name: string, component: ComponentDef, parameters: Record<string, unknown>): StepDef => ({ name, component, inputs: {}, parameters, after: [], retries: 2 });
  return {
    name: 'overrides',
    steps: [
      ...trainers.map(({ step: name, parameters }) => step(name, trainComponent as unknown as ComponentDef, parameters)),
      ...(tune ? [step('tune', tuneComponent as unknown as ComponentDef, { space: { numLeaves: { type: 'int', low: 4, high: 16 } }, trials: 20 })] : []),
    ],
  };
}

const refused = (field: string) => (error: unknown) => isLoomError(error) && error.code === 'INVALID_ARGUMENT' && error.field === field;

test('withWarmStart wires the alias into the train steps whose trainer continues a model, and only those', () => {
  const original = pipeline([
    { step: 'linear', parameters: { epochs: 3 } },
    { step: 'trees', parameters: { algorithm: 'gbdt', numTrees: 5 } },
  ]);
  const updated = withWarmStart(original, 'flights@champion');
  const inputs = (name: string) => updated.steps.find((step) => step.name === name)!.inputs;
  assert.deepEqual(inputs('linear').warmStartFrom, { kind: 'alias', modelName: 'flights', alias: 'champion' });
  assert.equal(inputs('trees').warmStartFrom, undefined);
  // The pipeline it was given is left as it was.
  assert.equal(original.steps.find((step) => step.name === 'linear')!.inputs.warmStartFrom, undefined);
});

test('withWarmStart refuses a pipeline with no train step that can continue a model', () => {
  assert.throws(() => withWarmStart(pipeline([{ step: 'trees', parameters: { algorithm: 'gbdt' } }]), 'flights@champion'), refused('pipeline-file'));
});

test('withTuneBudget replaces only the budget given, and refuses a pipeline without a tune step', () => {
  const tuned = withTuneBudget(pipeline([], true), { trials: 3, timeout: 60 });
  const parameters = tuned.steps.find((step) => step.name === 'tune')!.parameters;
  assert.equal(parameters.trials, 3);
  assert.equal(parameters.timeoutSeconds, 60);
  assert.equal(parameters.parallelism, undefined);
  assert.throws(() => withTuneBudget(pipeline([{ step: 'linear', parameters: {} }]), { trials: 3 }), refused('pipeline file'));
});
