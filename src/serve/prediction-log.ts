/**
 * The prediction log: every answered request (its features, outputs, model version,
 * role and latency) is pushed onto a bounded in-memory queue; batches of the queue go to
 * a worker thread that writes them to the sink (Parquet files through DuckDB on the
 * embedded backend, a PostgreSQL table on the server backend). The request path pays
 * copying the record's values into the batch's flat arrays (no record is kept); turning them
 * into rows, JSON, DuckDB conversions and PostgreSQL round trips all happen in the worker,
 * off the event loop that serves requests.
 *
 * The queue is bounded in ROWS (a 10,000-row request weighs 10,000), counting rows queued
 * here and rows handed to the worker but not yet written. A record that does not fit is
 * dropped and counted; a failed write drops (and counts) its batch. Logging never blocks
 * or fails a request. A request larger than the whole capacity is logged in parts of at
 * most `batchRows` rows: the parts wait (one such request at a time) and enter the queue
 * as earlier rows are written, so it is logged, not dropped, unless the log is overloaded
 * (no room even for its first part). A worker that crashes is replaced on the next batch, and the new
 * one converts the spool the old one left.
 *
 * A sink with a `spec` runs in the worker (ParquetPredictionSink, PostgresPredictionSink);
 * any other sink is written on this thread.
 *
 * Usage:
 *   const log = new PredictionLog(new ParquetPredictionSink(dir), { onDropped: (n) => metrics.droppedLogRecords(n) });
 *   log.record({ ... }); ... await log.close();
 */
import type { OutputData, PredictionOutput } from './batcher.js';
import type { FeatureRows } from './features.js';
import { inThreadBackend, workerBackend, type LogBackend } from './prediction-log-backends.js';
import { RecordPacker } from './prediction-log-pack.js';

/** Who answered: the version whose answer was returned (primary or canary), or a shadow whose answer was only logged. */
export type PredictionRole = 'primary' | 'canary' | 'shadow';

/** Why a request failed after it was routed to a version: its HTTP status and error code. */
export interface RequestFailure {
  status: number;
  code: string;
}

/**
 * One request as the server saw it; rows are flattened when written, in the worker. A failed
 * request is one row with no features and no outputs, and its `failure`.
 */
export interface PredictionRecord {
  requestId: string;
  modelName: string;
  modelVersion: number;
  role: PredictionRole;
  protocol: string;
  inputNames: readonly string[];
  rows: FeatureRows;
  outputs: readonly PredictionOutput[];
  latencyMs: number;
  /** Epoch milliseconds. */
  at: number;
  /** Set on a failed request only (answered requests carry nothing more). */
  failure?: RequestFailure;
}

/** One row of the log, as stored. `features` and `outputs` are JSON objects keyed by name. */
export interface PredictionLogRow {
  requestId: string;
  modelName: string;
  modelVersion: number;
  role: PredictionRole;
  protocol: string;
  features: string;
  outputs: string;
  latencyMs: number;
  loggedAt: number;
  /** A failed request's HTTP status and error code; absent on answered requests. */
  status?: number;
  errorCode?: string;
}

/** How the log's worker thread builds a sink (plain data: it crosses to the worker). */
export type PredictionSinkSpec =
  | { kind: 'parquet'; dir: string; rotateRows?: number; rotateMs?: number; idleMs?: number }
  | { kind: 'postgres'; url: string; schema?: string };

/** Calls that reach the worker's copy of a sink. */
export interface SinkControl {
  /** Finishes the current Parquet file now (after writing what is queued); its path. */
  rotate(): Promise<string | undefined>;
}

/** Where log rows go; `write` gets batches, `close` flushes anything buffered. */
export interface PredictionLogSink {
  write(rows: PredictionLogRow[]): Promise<void>;
  close(): Promise<void>;
  /** Set: the log runs this sink in its worker thread, built from this spec. */
  readonly spec?: PredictionSinkSpec;
  /** Told, when the sink runs in the worker, how to reach it there. */
  attachWorker?(control: SinkControl): void;
  /** Told of each Parquet file the worker finishes. */
  fileWritten?(path: string): void;
}

export interface PredictionLogOptions {
  /** Most rows waiting to be written (queued here or in the worker); more are dropped. Default 50,000. */
  capacity?: number;
  /** How often the queue goes to the worker, in ms. Default 100. */
  flushIntervalMs?: number;
  /** The queue goes to the worker early once it holds this many rows (small batches keep each hand-off short). Default 2,000. */
  batchRows?: number;
  /** Write a sink that has a spec on this thread instead of a worker. Default false. */
  inThread?: boolean;
  /** Told of rows dropped (queue full, failed write, log closed). */
  onDropped?: (count: number) => void;
  /** Told of rows written. */
  onWritten?: (count: number) => void;
  /** Told about write failures (the rows are dropped and counted). */
  onError?: (error: unknown) => void;
}

export class PredictionLog {
  /** The queue: records packed as they come (no record is kept; see RecordPacker). */
  private readonly queue = new RecordPacker();
  private queuedRows = 0;
  /** Parts of one request larger than the capacity, entering the queue as room frees up. */
  private waiting: PredictionRecord[] = [];
  /** Rows queued here plus rows handed to the backend and not yet written: what `capacity` bounds. */
  private pendingRows = 0;
  private readonly capacity: number;
  private readonly batchRows: number;
  private readonly timer: NodeJS.Timeout;
  private soon: NodeJS.Immediate | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private readonly backend: LogBackend;
  private closing: Promise<void> | undefined;
  /** Rows dropped so far (queue full, failed writes, or recorded after close). */
  dropped = 0;
  /** Rows written so far. */
  written = 0;

