/**
 * Request features checked against a model's signature, compiled once per model so the
 * hot path does no lookups it can avoid. Every request form (records, columns, a
 * dataframe split, V2 tensors) becomes the same `FeatureRows`: one flat column per
 * signature input, in signature order, already type-checked. A bad request collects
 * EVERY problem (missing, extra, wrong type, wrong shape) and fails once with all of
 * them, each naming the field as the client wrote it and what it expected.
 *
 * Usage:
 *   const compiled = compileSignature(signature);
 *   const rows = fromRecords(body.instances, compiled, 'instances'); // throws InvalidRequestError
 */
import { LoomError } from '../core/errors.js';
import type { ModelSignature, TensorSpec } from '../registry/types.js';

/** KServe V2 datatype names for Loom's tensor types. */
export const V2_DATATYPE: Record<TensorSpec['type'], string> = {
  float32: 'FP32',
  float64: 'FP64',
  int64: 'INT64',
  int32: 'INT32',
  string: 'BYTES',
  bool: 'BOOL',
};

/** One signature input, with what validation needs precomputed. */
export interface CompiledInput {
  name: string;
  type: TensorSpec['type'];
  shape: number[];
  /** Values per row: the product of the non-batch dimensions (1 for the usual `[-1, 1]`). */
  perRow: number;
  check: (value: unknown) => boolean;
  expected: string;
}

export interface CompiledSignature {
  signature: ModelSignature;
  inputs: CompiledInput[];
  /** Input name → position in `inputs`. */
  index: Map<string, number>;
  /** Input names in order (shared, for the prediction log). */
  names: readonly string[];
}

/** Validated features: `columns[i]` holds `rowCount * inputs[i].perRow` values of input i. */
export interface FeatureRows {
  rowCount: number;
  columns: unknown[][];
}

/** One problem in a request. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** At most this many problems are reported: enough to fix a request, bounded for a huge bad one. */
const MAX_PROBLEMS = 50;

/** A 400 naming every bad field; `field` is the first, `problems` all of them. */
export class InvalidRequestError extends LoomError {
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[]) {
    const shown = problems.map((p) => p.message);
    const message = problems.length === 1 ? shown[0]! : `${problems.length} problems in the request: ${shown.join('; ')}`;
    super('INVALID_ARGUMENT', message, { field: problems[0]?.field, fix: 'send every feature of the model signature (GET the model metadata to see it), with the types it names' });
    this.problems = problems;
  }
}

/** Collects problems; `fail()` throws them all at once. */
export class Problems {
  readonly list: FieldProblem[] = [];
  add(field: string, message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ field, message });
  }
  get full(): boolean {
    return this.list.length >= MAX_PROBLEMS;
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new InvalidRequestError(this.list);
  }
}

const isFloat = (v: unknown) => typeof v === 'number' || v === null;
const isInt64 = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v)) || v === null || typeof v === 'boolean';
const isInt32 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
const isString = (v: unknown) => typeof v === 'string' || v === null;
const isBool = (v: unknown) => typeof v === 'boolean';

const CHECKS: Record<TensorSpec['type'], { check: (v: unknown) => boolean; expected: string }> = {
  float32: { check: isFloat, expected: 'a number (or null)' },
  float64: { check: isFloat, expected: 'a number (or null)' },
  int64: { check: isInt64, expected: 'an integer (or null)' },
  int32: { check: isInt32, expected: 'an integer' },
  string: { check: isString, expected: 'a string (or null)' },
  bool: { check: isBool, expected: 'a boolean' },
};

export function compileSignature(signature: ModelSignature): CompiledSignature {
  const inputs = signature.inputs.map((spec) => ({
    name: spec.name,
    type: spec.type,
    shape: spec.shape,
    perRow: spec.shape.slice(1).reduce((product, dim) => product * Math.max(dim, 1), 1),
    ...CHECKS[spec.type],
  }));
  return { signature, inputs, index: new Map(inputs.map((input, i) => [input.name, i])), names: inputs.map((input) => input.name) };
}

/** How a value looks, for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Appends one row's value of `input` to `column`: a scalar (or a one-element array) for
 * one value per row, an array of `perRow` values (nested arrays are flattened) otherwise.
 */
function pushValue(input: CompiledInput, value: unknown, column: unknown[], field: string, problems: Problems): void {
  if (input.perRow === 1) {
    const scalar = Array.isArray(value) && value.length === 1 ? value[0] : value;
    if (input.check(scalar)) column.push(scalar);
    else problems.add(field, `${field} must be ${input.expected}, got ${describeValue(value)}`);
    return;
  }
  const flat = Array.isArray(value) ? value.flat(Infinity) : undefined;
  if (!flat || flat.length !== input.perRow) {
    problems.add(field, `${field} must be an array of ${input.perRow} values (shape [${input.shape.join(', ')}]), got ${describeValue(value)}`);
    return;
  }
  for (const item of flat) {
    if (!input.check(item)) {
      problems.add(field, `${field} must hold ${input.expected} values, got ${describeValue(item)}`);
      return;
    }
    column.push(item);
  }
}

