/**
 * Records cross to the log's worker packed into flat sequences of primitives. Copying a
 * message to a worker costs per object: a record is about fifteen small objects (arrays
 * of columns, outputs, shapes), and cloning them was most of what logging cost the
 * serving thread. The serving thread packs each record's values into typed arrays as it is
 * logged (`RecordPacker`, prediction-log-wire.ts), which move to the worker without a copy;
 * the worker opens them as flat arrays of values (`PackedRecords`, `openBatch`) that its
 * writers read directly, or rebuilds the records (`unpackRecords`).
 *
 * Usage: `const batch = packer.take(); worker.postMessage(batch, batchBuffers(batch))`; in the worker `openBatch(batch)`.
 */
import type { PredictionOutput } from './batcher.js';
import type { PredictionLogRow, PredictionRecord, PredictionRole, RequestFailure } from './prediction-log.js';
import { spoolLinePrefix, spoolLineSuffix } from './prediction-log-spool.js';
import { readValues, ValueWriter, wireBuffers, type WireValues } from './prediction-log-wire.js';

/** A batch of records as flat arrays: `head` holds eight fields per record, `body` the columns and outputs in order. */
export interface PackedRecords {
  count: number;
  /** The distinct input-name lists, referred to by index. */
  names: string[][];
  head: (string | number)[];
  body: unknown[];
  /**
   * Failed requests, three entries each: the record's index, its status, its error code.
   * Kept apart so that answered requests (nearly all) pack exactly as before.
   */
  failures: (string | number)[];
}

/** A packed batch's failures by record index. */
export function failuresOf(packed: PackedRecords): Map<number, { status: number; code: string }> {
  const byIndex = new Map<number, { status: number; code: string }>();
  for (let i = 0; i < packed.failures.length; i += 3) byIndex.set(packed.failures[i] as number, { status: packed.failures[i + 1] as number, code: packed.failures[i + 2] as string });
  return byIndex;
}

/** Where each of a record's fields sits in its eight entries of `PackedRecords.head` (read by number nowhere else). */
export const HEAD = { requestId: 0, modelName: 1, modelVersion: 2, role: 3, protocol: 4, names: 5, latencyMs: 6, at: 7 } as const;
/** Entries per record in `PackedRecords.head`. */
export const HEAD_FIELDS = 8;

/**
 * A batch as the serving thread hands it to the log's worker: `PackedRecords`' head and body
 * as typed arrays (prediction-log-wire.ts) that move with the message (`batchBuffers`) instead
 * of being cloned; `openBatch` gives the arrays back.
 */
export interface PackedBatch {
  count: number;
  names: string[][];
  head: WireValues;
  body: WireValues;
  failures: (string | number)[];
}

/**
 * Packs records one by one as they are logged, into the typed arrays of the batch being built.
 * The serving thread keeps no record (nor its columns, outputs and shapes) alive until the
 * batch is handed on, and the batch itself is a few typed arrays, not arrays of values: each
 * request's objects die young, in the cheap part of garbage collection, and nothing per value
 * is traced in the old generation or cloned for the worker.
 *
 * Usage: `builder.add(record)` per request; `const batch = builder.take(); worker.postMessage(batch, batchBuffers(batch))` per batch.
 */
export class RecordPacker {
  private namesIndex = new Map<readonly string[], number>();
  private names: string[][] = [];
  private readonly head = new ValueWriter(HEAD_FIELDS * 256);
  private readonly body = new ValueWriter();
  private failures: (string | number)[] = [];
  /** Records packed since the last `take`. */
  count = 0;

  add(record: PredictionRecord): void {
    const { head, body } = this;
    if (record.failure) this.failures.push(this.count, record.failure.status, record.failure.code);
    let index = this.namesIndex.get(record.inputNames);
    if (index === undefined) {
      index = this.names.length;
      this.names.push([...record.inputNames]);
      this.namesIndex.set(record.inputNames, index);
    }
    // In HEAD's order.
    head.put(record.requestId);
    head.put(record.modelName);
    head.put(record.modelVersion);
    head.put(record.role);
    head.put(record.protocol);
    head.put(index);
    head.put(record.latencyMs);
    head.put(record.at);
    const { rowCount, columns } = record.rows;
    body.put(rowCount);
    body.put(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      body.put(column.length);
      for (let i = 0; i < column.length; i++) body.put(column[i]);
    }
    const outputs = record.outputs;
    body.put(outputs.length);
    for (let o = 0; o < outputs.length; o++) {
      const { name, type, shape, data } = outputs[o]!;
      body.put(name);
      body.put(type);
      body.put(shape.length);
      for (let i = 0; i < shape.length; i++) body.put(shape[i]);
      body.put(data.length);
      for (let i = 0; i < data.length; i++) body.put(data[i]);
    }
    this.count++;
  }

