/**
 * The evaluate step: runs the candidate ServingModel (and the champion, when there is
 * one) over the evaluation split, computes binary-classification metrics on the same
 * rows, and decides the blessing. It only adapts artifacts; the metrics and the rule are
 * pure functions in `metrics.ts` and `blessing.ts`.
 *
 * Usage: `pipeline.step(evaluateComponent, { inputs: { model, examples, baseline }, parameters: { metric: 'auc' } })`
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import type { ProgressTask } from '../core/progress.js';
import { countRows, queryRows, readSource, withDuckDB } from '../data/duckdb.js';
import { runModelOverParquet } from '../onnx/batch-runner.js';
import { Examples, ModelBlessing, ModelEvaluation, ServingModel } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { decideBlessing, higherIsBetter } from './blessing.js';
import { binaryMetrics, COMPARABLE_METRICS, type BinaryMetrics } from './metrics.js';

/** The served graph's output that holds P(label = 1), per the ServingModel layout. */
const PROBABILITY_OUTPUT = 'probability';

export const evaluateParameters = z.object({
  /** The 0/1 (or boolean) label; defaults to the model's `labelColumn` property. */
  labelColumn: z.string().min(1).optional(),
  split: z.string().min(1).default('eval'),
  metric: z.enum(COMPARABLE_METRICS).default('auc'),
  /** How much better than the baseline the candidate must be, in the metric's units. */
  minImprovement: z.number().min(0).default(0),
});
export type EvaluateParameters = z.output<typeof evaluateParameters>;

/** The content of `evaluation.json`. Metrics that are undefined (AUC on one class) are null. */
export interface EvaluationReport {
  metrics: Record<string, number | null>;
  baselineMetrics: Record<string, number | null> | null;
  split: string;
  rowCount: number;
  labelColumn: string;
  metric: string;
}