function emptyColumns(compiled: CompiledSignature): unknown[][] {
  return compiled.inputs.map(() => []);
}

function unknownFeature(compiled: CompiledSignature, field: string, key: string): string {
  return `${field} is not a feature of this model: "${key}" (features: ${compiled.inputs.map((i) => i.name).join(', ')})`;
}

/** Records: one object of raw features per row; each must have every feature and nothing else. */
export function fromRecords(records: unknown, compiled: CompiledSignature, prefix: string): FeatureRows {
  const problems = new Problems();
  if (!Array.isArray(records)) {
    problems.add(prefix, `${prefix} must be an array of objects of feature values, got ${describeValue(records)}`);
    problems.throwIfAny();
  }
  const rows = records as unknown[];
  if (rows.length === 0) {
    problems.add(prefix, `${prefix} is empty; send at least one row`);
    problems.throwIfAny();
  }
  const columns = emptyColumns(compiled);
  const { inputs, index } = compiled;
  for (let row = 0; row < rows.length && !problems.full; row++) {
    const record = rows[row];
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      problems.add(`${prefix}[${row}]`, `${prefix}[${row}] must be an object of feature values, got ${describeValue(record)}`);
      continue;
    }
    const values = record as Record<string, unknown>;
    for (const key in values) {
      if (!index.has(key)) problems.add(`${prefix}[${row}].${key}`, unknownFeature(compiled, `${prefix}[${row}].${key}`, key));
    }
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const value = values[input.name];
      // Absent is a client mistake; null is an explicit missing value the transform handles.
      if (value === undefined) {
        problems.add(`${prefix}[${row}].${input.name}`, `${prefix}[${row}].${input.name} is missing (expected ${input.expected})`);
        continue;
      }
      pushValue(input, value, columns[i]!, `${prefix}[${row}].${input.name}`, problems);
    }
  }
  problems.throwIfAny();
  return { rowCount: rows.length, columns };
}

/** Columns: `{feature: [value per row], ...}` (TF Serving's columnar `inputs`). */
export function fromColumns(value: unknown, compiled: CompiledSignature, prefix: string): FeatureRows {
  const problems = new Problems();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.add(prefix, `${prefix} must be an object of feature columns, got ${describeValue(value)}`);
    problems.throwIfAny();
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!compiled.index.has(key)) problems.add(`${prefix}.${key}`, unknownFeature(compiled, `${prefix}.${key}`, key));
  }
  let rowCount: number | undefined;
  const columns = emptyColumns(compiled);
  compiled.inputs.forEach((input, i) => {
    const field = `${prefix}.${input.name}`;
    const column = given[input.name];
    if (column === undefined) return problems.add(field, `${field} is missing (expected an array of ${input.expected})`);
    if (!Array.isArray(column)) return problems.add(field, `${field} must be an array with one value per row, got ${describeValue(column)}`);
    if (rowCount === undefined) rowCount = column.length;
    else if (column.length !== rowCount) {
      return problems.add(field, `${field} has ${column.length} rows but an earlier feature has ${rowCount}; every column needs the same length`);
    }
    for (let row = 0; row < column.length && !problems.full; row++) pushValue(input, column[row], columns[i]!, `${field}[${row}]`, problems);
  });
  if (rowCount === 0) problems.add(prefix, `${prefix} holds no rows`);
  problems.throwIfAny();
  return { rowCount: rowCount ?? 0, columns };
}

/** A dataframe split: `{columns: [...names], data: [[...row], ...]}` (MLflow's `dataframe_split`). */
export function fromSplit(value: unknown, compiled: CompiledSignature, prefix: string): FeatureRows {
  const problems = new Problems();
  const split = value as { columns?: unknown; data?: unknown } | null;
  if (split === null || typeof split !== 'object' || !Array.isArray(split.columns) || !Array.isArray(split.data)) {
    problems.add(prefix, `${prefix} must be {"columns": [feature names], "data": [[row values], ...]}`);
    problems.throwIfAny();
  }
  const names = split!.columns as unknown[];
  const data = split!.data as unknown[];
  const positions = new Array<number>(compiled.inputs.length).fill(-1);
  names.forEach((name, position) => {
    const i = typeof name === 'string' ? compiled.index.get(name) : undefined;
    if (i === undefined) problems.add(`${prefix}.columns[${position}]`, unknownFeature(compiled, `${prefix}.columns[${position}]`, String(name)));
    else if (positions[i] !== -1) problems.add(`${prefix}.columns[${position}]`, `${prefix}.columns[${position}] repeats "${String(name)}"`);
    else positions[i] = position;
  });
  compiled.inputs.forEach((input, i) => {
    if (positions[i] === -1) problems.add(`${prefix}.columns`, `${prefix}.columns is missing "${input.name}" (expected ${input.expected})`);
  });
  if (data.length === 0) problems.add(`${prefix}.data`, `${prefix}.data is empty; send at least one row`);
  problems.throwIfAny();
  const columns = emptyColumns(compiled);
  for (let row = 0; row < data.length && !problems.full; row++) {
    const values = data[row];
    if (!Array.isArray(values) || values.length !== names.length) {
      problems.add(`${prefix}.data[${row}]`, `${prefix}.data[${row}] must be an array of ${names.length} values, one per column, got ${describeValue(values)}`);
      continue;
    }
    compiled.inputs.forEach((input, i) => pushValue(input, values[positions[i]!], columns[i]!, `${prefix}.data[${row}][${positions[i]}] (${input.name})`, problems));
  }
  problems.throwIfAny();
  return { rowCount: data.length, columns };
}

