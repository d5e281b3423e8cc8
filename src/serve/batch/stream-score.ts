/**
 * The streaming core of batch scoring: DuckDB streams a query's result in 2,048-row
 * chunks, each model input is copied column-wise into a typed array of one batch, ONNX
 * Runtime scores the batch in a worker thread (src/serve/batch/score-pool.ts), and the sink gets the outputs beside the pass-through
 * columns. JS memory holds one batch, never the input.
 *
 * The query selects the model's inputs first (named and cast as `inputColumns` does),
 * then the pass-through columns; streamSelect (src/data/duckdb.ts) fails it when DuckDB ends
 * the stream early on a bad value, so a job never scores part of its input as if it were all. Missing values follow src/onnx/tensors.ts (NaN, '',
 * MISSING_INT64), so a row scores here exactly as it scores on the server.
 *
 * Usage: `await scoreStream(connection, { columns, from, description }, { model: bytes, signature, keepCount: 1, batchSize, onBatch })`
 */
import type { DuckDBConnection, DuckDBType, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';
import { LoomError } from '../../core/errors.js';
import { DEFAULT_BATCH_SIZE, INPUT_TYPE_FIX, inputExpression } from '../../data/batch-runner.js';
import { streamSelect, type CheckedStream, type SelectedColumn, type StreamSelect } from '../../data/duckdb.js';
import { MISSING_INT64 } from '../../onnx/tensors.js';
import type { ModelSignature, TensorSpec } from '../../registry/types.js';
import { startScorePool, type ScorePool, type WorkerFeed } from './score-pool.js';

/** One output column of a batch: a typed array for numbers, an array for strings. */
export type OutputColumn = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

export interface ScoredBatch {
  rowCount: number;
  /** Model outputs by name, row-major (`[rowCount, ...]`). */
  outputs: Record<string, OutputColumn>;
  /** The pass-through columns, as DuckDB values, in query order. */
  keep: DuckDBValue[][];
}

export interface ScoreStreamOptions {
  /** The ONNX model's bytes; each scoring worker opens its own session on them. */
  model: Uint8Array;
  signature: ModelSignature;
  /** How many columns after the inputs are passed through. */
  keepCount: number;
  batchSize?: number;
  /** Scoring workers; default one per core. */
  workers?: number;
  onBatch(batch: ScoredBatch): Promise<void> | void;
  /** Called once the query is prepared, with the pass-through columns' types. */
  onStart?(keepTypes: DuckDBType[]): Promise<void> | void;
}

/**
 * Scoring workers by default: one per core (at most 8). Profiled on the flights graph, the
 * main thread (reading, tensor building, writing) idles more than half the time waiting
 * for a single worker, so the model, not the read, is the bottleneck: it gets every core.
 */
export function defaultWorkers(): number {
  return Math.min(8, Math.max(1, availableParallelism()));
}

/**
 * Each model input, named as it is and read from its column (by `columnTypes`, as DESCRIBE
 * gives them) as evaluation reads it (`inputExpression`, src/data/batch-runner.ts), in signature order.
 */
export function inputColumns(signature: ModelSignature, columnTypes: ReadonlyMap<string, string>): SelectedColumn[] {
  return signature.inputs.map((input) => ({ name: input.name, expression: inputExpression(input, columnTypes.get(input.name) ?? '') }));
}

/** Each column of `source` (a table expression) with its DuckDB type, for `inputSelects`. */
export async function columnTypes(connection: DuckDBConnection, source: string): Promise<Map<string, string>> {
  const described = await readingInput(() => connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`));
  return new Map(described.getRowObjects().map((row) => [String(row.column_name), String(row.column_type)]));
}

/**
 * Streams the `select`ed rows through the model; resolves to the number of rows scored.
 * A row DuckDB cannot read fails the whole stream (a LoomError naming the row and column). Batches are
 * scored in workers while the next ones are read, and handed to `onBatch` in input order;
 * at most two batches per worker are in flight, so memory stays bounded.
 */
export async function scoreStream(connection: DuckDBConnection, select: StreamSelect, options: ScoreStreamOptions): Promise<number> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const { signature, keepCount } = options;
  const inputs = signature.inputs;
  const workers = options.workers ?? defaultWorkers();
  // The workers load the model while DuckDB plans the query.
  const starting = startScorePool(options.model, workers);
  let pool: ScorePool;
  let result: CheckedStream;
  try {
    result = await readingInput(() => streamSelect(connection, { fix: INPUT_TYPE_FIX, ...select }));
    await options.onStart?.(result.columnTypes().slice(inputs.length, inputs.length + keepCount));
    pool = await starting;
  } catch (error) {
    await starting.then((started) => started.close(), () => {});
    throw error;
  }
  try {
    let buffers = inputs.map((spec) => newBuffer(spec, batchSize));
    let keep: DuckDBValue[][] = Array.from({ length: keepCount }, () => []);
    let filled = 0;
    let total = 0;
    const inFlight: { rowCount: number; keep: DuckDBValue[][]; outputs: Promise<Record<string, OutputColumn>> }[] = [];

    const deliverOldest = async (): Promise<void> => {
      const oldest = inFlight.shift()!;
      const outputs = await oldest.outputs;
      for (const spec of signature.outputs) {
        if (!outputs[spec.name]) throw new LoomError('INTERNAL', `the model produced no output "${spec.name}"`);
      }
      total += oldest.rowCount;
      await options.onBatch({ rowCount: oldest.rowCount, outputs, keep: oldest.keep });
    };

    const submit = async (): Promise<void> => {
      if (filled === 0) return;
      const rowCount = filled;
      const feeds = inputs.map((spec, index) => toWorkerFeed(spec, buffers[index]!, rowCount));
      const outputs = pool.run(feeds);
      // Mark it handled now; the rejection is rethrown when the batch is delivered, in order.
      outputs.catch(() => {});
      inFlight.push({ rowCount, keep, outputs });
      // Fresh buffers: the old ones now belong to the worker.
      buffers = inputs.map((spec) => newBuffer(spec, batchSize));
      keep = Array.from({ length: keepCount }, () => []);
      filled = 0;
      if (inFlight.length >= 2 * workers) await deliverOldest();
    };

    for (;;) {
      const chunk = await readingInput(() => result.nextChunk());
      if (!chunk) break;
      const vectors = Array.from({ length: inputs.length + keepCount }, (_, column) => chunk.getColumnVector(column));
      for (let offset = 0; offset < chunk.rowCount; ) {
        const take = Math.min(chunk.rowCount - offset, batchSize - filled);
        inputs.forEach((spec, column) => copyInto(spec, buffers[column]!, filled, vectors[column]!, offset, take));
        for (let column = 0; column < keepCount; column++) {
          const vector = vectors[inputs.length + column]!;
          const target = keep[column]!;
          for (let i = offset; i < offset + take; i++) target.push(vector.getItem(i));
        }
        filled += take;
        offset += take;
        if (filled === batchSize) await submit();
      }
    }
    await submit();
    while (inFlight.length > 0) await deliverOldest();
    return total;
  } finally {
    await pool.close();
  }
}

type Buffer = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

function newBuffer(spec: TensorSpec, size: number): Buffer {
  switch (spec.type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
    case 'string':
      return new Array<string>(size);
  }
}

/** Copies `take` values of a DuckDB vector into the batch buffer, missing values as src/onnx/tensors.ts has them. */
function copyInto(spec: TensorSpec, buffer: Buffer, at: number, vector: DuckDBVector, from: number, take: number): void {
  switch (spec.type) {
    case 'float32':
    case 'float64': {
      const target = buffer as Float32Array | Float64Array;
      for (let i = 0; i < take; i++) {
        const value = vector.getItem(from + i) as number | null;
        target[at + i] = value === null ? NaN : value;
      }
      return;
    }
    case 'int64': {
      const target = buffer as BigInt64Array;
      for (let i = 0; i < take; i++) {
        const value = vector.getItem(from + i) as bigint | null;
        target[at + i] = value === null ? MISSING_INT64 : value;
      }
      return;
    }
    case 'int32': {
      const target = buffer as Int32Array;
      for (let i = 0; i < take; i++) {
        const value = vector.getItem(from + i) as number | null;
        if (value === null) throw missingInt32(spec);
        target[at + i] = value;
      }
      return;
    }
    case 'bool': {
      const target = buffer as Uint8Array;
      for (let i = 0; i < take; i++) {
        const value = vector.getItem(from + i) as boolean | null;
        if (value === null) throw missingBool(spec);
        target[at + i] = value ? 1 : 0;
      }
      return;
    }
    case 'string': {
      const target = buffer as string[];
      for (let i = 0; i < take; i++) {
        const value = vector.getItem(from + i) as string | null;
        target[at + i] = value === null ? '' : value;
      }
      return;
    }
  }
}

function toWorkerFeed(spec: TensorSpec, buffer: Buffer, rowCount: number): WorkerFeed {
  const perRow = spec.shape.slice(1).reduce((product, dim) => product * Math.max(dim, 1), 1);
  if (perRow !== 1) {
    throw new LoomError('INVALID_ARGUMENT', `input "${spec.name}" takes ${perRow} values a row; batch scoring reads one column per input`, {
      field: spec.name,
    });
  }
  const dims = spec.shape.map((dim, index) => (index === 0 ? rowCount : Math.max(dim, 1)));
  if (!Array.isArray(buffer)) return { name: spec.name, type: spec.type, data: buffer.subarray(0, rowCount), dims };
  // Strings cross to the worker as one string and their lengths: cloning one string is a
  // copy, cloning an array of 16k strings is 16k allocations on each side.
  const strings = rowCount === buffer.length ? buffer : buffer.slice(0, rowCount);
  const lengths = new Int32Array(rowCount);
  for (let i = 0; i < rowCount; i++) lengths[i] = strings[i]!.length;
  return { name: spec.name, type: spec.type, data: lengths, joined: strings.join(''), dims };
}

function missingInt32(spec: TensorSpec): LoomError {
  return new LoomError('INVALID_ARGUMENT', `input "${spec.name}" (int32) has a missing value, which an int32 tensor cannot hold`, {
    field: spec.name,
    fix: 'fill or drop rows with a missing value in this column first',
  });
}

function missingBool(spec: TensorSpec): LoomError {
  return new LoomError('INVALID_ARGUMENT', `input "${spec.name}" (bool) has a missing value, which a bool tensor cannot hold`, {
    field: spec.name,
    fix: 'fill or drop rows with a missing value in this column first',
  });
}

/** DuckDB fails a CAST mid-stream when a column does not hold what the model's input expects. */
async function readingInput<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof LoomError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('INVALID_ARGUMENT', `cannot read the input as the model's inputs: ${message}`, { fix: INPUT_TYPE_FIX });
  }
}
