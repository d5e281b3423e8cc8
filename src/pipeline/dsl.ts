/**
 * The pipeline DSL: steps are components with their inputs wired to other steps'
 * outputs (or to a registry alias), their parameters, an optional condition and a
 * retry budget. `definePipeline` checks the whole graph before anything runs.
 *
 * Usage:
 *   export default definePipeline('flights', (p) => {
 *     const ingest = p.step('ingest', ingestComponent, { parameters: { source: 'flights.parquet', ... } });
 *     p.step('statistics', statisticsComponent, { inputs: { examples: ingest.outputs.examples } });
 *   });
 */
import type { JsonPrimitive } from '../core/json.js';
import type { ArtifactTypeDef } from './artifact-types.js';
import type { ComponentDef, InputDef } from './component.js';
import { validatePipeline } from './validate-pipeline.js';

/** An output of another step. */
export interface OutputRef {
  kind: 'output';
  step: string;
  output: string;
}

/**
 * The artifact a registry alias points at, resolved when the step runs (the champion
 * a new model is compared with). With `unlessSameAs`, nothing is resolved when the
 * alias already points at that very artifact: a model is not its own baseline.
 */
export interface AliasRef {
  kind: 'alias';
  modelName: string;
  alias: string;
  unlessSameAs?: OutputRef;
}

/**
 * Another span of the data a step's output carries, found in the metadata store when the
 * step runs (TFX's LatestArtifact and SpanRange resolver strategies). `previous`: the
 * newest artifact from the same step of the same pipeline with the highest span number
 * below this run's (span N-1, to compare span N with); nothing on the first span.
 * `latest`: the one with the highest span, this run's own output included (a backfill of
 * an old span still reads the newest).
 */
export interface SpanRef {
  kind: 'span';
  of: OutputRef;
  pick: 'previous' | 'latest';
}

export type InputRef = OutputRef | AliasRef | SpanRef;

/** The step outputs an input reference reads (the steps it must wait for). */
export function referencedOutputs(ref: InputRef): OutputRef[] {
  if (ref.kind === 'output') return [ref];
  if (ref.kind === 'span') return [ref.of];
  return ref.unlessSameAs ? [ref.unlessSameAs] : [];
}

/** Run the step only when one of its input artifacts has a property with this value. */
export interface StepCondition {
  input: string;
  property: string;
  equals: JsonPrimitive;
}

export interface StepDef {
  name: string;
  component: ComponentDef;
  inputs: Record<string, InputRef>;
  parameters: Record<string, unknown>;
  when?: StepCondition;
  /** Steps that must complete first although no output is read (run `transform` only after `validate` passed). */
  after: string[];
  /** Attempts after the first for errors that may pass; default 2. */
  retries: number;
}

export interface Pipeline {
  name: string;
  steps: StepDef[];
}

export interface StepHandle<O extends Record<string, ArtifactTypeDef>> {
  name: string;
  outputs: { [K in keyof O]: OutputRef };
}

type InputRefs<I extends Record<string, InputDef>> = {
  [K in keyof I as I[K]['optional'] extends true ? never : K]: InputRef;
} & {
  [K in keyof I as I[K]['optional'] extends true ? K : never]?: InputRef;
};

export interface StepOptions<I extends Record<string, InputDef>, P> {
  inputs?: InputRefs<I>;
  parameters?: P;
  when?: StepCondition;
  after?: { name: string }[];
  retries?: number;
}

export class PipelineBuilder {
  readonly steps: StepDef[] = [];

  step<I extends Record<string, InputDef>, O extends Record<string, ArtifactTypeDef>, P>(
    name: string,
    component: ComponentDef<I, O, import('zod').ZodType<unknown, P>>,
    options: StepOptions<I, P> = {},
  ): StepHandle<O> {
    this.steps.push({
      name,
      component: component as unknown as ComponentDef,
      inputs: (options.inputs ?? {}) as Record<string, InputRef>,
      parameters: (options.parameters ?? {}) as Record<string, unknown>,
      when: options.when,
      after: (options.after ?? []).map((handle) => handle.name),
      retries: options.retries ?? 2,
    });
    const outputs = Object.fromEntries(
      Object.keys(component.outputs).map((output) => [output, this.ref(name, output)]),
    ) as { [K in keyof O]: OutputRef };
    return { name, outputs };
  }

  /** A reference to a step's output by name; the step may be declared later. */
  ref(step: string, output: string): OutputRef {
    return { kind: 'output', step, output };
  }

  alias(modelName: string, alias: string, options: { unlessSameAs?: OutputRef } = {}): AliasRef {
    return { kind: 'alias', modelName, alias, unlessSameAs: options.unlessSameAs };
  }

  /** The span before the one `of` carries, e.g. `inputs: { baseline: p.previousSpan(ingest.outputs.examples) }` for drift. */
  previousSpan(of: OutputRef): SpanRef {
    return { kind: 'span', of, pick: 'previous' };
  }

  /** The newest span of `of`'s step in this pipeline, this run's included. */
  latestSpan(of: OutputRef): SpanRef {
    return { kind: 'span', of, pick: 'latest' };
  }
}

/** Builds a pipeline and checks it: unique names, known inputs, matching types, valid parameters, no cycle. */
export function definePipeline(name: string, build: (p: PipelineBuilder) => void): Pipeline {
  const builder = new PipelineBuilder();
  build(builder);
  const pipeline = { name, steps: builder.steps };
  validatePipeline(pipeline);
  return pipeline;
}
