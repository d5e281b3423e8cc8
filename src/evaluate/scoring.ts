/**
 * Scores an evaluation file once: runs a composed model (raw features in) over every row
 * of a Parquet file through the batch runner, and keeps its scores, the labels, the
 * weights and the values of the features the evaluation slices by, all in row order.
 * Slices, fairness and bootstrap then regroup these arrays without scoring again.
 *
 * Usage: `const scored = await scoreEvaluationData(modelPath, dataPath, { task, predictionOutput, labelColumn, features });`
 */
import { LoomError } from '../core/errors.js';
import { queryRows, readSource, withDuckDB } from '../data/duckdb.js';
import { runModelOverParquet } from '../data/batch-runner.js';
import type { DataColumn } from './config.js';
import type { Predictions, Task } from './metrics.js';

export interface ScoringRequest {
  task: Task;
  predictionOutput: string;
  labelColumn: string;
  weightColumn?: string;
  /** Columns passed through for slicing and fairness. */
  features: string[];
  progress?: { advance(n: number): void };
}

export interface ScoredData {
  predictions: Predictions;
  features: Record<string, unknown[]>;
}

/** The columns of a data file with their DuckDB types, for config checks. */
export async function describeColumns(dataPath: string): Promise<DataColumn[]> {
  return withDuckDB(async (db) =>
    (await queryRows(db, `DESCRIBE SELECT * FROM ${readSource(dataPath)}`)).map((row) => ({ name: String(row.column_name), type: String(row.column_type) })),
  );
}

export async function scoreEvaluationData(modelPath: string, dataPath: string, request: ScoringRequest): Promise<ScoredData> {
  const scores: number[] = [];
  const labels: number[] = [];
  const weights: number[] = [];
  const features: Record<string, unknown[]> = Object.fromEntries(request.features.map((f) => [f, []]));
  let classes: number | undefined;
  let row = 0;
  const extraColumns = [...new Set([request.labelColumn, ...(request.weightColumn ? [request.weightColumn] : []), ...request.features])];
  await runModelOverParquet(modelPath, dataPath, {
    extraColumns,
    progress: request.progress,
    onBatch({ rowCount, outputs, extra }) {
      const output = outputs[request.predictionOutput];
      if (!output) {
        throw new LoomError('INVALID_ARGUMENT', `the model has no output "${request.predictionOutput}" (outputs: ${Object.keys(outputs).join(', ')})`, {
          field: 'predictionOutput',
          fix: 'set predictionOutput to one of the listed outputs',
        });
      }
      // [N] and [N, 1] hold one score per row; [N, K] holds K class probabilities.
      const width = output.length / rowCount;
      if (request.task === 'multiclass') classes = width;
      else if (width !== 1) {
        throw new LoomError('INVALID_ARGUMENT', `output "${request.predictionOutput}" has ${width} values per row; a ${request.task} task needs one`, { field: 'task' });
      }
      for (let k = 0; k < rowCount * width; k++) scores.push(output[k]!);
      const labelValues = extra[request.labelColumn]!;
      for (let i = 0; i < rowCount; i++) labels.push(toLabel(labelValues[i], request, row + i));
      if (request.weightColumn) {
        const w = extra[request.weightColumn]!;
        for (let i = 0; i < rowCount; i++) weights.push(Number(w[i] ?? Number.NaN));
      }
      for (const feature of request.features) {
        const values = extra[feature]!;
        const target = features[feature]!;
        for (let i = 0; i < rowCount; i++) target.push(values[i]);
      }
      row += rowCount;
    },
  });
  if (request.task === 'multiclass' && classes !== undefined && classes < 2) {
    throw new LoomError('INVALID_ARGUMENT', `output "${request.predictionOutput}" has one value per row; a multiclass task needs one probability per class`, { field: 'task' });
  }
  return {
    predictions: {
      task: request.task,
      // float32 outputs widen to float64 exactly, so the metrics see the model's own numbers.
      scores: Float64Array.from(scores),
      labels: Float64Array.from(labels),
      classes,
      weights: request.weightColumn ? Float64Array.from(weights) : undefined,
    },
    features,
  };
}

/** A label as a number: booleans and bigints are accepted; nulls are not. */
function toLabel(value: unknown, request: ScoringRequest, row: number): number {
  const label = typeof value === 'boolean' || typeof value === 'bigint' ? Number(value) : value;
  const ok = typeof label === 'number' && Number.isFinite(label) && (request.task !== 'binary' || label === 0 || label === 1);
  if (!ok) {
    const expected = request.task === 'binary' ? '0/1 or a boolean' : request.task === 'multiclass' ? 'a class index 0..K-1' : 'a number';
    throw new LoomError('INVALID_ARGUMENT', `label "${request.labelColumn}" at row ${row} is ${String(value)}; it must be ${expected}`, {
      field: 'labelColumn',
      fix: 'derive the label without nulls, e.g. (delay > 15)::INTEGER',
    });
  }
  return label;
}