  /** The batch packed so far; the packer starts a new one. */
  take(): PackedBatch {
    const batch: PackedBatch = { count: this.count, names: this.names, head: this.head.take(), body: this.body.take(), failures: this.failures };
    this.namesIndex = new Map();
    this.names = [];
    this.failures = [];
    this.count = 0;
    return batch;
  }
}

/** The buffers to move with a message carrying `batch` (postMessage's transfer list). */
export function batchBuffers(batch: PackedBatch): ArrayBuffer[] {
  return [...wireBuffers(batch.head), ...wireBuffers(batch.body)];
}

/** A batch as it arrived (typed arrays) as the arrays of values the log's writers read. */
export function openBatch(batch: PackedBatch): PackedRecords {
  return { count: batch.count, names: batch.names, head: readValues(batch.head) as (string | number)[], body: readValues(batch.body), failures: batch.failures };
}

/** Records packed as one batch (what `RecordPacker` builds as they come), opened. */
export function packRecords(records: readonly PredictionRecord[]): PackedRecords {
  const packer = new RecordPacker();
  for (const record of records) packer.add(record);
  return openBatch(packer.take());
}

export function unpackRecords(packed: PackedRecords): PredictionRecord[] {
  const records: PredictionRecord[] = [];
  const { head, body } = packed;
  const failures = failuresOf(packed);
  let at = 0;
  const take = (n: number) => body.slice(at, (at += n));
  for (let r = 0; r < packed.count; r++) {
    const h = r * HEAD_FIELDS;
    const inputNames = packed.names[head[h + HEAD.names] as number]!;
    const rowCount = body[at++] as number;
    const columns = Array.from({ length: body[at++] as number }, () => take(body[at++] as number));
    const outputCount = body[at++] as number;
    const outputs: PredictionOutput[] = [];
    for (let o = 0; o < outputCount; o++) {
      const name = body[at++] as string;
      const type = body[at++] as PredictionOutput['type'];
      const shape = take(body[at++] as number) as number[];
      const data = take(body[at++] as number) as PredictionOutput['data'];
      outputs.push({ name, type, shape, data });
    }
    const record: PredictionRecord = {
      requestId: head[h + HEAD.requestId] as string,
      modelName: head[h + HEAD.modelName] as string,
      modelVersion: head[h + HEAD.modelVersion] as number,
      role: head[h + HEAD.role] as PredictionRole,
      protocol: head[h + HEAD.protocol] as string,
      inputNames,
      rows: { rowCount, columns },
      outputs,
      latencyMs: head[h + HEAD.latencyMs] as number,
      at: head[h + HEAD.at] as number,
    };
    const failure = failures.get(r);
    if (failure) record.failure = failure;
    records.push(record);
  }
  return records;
}

/** One row of a packed batch as the log's writers need it: its record's head at `h`, its features and outputs as JSON. */
type RowVisitor = (head: readonly (string | number)[], h: number, features: string, outputs: string, failure: RequestFailure | undefined) => void;

/**
 * Walks a packed batch row by row, reading straight from the flat arrays (no records, columns
 * or per-row objects rebuilt first, which was most of what the log's worker spent per row).
 * Features and outputs are JSON objects keyed by name in signature order.
 */
