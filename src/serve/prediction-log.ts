/**
 * The prediction log: every answered request (its features, outputs, model version,
 * role and latency) goes into a bounded in-memory queue, and a background flush writes
 * the queue to a sink in batches (Parquet files through DuckDB on the embedded backend,
 * a PostgreSQL table on the server backend). Recording is a push onto an array: it
 * never blocks or fails a request. When the queue is full the record is dropped and
 * counted, and a failed write drops (and counts) its batch rather than retrying forever.
 *
 * Usage:
 *   const log = new PredictionLog(new ParquetPredictionSink(dir), { onDropped: (n) => metrics.droppedLogRecords(n) });
 *   log.record({ ... }); ... await log.close();
 */
import type { PredictionOutput } from './batcher.js';
import type { FeatureRows } from './features.js';

/** Who answered: the version whose answer was returned (primary or canary), or a shadow whose answer was only logged. */
export type PredictionRole = 'primary' | 'canary' | 'shadow';

/** One request as the server saw it; rows are flattened when written, off the request path. */
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
}

/** Where log rows go; `write` gets batches, `close` flushes anything buffered. */
export interface PredictionLogSink {
  write(rows: PredictionLogRow[]): Promise<void>;
  close(): Promise<void>;
}

export interface PredictionLogOptions {
  /** Most requests waiting to be written; more are dropped. Default 50,000. */
  capacity?: number;
  /** How often the queue is written, in ms. Default 250. */
  flushIntervalMs?: number;
  onDropped?: (count: number) => void;
  onWritten?: (count: number) => void;
  /** Told about write failures (the records are dropped and counted). */
  onError?: (error: unknown) => void;
}

export class PredictionLog {
  private queue: PredictionRecord[] = [];
  private readonly capacity: number;
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> | undefined;
  private closed = false;
  /** Records dropped so far (queue full or failed writes). */
  dropped = 0;
  written = 0;

  constructor(
    private readonly sink: PredictionLogSink,
    private readonly options: PredictionLogOptions = {},
  ) {
    this.capacity = options.capacity ?? 50_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  /** Queues a record; drops (and counts) it when the queue is full. Never throws. */
  record(record: PredictionRecord): void {
    if (this.closed || this.queue.length >= this.capacity) {
      this.dropped++;
      this.options.onDropped?.(1);
      return;
    }
    this.queue.push(record);
  }

  /** Writes what is queued now; one write at a time, later records wait for the next flush. */
  flush(): Promise<void> {
    if (this.writing || this.queue.length === 0) return this.writing ?? Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.writing = (async () => {
      let rows: PredictionLogRow[] = [];
      try {
        rows = toLogRows(batch);
        await this.sink.write(rows);
        this.written += rows.length;
        this.options.onWritten?.(rows.length);
      } catch (error) {
        this.dropped += batch.length;
        this.options.onDropped?.(batch.length);
        this.options.onError?.(error);
      } finally {
        this.writing = undefined;
      }
    })();
    return this.writing;
  }

  /** Stops taking records, writes the rest and closes the sink. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.writing;
    await this.flush();
    await this.sink.close();
  }
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
      rows.push({
        requestId: record.requestId,
        modelName: record.modelName,
        modelVersion: record.modelVersion,
        role: record.role,
        protocol: record.protocol,
        features: JSON.stringify(features),
        outputs: JSON.stringify(outputs),
        latencyMs: record.latencyMs,
        loggedAt: record.at,
      });
    }
  }
  return rows;
}
