/**
 * Runs an ONNX model over every row of a Parquet file, in batches: DuckDB streams the
 * columns the model's inputs name (input name = column name, cast to the input's type),
 * ONNX Runtime scores each batch, and the caller gets each batch's outputs. Memory holds
 * one batch, never the table. Transform application and evaluation score data through
 * here, so they run the very graph serving runs; batch scoring (`loom predict`, precomputed
 * tables) streams through src/serve/batch/stream-score.ts instead, which scores in worker
 * threads and keeps typed arrays and output types.
 *
 * Usage:
 *   await runModelOverParquet('model.onnx', 'eval/data.parquet', {
 *     extraColumns: ['delayed'],
 *     onBatch({ rowCount, outputs, extra }) { ... outputs.probability ... extra.delayed ... },
 *   });
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { DuckDBValue } from '@duckdb/node-api';
import { LoomError } from '../core/errors.js';
import { sqlIdent, sqlString, streamSelect, withDuckDB } from './duckdb.js';
import { isTimeType, timeColumnAs } from './duckdb-types.js';
import type { TensorSpec } from '../onnx/signature.js';
import { readSignature } from '../onnx/inspect.js';
import { toTensor } from '../onnx/tensors.js';

export interface ModelBatch {
  rowCount: number;
  /** Each model output as float32, row-major (`[rowCount, ...]`). */
  outputs: Record<string, Float32Array>;
  /** The requested extra columns as DuckDB gives them (number, bigint, string, boolean, null, ...). */
  extra: Record<string, ArrayLike<unknown>>;
}

export interface RunOverParquetOptions {
  /** Rows per `run`; default 16384. */
  batchSize?: number;
  /** Columns passed through to `onBatch` unchanged, e.g. the label or an id. */
  extraColumns?: string[];
  onBatch(batch: ModelBatch): void | Promise<void>;
  progress?: { advance(n: number): void };
}

/**
 * Rows per `run` by default. Measured on the January flights transform (508k rows, width
 * 156): 16k-row batches ran about twice as fast as 64k ones, whose outputs outgrow the caches.
 */
export const DEFAULT_BATCH_SIZE = 16_384;

/**
 * The SQL type each tensor type is read as. A float32 input reads DOUBLE, rounded to float32 as
 * the tensor is built, as the server rounds a client's JSON number: a FLOAT cast would fail on a
 * value past float32's range, which the server scores (as infinity).
 */
const SQL_TYPE: Record<TensorSpec['type'], string> = {
  float32: 'DOUBLE',
  float64: 'DOUBLE',
  int64: 'BIGINT',
  int32: 'INTEGER',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
};

/** Scores every row of `parquetPath` with the model at `modelPath`; resolves to the number of rows scored. */
export async function runModelOverParquet(
  modelPath: string,
  parquetPath: string,
  options: RunOverParquetOptions,
): Promise<{ rowCount: number }> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new LoomError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`, { field: 'batchSize' });
  }
  const modelBytes = await readFile(modelPath);
  const signature = readSignature(modelBytes);
  const session = await ort.InferenceSession.create(modelBytes);
  const extraColumns = options.extraColumns ?? [];
  try {
    return await withDuckDB(async (db) => {
      const source = `read_parquet(${sqlString(parquetPath)})`;
      const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
      const columnTypes = new Map(described.getRowObjects().map((row) => [String(row.column_name), String(row.column_type)]));
      const available = [...columnTypes.keys()];
      const missing = [...signature.inputs.map((input) => input.name), ...extraColumns].filter((name) => !available.includes(name));
      if (missing.length > 0) {
        throw new LoomError('INVALID_ARGUMENT', `${parquetPath} lacks the column(s) ${missing.join(', ')}`, {
          field: missing[0],
          fix: `the file has: ${available.join(', ')}`,
        });
      }
      const columns = [
        ...signature.inputs.map((input) => ({ name: input.name, expression: inputExpression(input, columnTypes.get(input.name) ?? '') })),
        ...extraColumns.map((name) => ({ name, expression: sqlIdent(name) })),
      ];
      // streamSelect fails (naming the row and column) when a column does not hold what the model's input expects.
      const stream = await streamSelect(db, { columns, from: source, description: parquetPath, fix: INPUT_TYPE_FIX });
      const columnCount = columns.length;
      let pending: DuckDBValue[][] = Array.from({ length: columnCount }, () => []);
      let pendingRows = 0;
      let total = 0;

      const flush = async (): Promise<void> => {
        if (pendingRows === 0) return;
        const columns = pending;
        const rowCount = pendingRows;
        pending = Array.from({ length: columnCount }, () => []);
        pendingRows = 0;
        const feeds: Record<string, ort.Tensor> = {};
        signature.inputs.forEach((input, index) => {
          feeds[input.name] = toTensor(input, columns[index], { fieldName: (row) => `${input.name} (row ${total + row + 1})` });
        });
        const results = await session.run(feeds);
        const outputs: Record<string, Float32Array> = {};
        for (const output of signature.outputs) outputs[output.name] = asFloat32(output.name, results[output.name]);
        const extra: Record<string, ArrayLike<unknown>> = {};
        extraColumns.forEach((name, index) => {
          extra[name] = columns[signature.inputs.length + index];
        });
        total += rowCount;
        await options.onBatch({ rowCount, outputs, extra });
        options.progress?.advance(rowCount);
      };

      for (;;) {
        const chunk = await stream.nextChunk();
        if (!chunk) break;
        const values = Array.from({ length: columnCount }, (_, column) => chunk.getColumnValues(column));
        // Cut chunks so every batch but the last has exactly batchSize rows.
        for (let offset = 0; offset < chunk.rowCount; ) {
          const take = Math.min(chunk.rowCount - offset, batchSize - pendingRows);
          for (let column = 0; column < columnCount; column++) {
            const source = values[column];
            const target = pending[column];
            for (let i = offset; i < offset + take; i++) target.push(source[i]);
          }
          pendingRows += take;
          offset += take;
          if (pendingRows === batchSize) await flush();
        }
      }
      await flush();
      return { rowCount: total };
    });
  } finally {
    await session.release();
  }
}

/**
 * The SQL feeding one input from its column of type `columnType` (as DESCRIBE gives it): cast to
 * the input's type, except that a TIMESTAMP or DATE column feeds an int64 input as epoch
 * milliseconds and a string input as ISO 8601 text (timeColumnAs): the forms the transform's
 * datetime analyzer and a serving client use (a cast would fail, DATE -> BIGINT, or differ).
 * Batch scoring (src/serve/batch/stream-score.ts) reads its inputs with it too.
 */
export function inputExpression(input: TensorSpec, columnType: string): string {
  const column = sqlIdent(input.name);
  if ((input.type === 'int64' || input.type === 'string') && isTimeType(columnType)) return timeColumnAs(column, columnType, input.type);
  return `CAST(${column} AS ${SQL_TYPE[input.type]})`;
}

/** The fix for a row whose column DuckDB cannot read as the model input's type (batch scoring names it too). */
export const INPUT_TYPE_FIX = "check that each column has the type of the model input of the same name (see the model's signature), or correct or remove the row";

function asFloat32(name: string, tensor: ort.Tensor | undefined): Float32Array {
  if (!tensor) throw new LoomError('INTERNAL', `the model produced no output "${name}"`);
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, (value) => Number(value));
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return Float32Array.from(data as ArrayLike<number>);
  throw new LoomError('INVALID_ARGUMENT', `model output "${name}" is ${tensor.type}, not numeric`, {
    fix: 'batch scoring reads numeric outputs only',
  });
}
