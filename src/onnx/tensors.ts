/**
 * Column values to ONNX Runtime tensors, by the input's `TensorSpec`. Batch scoring
 * feeds it DuckDB columns; serving feeds it request values, so a value of the wrong
 * type fails with INVALID_ARGUMENT naming the field and the row.
 *
 * Missing values (null, undefined) become NaN for floats, '' for strings and
 * `MISSING_INT64` for int64, which no vocabulary contains (so it lands in the
 * out-of-vocabulary bucket) and which transform graphs treat as missing before a z-score.
 *
 * Usage: `const tensor = toTensor({ name: 'distance', type: 'float32', shape: [-1, 1] }, [1200, null]);`
 */
import * as ort from 'onnxruntime-node';
import { LoomError } from '../core/errors.js';
import type { TensorSpec } from './signature.js';

/** The int64 standing for a missing value: the smallest int64, never a real category. */
export const MISSING_INT64 = -(2n ** 63n);

export interface ToTensorOptions {
  /** How a row's field is named in errors; default `<input>[<row>]`. */
  fieldName?: (row: number) => string;
}

/**
 * One tensor for `spec` from `values`, one value per element in row-major order
 * (one per row for the usual `[N, 1]` input). `-1` dimensions take the size that fits.
 */
export function toTensor(spec: TensorSpec, values: ArrayLike<unknown>, options: ToTensorOptions = {}): ort.Tensor {
  const dims = resolveDims(spec, values.length);
  const rows = dims.length > 0 ? dims[0] : 1;
  const perRow = rows > 0 ? values.length / rows : 1;
  const fieldName = options.fieldName ?? ((row: number) => `${spec.name}[${row}]`);
  const fail = (index: number, value: unknown): never => {
    const row = Math.floor(index / perRow);
    const field = fieldName(row);
    throw new LoomError('INVALID_ARGUMENT', `${field} must be ${describeType(spec.type)}, got ${describeValue(value)}`, {
      field,
      fix: `send ${describeType(spec.type)} for "${spec.name}" (or null when it is missing)`,
    });
  };
  const n = values.length;
  switch (spec.type) {
    case 'float32':
    case 'float64': {
      const data = spec.type === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i];
        if (typeof value === 'number') data[i] = value;
        else if (value === null || value === undefined) data[i] = NaN;
        else if (typeof value === 'bigint') data[i] = Number(value);
        else fail(i, value);
      }
      return new ort.Tensor(spec.type, data, dims);
    }
    case 'int64': {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i];
        if (typeof value === 'bigint') data[i] = value;
        else if (typeof value === 'number' && Number.isSafeInteger(value)) data[i] = BigInt(value);
        else if (value === null || value === undefined) data[i] = MISSING_INT64;
        else if (typeof value === 'boolean') data[i] = value ? 1n : 0n;
        else fail(i, value);
      }
      return new ort.Tensor('int64', data, dims);
    }
    case 'int32': {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i];
        if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) data[i] = value;
        else fail(i, value);
      }
      return new ort.Tensor('int32', data, dims);
    }
    case 'string': {
      const data = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const value = values[i];
        if (typeof value === 'string') data[i] = value;
        else if (value === null || value === undefined) data[i] = '';
        else fail(i, value);
      }
      return new ort.Tensor('string', data, dims);
    }
    case 'bool': {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const value = values[i];
        if (typeof value === 'boolean') data[i] = value ? 1 : 0;
        else fail(i, value);
      }
      return new ort.Tensor('bool', data, dims);
    }
  }
}

function resolveDims(spec: TensorSpec, count: number): number[] {
  const fixed = spec.shape.reduce((product, dim) => (dim < 0 ? product : product * dim), 1);
  const dynamic = spec.shape.filter((dim) => dim < 0).length;
  if (dynamic > 1) {
    throw new LoomError('INVALID_ARGUMENT', `input "${spec.name}" has ${dynamic} dynamic dimensions; only the batch may be dynamic`);
  }
  if (dynamic === 0 ? count !== fixed : fixed === 0 || count % fixed !== 0) {
    throw new LoomError('INVALID_ARGUMENT', `input "${spec.name}" of shape [${spec.shape.join(', ')}] cannot hold ${count} values`, {
      field: spec.name,
    });
  }
  return spec.shape.map((dim) => (dim < 0 ? count / fixed : dim));
}

function describeType(type: TensorSpec['type']): string {
  if (type === 'float32' || type === 'float64') return 'a number';
  if (type === 'int64' || type === 'int32') return 'an integer';
  return type === 'string' ? 'a string' : 'a boolean';
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
