/**
 * Checks a pipeline before it runs, so a wiring mistake is reported with the step and
 * input at fault instead of surfacing half-way through a run.
 */
import { LoomError } from '../core/errors.js';
import { fieldPath, parseInput } from '../core/validation.js';
import { referencedOutputs, type Pipeline, type StepDef } from './dsl.js';

export function validatePipeline(pipeline: Pipeline): void {
  if (!/^[A-Za-z0-9][\w.-]*$/.test(pipeline.name)) {
    throw invalid(`pipeline name "${pipeline.name}" is not valid`, 'use letters, digits, ".", "_" and "-"');
  }
  const byName = new Map<string, StepDef>();
  for (const step of pipeline.steps) {
    if (byName.has(step.name)) throw invalid(`two steps are named "${step.name}"`, 'give each step its own name');
    byName.set(step.name, step);
  }
  for (const step of pipeline.steps) {
    checkInputs(step, byName);
    checkParameters(step);
    checkCondition(step);
  }
  topologicalOrder(pipeline);
}

function checkInputs(step: StepDef, byName: Map<string, StepDef>): void {
  const declared = step.component.inputs;
  for (const [input, ref] of Object.entries(step.inputs)) {
    const spec = declared[input];
    if (!spec) {
      throw invalid(`step "${step.name}" has an unknown input "${input}"`, `${step.component.name} takes: ${Object.keys(declared).join(', ') || 'no inputs'}`);
    }
    if (ref.kind === 'span' && ref.pick === 'previous' && !spec.optional) {
      throw invalid(`input "${input}" of step "${step.name}" reads the previous span, which the first span does not have`, `declare ${step.component.name}'s input "${input}" optional`);
    }
    for (const outputRef of referencedOutputs(ref)) {
      const source = byName.get(outputRef.step);
      if (!source) {
        throw invalid(`input "${input}" of step "${step.name}" refers to step "${outputRef.step}", which does not exist`, `declare step "${outputRef.step}" or fix the name`);
      }
      const sourceType = source.component.outputs[outputRef.output];
      if (!sourceType) {
        throw invalid(`step "${outputRef.step}" has no output "${outputRef.output}" (wanted by "${step.name}")`, `its outputs are: ${Object.keys(source.component.outputs).join(', ')}`);
      }
      if (ref.kind !== 'alias' && sourceType.name !== spec.type.name) {
        throw invalid(`input "${input}" of step "${step.name}" takes ${spec.type.name}, but "${outputRef.step}.${outputRef.output}" is ${sourceType.name}`, 'wire an output of the right type');
      }
    }
  }
  for (const name of step.after) {
    if (!byName.has(name)) throw invalid(`step "${step.name}" runs after step "${name}", which does not exist`, `declare step "${name}" or fix the name`);
  }
  for (const [input, spec] of Object.entries(declared)) {
    if (!spec.optional && !step.inputs[input]) {
      throw invalid(`step "${step.name}" is missing its input "${input}" (${spec.type.name})`, `pass inputs: { ${input}: <a step's output> }`);
    }
  }
}

function checkParameters(step: StepDef): void {
  // A misspelt key is named with the nearest valid one (`epoch`: did you mean `epochs`?).
  parseInput(step.component.parameters, step.parameters, {
    what: `step "${step.name}"`,
    name: (path) => `parameter ${fieldPath(path) || '(parameters)'}`,
    field: (path) => `${step.name}.parameters${path.length ? `.${fieldPath(path)}` : ''}`,
    fix: `see the parameters of the ${step.component.name} component: \`loom components ${step.component.name}\``,
  });
}

function checkCondition(step: StepDef): void {
  if (step.when && !step.inputs[step.when.input]) {
    throw invalid(`the condition of step "${step.name}" reads input "${step.when.input}", which the step does not have`, 'name one of its inputs');
  }
}

/** Steps in an order where every step follows the steps it reads from; INVALID_ARGUMENT on a cycle. */
export function topologicalOrder(pipeline: Pipeline): StepDef[] {
  const byName = new Map(pipeline.steps.map((step) => [step.name, step]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: StepDef[] = [];
  const visit = (step: StepDef, path: string[]): void => {
    if (state.get(step.name) === 'done') return;
    if (state.get(step.name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(step.name)), step.name].join(' -> ');
      throw invalid(`the pipeline has a cycle: ${cycle}`, 'a step cannot depend, directly or not, on its own outputs');
    }
    state.set(step.name, 'visiting');
    for (const upstream of upstreamSteps(step)) {
      const source = byName.get(upstream);
      if (source) visit(source, [...path, step.name]);
    }
    state.set(step.name, 'done');
    order.push(step);
  };
  for (const step of pipeline.steps) visit(step, []);
  return order;
}

/** Names of the steps whose outputs this step reads. */
export function upstreamSteps(step: StepDef): string[] {
  const names = new Set<string>(step.after);
  for (const ref of Object.values(step.inputs)) for (const output of referencedOutputs(ref)) names.add(output.step);
  return [...names];
}

function invalid(message: string, fix: string): LoomError {
  return new LoomError('INVALID_ARGUMENT', message, { fix });
}
