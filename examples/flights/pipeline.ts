/**
 * The flights pipeline: will a US flight of 2001 be more than 15 minutes late?
 * Trains on one month of `flights-3m.parquet` (vega-datasets) and evaluates on the
 * next, compares with the registry's champion, and pushes only a blessed model.
 *
 * Run it with `loom run examples/flights/pipeline.ts` (January -> February), or build
 * other months with `flightsPipeline({ trainMonth: 2 })`.
 */
import { join } from 'node:path';
import { projectHome } from '../../src/cli/project.js';
import { ingestComponent } from '../../src/data/component.js';
import { flightsParquetPath } from '../../src/data/datasets.js';
import { evaluateComponent } from '../../src/evaluate/component.js';
import { definePipeline, type Pipeline } from '../../src/pipeline/dsl.js';
import { pushComponent } from '../../src/registry/push-component.js';
import { composeComponent } from '../../src/train/compose-component.js';
import { trainComponent } from '../../src/train/component.js';
import { transformComponent } from '../../src/transform/component.js';
import { schemaComponent, statisticsComponent, validateComponent } from '../../src/validate/components.js';

export interface FlightsPipelineOptions {
  /** The flights file; a smaller slice with the same columns works too. */
  source?: string;
  /** Month of 2001 to train on (1–5); the next month is the evaluation split. */
  trainMonth?: number;
  modelName?: string;
  /** Where the schema is kept: inferred and written there on the first run, read after. */
  schemaPath?: string;
  epochs?: number;
  /** Vocabulary size kept for origin and destination airports. */
  topAirports?: number;
}

/** The raw features a served flights model takes, all derivable from a flight's schedule. */
export const FLIGHT_FEATURES = {
  hour: 'hour(date)',
  weekday: 'dayofweek(date)',
  distance: 'distance',
  origin: 'origin',
  destination: 'destination',
} as const;

const monthStart = (month: number) => `2001-${String(month).padStart(2, '0')}-01`;

export function flightsPipeline(options: FlightsPipelineOptions = {}): Pipeline {
  const trainMonth = options.trainMonth ?? 1;
  const modelName = options.modelName ?? 'flights';
  return definePipeline('flights', (p) => {
    const ingest = p.step('ingest', ingestComponent, {
      parameters: {
        source: options.source ?? flightsParquetPath(),
        select: { ...FLIGHT_FEATURES, delayed: 'delay > 15' },
        where: `date >= TIMESTAMP '${monthStart(trainMonth)}' AND date < TIMESTAMP '${monthStart(trainMonth + 2)}'`,
        split: { kind: 'time', column: 'date', evalFrom: monthStart(trainMonth + 1) },
      },
    });
    const statistics = p.step('statistics', statisticsComponent, { inputs: { examples: ingest.outputs.examples } });
    const schema = p.step('schema', schemaComponent, {
      inputs: { statistics: statistics.outputs.statistics },
      parameters: { path: options.schemaPath ?? join(projectHome(), 'schemas', `${modelName}.schema.json`) },
    });
    const validate = p.step('validate', validateComponent, {
      inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema },
    });
    const transform = p.step('transform', transformComponent, {
      inputs: { examples: ingest.outputs.examples, schema: schema.outputs.schema },
      parameters: { labelColumn: 'delayed', features: Object.keys(FLIGHT_FEATURES), topK: options.topAirports ?? 60 },
      after: [validate],
    });
    const train = p.step('train', trainComponent, {
      inputs: { transformedExamples: transform.outputs.transformedExamples, transformGraph: transform.outputs.transformGraph },
      parameters: { epochs: options.epochs ?? 4, seed: 7 },
    });
    const compose = p.step('compose', composeComponent, {
      inputs: { transformGraph: transform.outputs.transformGraph, model: train.outputs.model },
    });
    const evaluate = p.step('evaluate', evaluateComponent, {
      inputs: {
        model: compose.outputs.servingModel,
        examples: ingest.outputs.examples,
        baseline: p.alias(modelName, 'champion', { unlessSameAs: compose.outputs.servingModel }),
      },
      parameters: { metric: 'auc', minImprovement: 0 },
    });
    p.step('push', pushComponent, {
      inputs: { servingModel: compose.outputs.servingModel, evaluation: evaluate.outputs.evaluation, blessing: evaluate.outputs.blessing },
      parameters: { modelName, alias: 'champion' },
      when: { input: 'blessing', property: 'blessed', equals: true },
    });
  });
}

export default function (): Pipeline {
  return flightsPipeline();
}
