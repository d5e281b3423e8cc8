/**
 * The transform tests' shared steps: read rows with DuckDB, and run a fitted transform's ONNX
 * graph on rows as serving receives them (timestamps as epoch milliseconds).
 */
import * as ort from 'onnxruntime-node';
import { withDuckDB } from '../../src/data/duckdb.js';
import { toTensor } from '../../src/onnx/tensors.js';
import type { FittedTransform } from '../../src/transform/fitted.js';
import { buildTransformGraph, transformInputs } from '../../src/transform/graph.js';

export type Row = Record<string, unknown>;

export async function queryRows(sql: string): Promise<Row[]> {
  return withDuckDB(async (db) => (await db.runAndReadAll(sql)).getRowObjects());
}

/** The graph's `features` output for `rows`, with its dims, in onnxruntime-node. */
export async function runTransformGraph(fitted: FittedTransform, rows: Row[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(buildTransformGraph(fitted));
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const spec of transformInputs(fitted)) feeds[spec.name] = toTensor(spec, rows.map((row) => row[spec.name] ?? null));
    const out = (await session.run(feeds)).features;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}