  constructor(
    sink: PredictionLogSink,
    private readonly options: PredictionLogOptions = {},
  ) {
    this.capacity = options.capacity ?? 50_000;
    this.batchRows = options.batchRows ?? 2_000;
    const report = (error: unknown) => options.onError?.(error);
    this.backend = sink.spec && !options.inThread ? workerBackend(sink.spec, { onFile: (path) => sink.fileWritten?.(path), onError: report, recycle: (buffers) => this.queue.recycle(buffers) }) : inThreadBackend(sink);
    if (sink.spec && !options.inThread) sink.attachWorker?.({ rotate: async () => (await this.flush(), this.backend.rotate()) });
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 100);
    this.timer.unref();
  }

  /** Queues a record; drops (and counts) its rows when they do not fit. Never throws, never waits. */
  record(record: PredictionRecord): void {
    const rows = record.rows.rowCount;
    const part = Math.min(this.batchRows, this.capacity);
    if (!this.closing && rows > this.capacity && this.waiting.length === 0 && this.pendingRows + part <= this.capacity) {
      // It could never fit whole: its parts wait for room (the request's rows are in memory
      // already). Under overload (no room for even its first part) it is dropped like any record.
      this.waiting = splitRecord(record, part);
      this.admitWaiting();
      return;
    }
    if (this.closing || this.pendingRows + rows > this.capacity) {
      this.drop(rows);
      return;
    }
    this.enqueue(record);
  }

  private enqueue(record: PredictionRecord): void {
    const rows = record.rows.rowCount;
    this.queue.add(record);
    this.queuedRows += rows;
    this.pendingRows += rows;
    if (this.queuedRows >= this.batchRows && !this.soon) {
      this.soon = setImmediate(() => void this.flush());
    }
  }

  /** Moves waiting parts into the queue while they fit, and hands them on soon. */
  private admitWaiting(): void {
    let admitted = false;
    while (this.waiting.length > 0 && this.pendingRows + this.waiting[0]!.rows.rowCount <= this.capacity) {
      this.enqueue(this.waiting.shift()!);
      admitted = true;
    }
    if (admitted && !this.soon) this.soon = setImmediate(() => void this.flush());
  }

  /** Hands what is queued to the writer; resolves when everything handed over so far is written (or dropped). */
  flush(): Promise<void> {
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    if (this.queue.count > 0) {
      const batch = this.queue.take();
      const rows = this.queuedRows;
      this.queuedRows = 0;
      const done: Promise<void> = this.backend.write(batch).then(
        (written) => {
          this.written += written;
          this.options.onWritten?.(written);
        },
        (error: unknown) => {
          this.drop(rows);
          this.options.onError?.(error);
        },
      );
      const tracked = done.finally(() => {
        this.pendingRows -= rows;
        this.inflight.delete(tracked);
        this.admitWaiting();
      });
      this.inflight.add(tracked);
    }
    return Promise.all(this.inflight).then(() => undefined);
  }

  /** Stops taking records, writes the rest, finishes the last file and stops the worker. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.timer);
      // Parts of a large request still waiting enter the queue as each write frees room.
      do {
        this.admitWaiting();
        await this.flush();
      } while (this.queue.count > 0 || this.waiting.length > 0);
      try {
        await this.backend.close();
      } catch (error) {
        this.options.onError?.(error);
      }
    })());
  }

  private drop(rows: number): void {
    if (rows <= 0) return;
    this.dropped += rows;
    this.options.onDropped?.(rows);
  }
}

/** A record cut into records of at most `size` rows each, in row order (same request id). */
export function splitRecord(record: PredictionRecord, size: number): PredictionRecord[] {
  const { rowCount, columns } = record.rows;
  const parts: PredictionRecord[] = [];
  for (let start = 0; start < rowCount; start += size) {
    const end = Math.min(rowCount, start + size);
    const cut = <T extends { slice(from: number, to: number): T }>(values: T, perRow: number) => values.slice(start * perRow, end * perRow);
    parts.push({
      ...record,
      rows: { rowCount: end - start, columns: columns.map((column) => cut(column, column.length / rowCount)) },
      outputs: record.outputs.map((output) => ({
        ...output,
        shape: [end - start, ...output.shape.slice(1)],
        data: cut(output.data as unknown[], output.data.length / rowCount) as OutputData,
      })),
    });
  }
  return parts;
}

/** One log row per request row: features and outputs as JSON objects keyed by name. */
export function toLogRows(records: readonly PredictionRecord[]): PredictionLogRow[] {
  const rows: PredictionLogRow[] = [];
  for (const record of records) {
    const { rowCount, columns } = record.rows;
    for (let row = 0; row < rowCount; row++) {
      const features: Record<string, unknown> = {};
      record.inputNames.forEach((name, i) => {
        const column = columns[i]!;
        const perRow = column.length / rowCount;
        features[name] = perRow === 1 ? column[row] : column.slice(row * perRow, (row + 1) * perRow);
      });
      const outputs: Record<string, unknown> = {};
      for (const output of record.outputs) {
        const perRow = output.data.length / rowCount;
        outputs[output.name] = perRow === 1 ? output.data[row] : output.data.slice(row * perRow, (row + 1) * perRow);
      }
      const logRow: PredictionLogRow = {
        requestId: record.requestId,
        modelName: record.modelName,
        modelVersion: record.modelVersion,
        role: record.role,
        protocol: record.protocol,
        features: JSON.stringify(features),
        outputs: JSON.stringify(outputs),
        latencyMs: record.latencyMs,
        loggedAt: record.at,
      };
      if (record.failure) {
        logRow.status = record.failure.status;
        logRow.errorCode = record.failure.code;
      }
      rows.push(logRow);
    }
  }
  return rows;
}