/** One V2 request input, as parsed from JSON. */
export interface V2Input {
  name: string;
  shape: number[];
  datatype: string;
  /** Row-major, flat or nested. */
  data: unknown[];
}

/** V2 tensors: one input per model input, with a datatype and shape that must agree with the signature. */
export function fromV2Inputs(inputs: readonly V2Input[], compiled: CompiledSignature): FeatureRows {
  const problems = new Problems();
  const given = new Map<string, V2Input>();
  for (const input of inputs) {
    const field = `inputs[${input.name}]`;
    if (!compiled.index.has(input.name)) problems.add(field, `${field} is not an input of this model (inputs: ${compiled.inputs.map((i) => i.name).join(', ')})`);
    else if (given.has(input.name)) problems.add(field, `${field} is given twice`);
    else given.set(input.name, input);
  }
  let rowCount: number | undefined;
  const columns = emptyColumns(compiled);
  compiled.inputs.forEach((spec, i) => {
    const field = `inputs[${spec.name}]`;
    const input = given.get(spec.name);
    if (!input) return problems.add(field, `${field} is missing (expected datatype ${V2_DATATYPE[spec.type]}, shape [${spec.shape.join(', ')}])`);
    const expectedType = V2_DATATYPE[spec.type];
    if (input.datatype !== expectedType) return problems.add(`${field}.datatype`, `${field}.datatype must be ${expectedType}, got ${input.datatype}`);
    const data = input.data.flat(Infinity);
    const count = input.shape.reduce((product, dim) => product * dim, 1);
    if (count !== data.length) {
      return problems.add(`${field}.data`, `${field}.data has ${data.length} values but shape [${input.shape.join(', ')}] needs ${count}`);
    }
    const rows = input.shape[0] ?? 1;
    // [N] and [N, 1] both mean one value per row for a [-1, 1] input, as clients send either.
    if (count !== rows * spec.perRow) {
      return problems.add(`${field}.shape`, `${field}.shape [${input.shape.join(', ')}] does not fit the model's [${spec.shape.join(', ')}] (-1 is the batch)`);
    }
    if (rowCount !== undefined && rows !== rowCount) {
      return problems.add(`${field}.shape`, `${field}.shape has ${rows} rows but an earlier input has ${rowCount}; every input needs the same batch size`);
    }
    rowCount = rows;
    const column = columns[i]!;
    for (let j = 0; j < data.length; j++) {
      const value = data[j];
      if (spec.check(value)) column.push(value);
      else {
        problems.add(`${field}.data[${j}]`, `${field}.data[${j}] must be ${spec.expected}, got ${describeValue(value)}`);
        if (problems.full) break;
      }
    }
  });
  if (rowCount === 0 && problems.list.length === 0) problems.add('inputs', 'inputs hold no rows');
  problems.throwIfAny();
  return { rowCount: rowCount ?? 0, columns };
}

/** Text cells (CSV) as the signature's types: '' is missing; numbers and booleans parsed, strings kept. */
export function coerceText(cell: string, input: CompiledInput): unknown {
  if (input.type === 'string') return cell;
  if (cell === '') return null;
  if (input.type === 'bool') return cell === 'true' || cell === '1' ? true : cell === 'false' || cell === '0' ? false : cell;
  const number = Number(cell);
  return Number.isNaN(number) ? cell : number;
}

/** A row of every input with a valid value, for warming a model up with a real inference. */
export function dummyRow(compiled: CompiledSignature): FeatureRows {
  const sample: Record<TensorSpec['type'], unknown> = { float32: 0, float64: 0, int64: 0, int32: 0, string: '', bool: false };
  return { rowCount: 1, columns: compiled.inputs.map((input) => new Array(input.perRow).fill(sample[input.type])) };
}