function forEachPackedRow(packed: PackedRecords, visit: RowVisitor): void {
  const { head, body } = packed;
  // Each name list's JSON keys (`"hour":`, then `,"weekday":`), made once per batch.
  const keys = packed.names.map((names) => names.map((name, c) => `${c > 0 ? ',' : ''}${JSON.stringify(name)}:`));
  const failures = failuresOf(packed);
  let at = 0;
  for (let r = 0; r < packed.count; r++) {
    const h = r * HEAD_FIELDS;
    const names = keys[head[h + HEAD.names] as number]!;
    const rowCount = body[at++] as number;
    const columnCount = body[at++] as number;
    // Where each column's values start in `body`, and how many each row has.
    const starts: number[] = [];
    const widths: number[] = [];
    for (let c = 0; c < columnCount; c++) {
      const length = body[at++] as number;
      starts.push(at);
      widths.push(rowCount > 0 ? length / rowCount : 0);
      at += length;
    }
    const outputCount = body[at++] as number;
    const outputKeys: string[] = [];
    const outputStarts: number[] = [];
    const outputWidths: number[] = [];
    for (let o = 0; o < outputCount; o++) {
      outputKeys.push(`${o > 0 ? ',' : ''}${JSON.stringify(body[at++])}:`);
      at++; // type
      at += (body[at] as number) + 1; // shape
      const length = body[at++] as number;
      outputStarts.push(at);
      outputWidths.push(rowCount > 0 ? length / rowCount : 0);
      at += length;
    }
    const failure = failures.get(r);
    for (let row = 0; row < rowCount; row++) {
      let features = '{';
      for (let c = 0; c < columnCount; c++) features += names[c]! + valuesJson(body, starts[c]!, widths[c]!, row);
      let outputs = '{';
      for (let o = 0; o < outputCount; o++) outputs += outputKeys[o]! + valuesJson(body, outputStarts[o]!, outputWidths[o]!, row);
      visit(head, h, `${features}}`, `${outputs}}`, failure);
    }
  }
}

/** The log rows of a packed batch: the same rows as `toLogRows(unpackRecords(packed))` (the PostgreSQL sink writes these). */
export function packedLogRows(packed: PackedRecords): PredictionLogRow[] {
  const rows: PredictionLogRow[] = [];
  forEachPackedRow(packed, (head, h, features, outputs, failure) => {
    const logRow: PredictionLogRow = {
      requestId: head[h + HEAD.requestId] as string,
      modelName: head[h + HEAD.modelName] as string,
      modelVersion: head[h + HEAD.modelVersion] as number,
      role: head[h + HEAD.role] as PredictionRole,
      protocol: head[h + HEAD.protocol] as string,
      features,
      outputs,
      latencyMs: head[h + HEAD.latencyMs] as number,
      loggedAt: head[h + HEAD.at] as number,
    };
    // Set after the literal, not spread into it: answered rows (nearly all) keep the plain, fast object shape.
    if (failure) {
      logRow.status = failure.status;
      logRow.errorCode = failure.code;
    }
    rows.push(logRow);
  });
  return rows;
}

/**
 * A packed batch as the Parquet writer's spool lines (NDJSON, one line per row, each ending in
 * a newline): the same text as `spoolLines(packedLogRows(packed))`, but with no row objects
 * and each record's fixed fields encoded once rather than once per row.
 */
export function packedSpoolLines(packed: PackedRecords): { text: string; rows: number } {
  const lines: string[] = [];
  let record = -1;
  let prefix = '';
  let suffix = '';
  forEachPackedRow(packed, (head, h, features, outputs, failure) => {
    if (h !== record) {
      record = h;
      prefix = spoolLinePrefix(head[h + HEAD.requestId] as string, head[h + HEAD.modelName] as string, head[h + HEAD.modelVersion] as number, head[h + HEAD.role] as string, head[h + HEAD.protocol] as string);
      suffix = spoolLineSuffix(head[h + HEAD.latencyMs] as number, head[h + HEAD.at] as number, failure);
    }
    lines.push(`${prefix}${features},"outputs":${outputs}${suffix}`);
  });
  // One join makes one flat string: cheaper to encode for the file than a rope built by appending.
  return { text: lines.join(''), rows: lines.length };
}

/** One row's value of a column as JSON: the value itself when the column has one per row, else the row's array. */
function valuesJson(body: readonly unknown[], start: number, width: number, row: number): string {
  if (width === 1) return json(body[start + row]);
  let text = '[';
  for (let i = start + row * width, end = i + width; i < end; i++) text += `${text.length > 1 ? ',' : ''}${json(body[i])}`;
  return `${text}]`;
}

/** A value as JSON.stringify writes it inside an object (numbers directly: the common case, and the cheap one). */
function json(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? 'null');
}
