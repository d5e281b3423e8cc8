/**
 * The flights pipeline: will a US flight of 2001 be more than 15 minutes late?
 * Trains on one month of `flights-3m.parquet` (vega-datasets) and evaluates on the
 * next, compares with the registry's champion, and pushes only a blessed model.
 *
 * Run it with `loom run examples/flights/pipeline.ts` (January -> February), or build
 * other months with `flightsPipeline({ trainMonth: 2 })`.
 */
import { join } from 'node:path';
import {
  composeComponent,
  definePipeline,
  evaluateComponent,
  flightsParquetPath,
  ingestComponent,
  loadConfig,
  pushComponent,
  schemaComponent,
  statisticsComponent,
  trainComponent,
  transformComponent,
  tuneComponent,
  validateComponent,
  type Pipeline,
  type TrainParameters,
  type TuneParameters,
} from 'loom-mlops';

export interface FlightsPipelineOptions {
  /** The flights file; a smaller slice with the same columns works too. */
  source?: string;
  /** Month of 2001 to train on (1–5); the next month is the evaluation split. */
  trainMonth?: number;
  modelName?: string;
  /** Where the schema is kept: inferred and written there on the first run, read after. */
  schemaPath?: string;
  /** Epochs of the default trainer (logistic regression). */
  epochs?: number;
  /** The train step's parameters: any trainer (`{ algorithm: 'gbdt', numTrees: 100 }`, 'mlp', 'custom'). */
  trainer?: TrainParameters;
  /** Tune instead of train: a study over a trainer's hyperparameters whose best model goes on. */
  tune?: TuneParameters;
  /** Vocabulary size kept for origin and destination airports. */
  topAirports?: number;
  /**
   * The alias a blessed model takes (default `champion`). `loom demo --loop` pushes to
   * `candidate`: the version goes to a canary stage before it may become the champion.
   */
  alias?: string;
}

/**
 * The raw columns a served flights model takes, as they are in the data: the scheduled
 * departure (local time), distance and airports. The hour and weekday are computed from
 * the date by the transform graph, so a client sends the raw row and computes nothing.
 */
export const FLIGHT_FEATURES = {
  date: 'date',
  distance: 'distance',
  origin: 'origin',
  destination: 'destination',
} as const;

/** The date is served as ISO 8601 text (`2001-01-15T08:30`), read as the wall-clock time it is written in. */
export const FLIGHT_DATE = { analyzer: 'datetime', format: 'iso8601', parts: ['hour', 'weekday'] } as const;

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
        // One span per training month: the validate step compares each with the one before.
        span: trainMonth,
      },
    });
    const statistics = p.step('statistics', statisticsComponent, { inputs: { examples: ingest.outputs.examples } });
    const schema = p.step('schema', schemaComponent, {
      inputs: { statistics: statistics.outputs.statistics },
      parameters: { path: options.schemaPath ?? join(loadConfig().layout.schemas, `${modelName}.schema.json`) },
    });
    const validate = p.step('validate', validateComponent, {
      // Drift of this span's data against the previous span's (none on the first run).
      inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema, previous: p.previousSpan(statistics.outputs.statistics) },
    });
    const transform = p.step('transform', transformComponent, {
      inputs: { examples: ingest.outputs.examples, schema: schema.outputs.schema },
      parameters: { labelColumn: 'delayed', features: Object.keys(FLIGHT_FEATURES), topK: options.topAirports ?? 60, overrides: { date: { ...FLIGHT_DATE, parts: [...FLIGHT_DATE.parts] } } },
      after: [validate],
    });
    const transformed = { transformedExamples: transform.outputs.transformedExamples, transformGraph: transform.outputs.transformGraph };
    const train = options.tune
      ? p.step('tune', tuneComponent, { inputs: transformed, parameters: options.tune })
      : p.step('train', trainComponent, { inputs: transformed, parameters: options.trainer ?? { epochs: options.epochs ?? 4, seed: 7 } });
    const compose = p.step('compose', composeComponent, {
      inputs: { transformGraph: transform.outputs.transformGraph, model: train.outputs.model },
    });
    const evaluate = p.step('evaluate', evaluateComponent, {
      inputs: {
        model: compose.outputs.servingModel,
        examples: ingest.outputs.examples,
        baseline: p.alias(modelName, 'champion', { unlessSameAs: compose.outputs.servingModel }),
      },
      parameters: {
        // TFMA-style slices: hour of day (as TFMA's trip_start_hour) and the busiest origin airports.
        slices: [
          { name: 'hour', columns: [{ feature: 'date', time: 'hour_of_day' }] },
          { name: 'origin', columns: [{ feature: 'origin', top: 10 }] },
        ],
        minSliceSize: 100,
        thresholds: [
          // Better than chance overall, and not worse than the champion on the same rows.
          { metric: 'auc', value: { lowerBound: 0.55 }, change: { absolute: 0 } },
          // No busy airport with badly calibrated probabilities, and none ranked much worse than
          // by the champion. (Within one airport or hour AUC can sit near 0.5 for a good model:
          // hour and airport explain most of what it knows, so slices are held to the champion.)
          { metric: 'log_loss', slice: 'origin', value: { upperBound: 0.9 } },
          { metric: 'auc', slice: 'origin', change: { absolute: -0.05 } },
          // No hour of the day with log loss more than 0.02 worse than the champion's.
          { metric: 'log_loss', slice: 'hour', change: { absolute: -0.02 } },
        ],
        bootstrap: { resamples: 100, seed: 7 },
      },
    });
    p.step('push', pushComponent, {
      inputs: { servingModel: compose.outputs.servingModel, evaluation: evaluate.outputs.evaluation, blessing: evaluate.outputs.blessing },
      parameters: { modelName, alias: options.alias ?? 'champion' },
      when: { input: 'blessing', property: 'blessed', equals: true },
    });
  });
}

/** `loom run` calls this with no options; `loom demo` passes the months it trains on. */
export default function (options?: FlightsPipelineOptions): Pipeline {
  return flightsPipeline(options);
}
