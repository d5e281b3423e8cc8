/**
 * The layout of a packed batch of prediction log records (`PackedRecords`), and its one
 * walker. `head` holds eight fields per record (`HEAD`); `body` holds, record after record,
 * the row count, the column count, each column as its length then its values, the output
 * count, and each output as its name, type, shape (length, then dimensions) and data (length,
 * then values). Everything that reads a batch (rebuilding the records, the NDJSON lines and
 * log rows, the columnar frames, the batch's structure) reads it through `forEachPackedRecord`,
 * so the layout is read in one place.
 *
 * Usage: `forEachPackedRecord(packed, (record) => { body.slice(record.columnStarts[0], …) })`
 */
import type { RequestFailure } from './prediction-log.js';

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

/** Where each of a record's fields sits in its eight entries of `PackedRecords.head` (read by number nowhere else). */
export const HEAD = { requestId: 0, modelName: 1, modelVersion: 2, role: 3, protocol: 4, names: 5, latencyMs: 6, at: 7 } as const;
/** Entries per record in `PackedRecords.head`. */
export const HEAD_FIELDS = 8;

/** A packed batch's failures by record index. */
export function failuresOf(packed: PackedRecords): Map<number, RequestFailure> {
  const byIndex = new Map<number, RequestFailure>();
  for (let i = 0; i < packed.failures.length; i += 3) byIndex.set(packed.failures[i] as number, { status: packed.failures[i + 1] as number, code: packed.failures[i + 2] as string });
  return byIndex;
}

/**
 * Where one record's parts sit in its batch. One view serves a whole walk, refilled for each
 * record (no objects per record): read it during the visit only. The lists hold `columnCount`
 * and `outputCount` valid entries; entries past them are left from earlier records.
 */
export interface PackedRecordView {
  /** The record's index in the batch. */
  index: number;
  /** Where its fields start in `PackedRecords.head` (read with `HEAD`). */
  h: number;
  /** Its input names' index in `PackedRecords.names`. */
  namesIndex: number;
  rowCount: number;
  columnCount: number;
  /** Each column's first value in `body`, and its number of values (`rowCount` × values per row). */
  columnStarts: number[];
  columnLengths: number[];
  outputCount: number;
  outputNames: string[];
  outputTypes: string[];
  /** Each output's shape: its first dimension in `body`, and its number of dimensions. */
  shapeStarts: number[];
  shapeLengths: number[];
  /** Each output's first value in `body`, and its number of values. */
  outputStarts: number[];
  outputLengths: number[];
  failure: RequestFailure | undefined;
}

/** Visits each record of a batch in order; a visit that returns false ends the walk. */
export function forEachPackedRecord(packed: PackedRecords, visit: (record: PackedRecordView) => boolean | void): void {
  const { head, body } = packed;
  const failures = packed.failures.length > 0 ? failuresOf(packed) : undefined;
  const view: PackedRecordView = {
    index: 0,
    h: 0,
    namesIndex: 0,
    rowCount: 0,
    columnCount: 0,
    columnStarts: [],
    columnLengths: [],
    outputCount: 0,
    outputNames: [],
    outputTypes: [],
    shapeStarts: [],
    shapeLengths: [],
    outputStarts: [],
    outputLengths: [],
    failure: undefined,
  };
  let at = 0;
  for (let r = 0; r < packed.count; r++) {
    view.index = r;
    view.h = r * HEAD_FIELDS;
    view.namesIndex = head[view.h + HEAD.names] as number;
    view.rowCount = body[at++] as number;
    const columnCount = (view.columnCount = body[at++] as number);
    for (let c = 0; c < columnCount; c++) {
      const length = body[at++] as number;
      view.columnStarts[c] = at;
      view.columnLengths[c] = length;
      at += length;
    }
    const outputCount = (view.outputCount = body[at++] as number);
    for (let o = 0; o < outputCount; o++) {
      view.outputNames[o] = body[at++] as string;
      view.outputTypes[o] = body[at++] as string;
      const dimensions = body[at++] as number;
      view.shapeStarts[o] = at;
      view.shapeLengths[o] = dimensions;
      at += dimensions;
      const length = body[at++] as number;
      view.outputStarts[o] = at;
      view.outputLengths[o] = length;
      at += length;
    }
    view.failure = failures?.get(r);
    if (visit(view) === false) return;
  }
}