export const evaluateComponent = defineComponent({
  name: 'evaluate',
  version: '1',
  description: 'Scores the candidate (and the champion) on the evaluation split and decides the blessing',
  inputs: {
    model: { type: ServingModel },
    examples: { type: Examples },
    baseline: { type: ServingModel, optional: true },
  },
  outputs: { evaluation: ModelEvaluation, blessing: ModelBlessing },
  parameters: evaluateParameters,
  async execute({ inputs, outputs, parameters, services }) {
    const labelColumn = parameters.labelColumn ?? stringProperty(inputs.model.properties, 'labelColumn');
    if (!labelColumn) {
      throw new LoomError('INVALID_ARGUMENT', 'no label column: the model has no labelColumn property and none was given', {
        field: 'labelColumn',
        fix: 'set the evaluate parameter labelColumn',
      });
    }
    const dataPath = join(inputs.examples.path, parameters.split, 'data.parquet');
    const rowCount = await checkLabelColumn(dataPath, labelColumn, parameters.split);

    services.log(`evaluating the candidate on ${parameters.split} (label "${labelColumn}")`);
    const candidate = await scoreModel(join(inputs.model.path, 'model.onnx'), dataPath, labelColumn, () =>
      services.progress.start('evaluating candidate', rowCount, 'rows'),
    );
    let baseline: BinaryMetrics | undefined;
    if (inputs.baseline) {
      services.log(`evaluating the baseline (artifact ${inputs.baseline.id}) on the same rows`);
      const startTask = () => services.progress.start('evaluating baseline', rowCount, 'rows');
      baseline = await scoreModel(join(inputs.baseline.path, 'model.onnx'), dataPath, labelColumn, startTask).catch(
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          throw new LoomError('FAILED_PRECONDITION', `the baseline model could not be run on ${parameters.split}: ${message}`, {
            fix: 'the champion expects other features; push without a baseline or evaluate it on data it accepts',
          });
        },
      );
    }

    const blessing = decideBlessing({
      metrics: { ...candidate },
      baselineMetrics: baseline && { ...baseline },
      metric: parameters.metric,
      higherIsBetter: higherIsBetter(parameters.metric),
      minImprovement: parameters.minImprovement,
    });
    const report: EvaluationReport = {
      metrics: toJsonMetrics(candidate),
      baselineMetrics: baseline ? toJsonMetrics(baseline) : null,
      split: parameters.split,
      rowCount: candidate.row_count,
      labelColumn,
      metric: parameters.metric,
    };
    await writeFile(join(outputs.evaluation, 'evaluation.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(outputs.blessing, 'blessing.json'), `${JSON.stringify(blessing, null, 2)}\n`);
    services.log(blessing.reason);
    return {
      properties: {
        evaluation: { metrics: report.metrics, baselineMetrics: report.baselineMetrics, rowCount: report.rowCount },
        blessing: { blessed: blessing.blessed, reason: blessing.reason },
      },
    };
  },
});

/** Runs one model over the file and computes its metrics against the label column. */
async function scoreModel(
  modelPath: string,
  dataPath: string,
  labelColumn: string,
  startTask: () => ProgressTask,
): Promise<BinaryMetrics> {
  const predictionChunks: Float32Array[] = [];
  const labelChunks: Float32Array[] = [];
  let rowOffset = 0;
  const task = startTask();
  await runModelOverParquet(modelPath, dataPath, {
    extraColumns: [labelColumn],
    progress: task,
    onBatch({ rowCount, outputs, extra }) {
      const probability = outputs[PROBABILITY_OUTPUT];
      if (!probability) {
        throw new LoomError('FAILED_PRECONDITION', `model ${modelPath} has no "${PROBABILITY_OUTPUT}" output`);
      }
      // [N, 1] and [N] both hold one probability per row; copy, since the runner may reuse buffers.
      predictionChunks.push(Float32Array.from(probability.subarray(0, rowCount)));
      labelChunks.push(toLabels(extra[labelColumn], rowCount, labelColumn, rowOffset));
      rowOffset += rowCount;
    },
  }).finally(() => task.done());
  return binaryMetrics(concat(predictionChunks, rowOffset), concat(labelChunks, rowOffset));
}

/** Labels as 0/1 floats; booleans, integers and bigints are accepted, nulls are not. */
function toLabels(values: ArrayLike<unknown> | undefined, rowCount: number, labelColumn: string, rowOffset: number): Float32Array {
  if (!values) throw new LoomError('INTERNAL', `the batch runner returned no "${labelColumn}" column`);
  const labels = new Float32Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    const value = values[i];
    const label = typeof value === 'boolean' ? Number(value) : typeof value === 'bigint' ? Number(value) : value;
    if (label !== 0 && label !== 1) {
      throw new LoomError('INVALID_ARGUMENT', `label "${labelColumn}" at row ${rowOffset + i} is ${String(value)}; it must be 0/1 or a boolean`, {
        field: 'labelColumn',
        fix: 'derive the label without nulls, e.g. (delay > 15)::INTEGER',
      });
    }
    labels[i] = label;
  }
  return labels;
}

/** Checks the label is there (naming the columns that are, if not) and returns the row count, for progress. */
async function checkLabelColumn(dataPath: string, labelColumn: string, split: string): Promise<number> {
  const columns = await withDuckDB(async (db) =>
    (await queryRows(db, `DESCRIBE SELECT * FROM ${readSource(dataPath)}`)).map((row) => String(row.column_name)),
  );
  if (!columns.includes(labelColumn)) {
    throw new LoomError('INVALID_ARGUMENT', `label column "${labelColumn}" is not in the ${split} split (columns: ${columns.join(', ')})`, {
      field: 'labelColumn',
      fix: 'set labelColumn to one of the listed columns',
    });
  }
  return countRows(dataPath);
}

function concat(chunks: Float32Array[], length: number): Float32Array {
  const result = new Float32Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

/** JSON has no NaN: an undefined metric is written as null rather than silently as a string. */
function toJsonMetrics(metrics: BinaryMetrics): Record<string, number | null> {
  const result: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(metrics)) result[name] = Number.isFinite(value) ? value : null;
  return result;
}

function stringProperty(properties: JsonObject, name: string): string | undefined {
  const value = properties[name];
  return typeof value === 'string' && value ? value : undefined;
}
