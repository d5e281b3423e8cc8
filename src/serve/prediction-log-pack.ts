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
import { plainText, plainWireText, readValues, ValueWriter, wireBuffers, type WireValues } from './prediction-log-wire.js';
import { HEAD, HEAD_FIELDS, PackedRecordCursor, type PackedRecords } from './prediction-log-layout.js';

export type { PackedRecords } from './prediction-log-layout.js';

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
    head.putShared(record.modelName);
    head.put(record.modelVersion);
    head.putShared(record.role);
    head.putShared(record.protocol);
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
      body.putShared(name);
      body.putShared(type);
      body.put(shape.length);
      for (let i = 0; i < shape.length; i++) body.put(shape[i]);
      body.put(data.length);
      for (let i = 0; i < data.length; i++) body.put(data[i]);
    }
    this.count++;
  }

  /** Takes back a batch's buffers (`batchBuffers`, as its reader returned them) for later batches to reuse. */
  recycle(buffers: readonly ArrayBuffer[]): void {
    this.head.recycle(buffers.slice(0, 3));
    this.body.recycle(buffers.slice(3, 6));
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

/** The buffers to move with a message carrying `batch` (postMessage's transfer list); `RecordPacker.recycle` takes them back in this order. */
export function batchBuffers(batch: PackedBatch): ArrayBuffer[] {
  return [...wireBuffers(batch.head), ...wireBuffers(batch.body)];
}

/** A batch as it arrived (typed arrays) as the arrays of values the log's writers read. */
export function openBatch(batch: PackedBatch): PackedRecords {
  const plain =
    plainWireText(batch.head) && plainWireText(batch.body) && batch.names.every((names) => names.every(plainText)) && batch.failures.every((value) => typeof value === 'number' || plainText(value));
  return { count: batch.count, names: batch.names, head: readValues(batch.head) as (string | number)[], body: readValues(batch.body), failures: batch.failures, plainText: plain };
}

/** Records packed as one batch (what `RecordPacker` builds as they come), opened. */
export function packRecords(records: readonly PredictionRecord[]): PackedRecords {
  const packer = new RecordPacker();
  for (const record of records) packer.add(record);
  return openBatch(packer.take());
}

/** The records of a packed batch, rebuilt (their arrays copied out of the batch). */
export function unpackRecords(packed: PackedRecords): PredictionRecord[] {
  const records: PredictionRecord[] = [];
  const { head, body } = packed;
  for (const view = new PackedRecordCursor(packed); view.next(); ) {
    const { h, columnStarts, columnLengths, shapeStarts, shapeLengths, outputStarts, outputLengths } = view;
    const columns: unknown[][] = [];
    for (let c = 0; c < view.columnCount; c++) columns.push(body.slice(columnStarts[c], columnStarts[c]! + columnLengths[c]!));
    const outputs: PredictionOutput[] = [];
    for (let o = 0; o < view.outputCount; o++) {
      outputs.push({
        name: view.outputNames[o]!,
        type: view.outputTypes[o] as PredictionOutput['type'],
        shape: body.slice(shapeStarts[o], shapeStarts[o]! + shapeLengths[o]!) as number[],
        data: body.slice(outputStarts[o], outputStarts[o]! + outputLengths[o]!) as PredictionOutput['data'],
      });
    }
    const record: PredictionRecord = {
      requestId: head[h + HEAD.requestId] as string,
      modelName: head[h + HEAD.modelName] as string,
      modelVersion: head[h + HEAD.modelVersion] as number,
      role: head[h + HEAD.role] as PredictionRole,
      protocol: head[h + HEAD.protocol] as string,
      inputNames: packed.names[view.namesIndex]!,
      rows: { rowCount: view.rowCount, columns },
      outputs,
      latencyMs: head[h + HEAD.latencyMs] as number,
      at: head[h + HEAD.at] as number,
    };
    if (view.failure) record.failure = view.failure;
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
  // How many values each row has, per column and per output of the record being walked.
  const widths: number[] = [];
  const outputWidths: number[] = [];
  const outputKeys: string[] = [];
  for (const view = new PackedRecordCursor(packed); view.next(); ) {
    const { h, rowCount, columnCount, outputCount, columnStarts, outputStarts } = view;
    const names = keys[view.namesIndex]!;
    for (let c = 0; c < columnCount; c++) widths[c] = rowCount > 0 ? view.columnLengths[c]! / rowCount : 0;
    for (let o = 0; o < outputCount; o++) {
      outputKeys[o] = `${o > 0 ? ',' : ''}${JSON.stringify(view.outputNames[o])}:`;
      outputWidths[o] = rowCount > 0 ? view.outputLengths[o]! / rowCount : 0;
    }
    for (let row = 0; row < rowCount; row++) {
      let features = '{';
      for (let c = 0; c < columnCount; c++) features += names[c]! + valuesJson(body, columnStarts[c]!, widths[c]!, row);
      let outputs = '{';
      for (let o = 0; o < outputCount; o++) outputs += outputKeys[o]! + valuesJson(body, outputStarts[o]!, outputWidths[o]!, row);
      visit(head, h, `${features}}`, `${outputs}}`, view.failure);
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
