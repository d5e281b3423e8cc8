/**
 * The layout of a packed batch of prediction log records (`PackedRecords`), and its one
 * walker. `head` holds eight fields per record (`HEAD`); `body` holds, record after record,
 * the row count, the column count, each column as its length then its values, the output
 * count, and each output as its name, type, shape (length, then dimensions) and data (length,
 * then values). Everything that reads a batch (rebuilding the records, the NDJSON lines and
 * log rows, the columnar frames, the batch's structure) reads it through `PackedRecordCursor`,
 * so the layout is read in one place.
 *
 * Usage: `for (const record = new PackedRecordCursor(packed); record.next(); ) body.slice(record.columnStarts[0], …)`
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
  /**
   * True when no string of the batch (values, names, error codes) holds a surrogate or a NUL:
   * its JSON text needs no `wellFormedJson` (prediction-log-spool.ts), which is then skipped.
   * Absent: not known, the text is checked.
   */
  plainText?: boolean;
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
 * A walk over a batch's records, in order: each `next()` moves to the next record (false after
 * the last) and sets where its parts sit in the batch. Fields only, refilled for each record
 * (no objects per record); the lists hold `columnCount` and `outputCount` valid entries, those
 * past them are left from earlier records. A cursor rather than a callback: each reader loops
 * itself, so no call site is shared by all readers (a callback shared by several was called
 * megamorphically and cost the readers up to 3× in a measurement).
 */
export class PackedRecordCursor {
  /** The record's index in the batch (-1 before the first `next()`). */
  index = -1;
  /** Where its fields start in `PackedRecords.head` (read with `HEAD`). */
  h = 0;
  /** Its input names' index in `PackedRecords.names`. */
  namesIndex = 0;
  rowCount = 0;
  columnCount = 0;
  /** Each column's first value in `body`, and its number of values (`rowCount` × values per row). */
  readonly columnStarts: number[] = [];
  readonly columnLengths: number[] = [];
  outputCount = 0;
  readonly outputNames: string[] = [];
  readonly outputTypes: string[] = [];
  /** Each output's shape: its first dimension in `body`, and its number of dimensions. */
  readonly shapeStarts: number[] = [];
  readonly shapeLengths: number[] = [];
  /** Each output's first value in `body`, and its number of values. */
  readonly outputStarts: number[] = [];
  readonly outputLengths: number[] = [];
  failure: RequestFailure | undefined;
  /** Where the next record starts in `body`. */
  private at = 0;
  private readonly failures: Map<number, RequestFailure> | undefined;

  constructor(private readonly packed: PackedRecords) {
    this.failures = packed.failures.length > 0 ? failuresOf(packed) : undefined;
  }

  next(): boolean {
    const { packed } = this;
    if (this.index + 1 >= packed.count) return false;
    const body = packed.body;
    const r = ++this.index;
    this.h = r * HEAD_FIELDS;
    this.namesIndex = packed.head[this.h + HEAD.names] as number;
    let at = this.at;
    this.rowCount = body[at++] as number;
    const columnCount = (this.columnCount = body[at++] as number);
    for (let c = 0; c < columnCount; c++) {
      const length = body[at++] as number;
      this.columnStarts[c] = at;
      this.columnLengths[c] = length;
      at += length;
    }
    const outputCount = (this.outputCount = body[at++] as number);
    for (let o = 0; o < outputCount; o++) {
      this.outputNames[o] = body[at++] as string;
      this.outputTypes[o] = body[at++] as string;
      const dimensions = body[at++] as number;
      this.shapeStarts[o] = at;
      this.shapeLengths[o] = dimensions;
      at += dimensions;
      const length = body[at++] as number;
      this.outputStarts[o] = at;
      this.outputLengths[o] = length;
      at += length;
    }
    this.at = at;
    this.failure = this.failures?.get(r);
    return true;
  }
}
