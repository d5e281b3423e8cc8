/**
 * Prediction log sinks. Both run in the prediction log's worker thread (built there from
 * their `spec`), so none of their work lands on the serving thread.
 * Embedded: Parquet files under a directory, spooled and converted by DuckDB
 * (prediction-log-parquet.ts): `<dir>/predictions-<time>-<pid>-<token>-<n>.parquet`,
 * finished at `rotateRows` rows, after `rotateMs`, after `idleMs` without a row, and on close.
 * Server backend: the `prediction_log` table on PostgreSQL, one `INSERT ... SELECT FROM
 * unnest(...)` per batch (a round trip per batch, never per row).
 *
 * Usage: `new ParquetPredictionSink(join(projectHome, 'predictions'))`, `new PostgresPredictionSink({ url })`
 */
import pg from 'pg';
import { ParquetSpoolWriter, type ParquetSpoolOptions } from './prediction-log-parquet.js';
import type { PredictionLogRow, PredictionLogSink, PredictionSinkSpec, SinkControl } from './prediction-log.js';
import { wellFormedJson } from './prediction-log-spool.js';

export type ParquetSinkOptions = Pick<ParquetSpoolOptions, 'rotateRows' | 'rotateMs' | 'idleMs'>;

/**
 * Parquet files in `dir`. Given to a PredictionLog it is written by the log's worker;
 * `rotate()` then finishes the worker's current file. Used on its own (`write`), it
 * writes on the calling thread.
 */
export class ParquetPredictionSink implements PredictionLogSink {
  readonly spec: PredictionSinkSpec;
  private control: SinkControl | undefined;
  private local: ParquetSpoolWriter | undefined;
  private readonly written: string[] = [];

  constructor(
    readonly dir: string,
    private readonly options: ParquetSinkOptions = {},
  ) {
    this.spec = { kind: 'parquet', dir, ...options };
  }

  /** The Parquet files written so far. */
  get writtenFiles(): readonly string[] {
    return this.written;
  }

  attachWorker(control: SinkControl): void {
    this.control = control;
  }

  fileWritten(path: string): void {
    this.written.push(path);
  }

  write(rows: PredictionLogRow[]): Promise<void> {
    return this.writer().write(rows);
  }

  /** Finishes the current file now (after what the log has queued); its path, or undefined when there was nothing to write. */
  rotate(): Promise<string | undefined> {
    return this.control ? this.control.rotate() : this.writer().rotate();
  }

  async close(): Promise<void> {
    await this.local?.close();
  }

  private writer(): ParquetSpoolWriter {
    return (this.local ??= new ParquetSpoolWriter(this.dir, { ...this.options, onFile: (path) => this.fileWritten(path) }));
  }
}

export interface PostgresSinkOptions {
  url: string;
  /** Schema holding `prediction_log`; default public. */
  schema?: string;
}

/** The `prediction_log` table; given to a PredictionLog it is written by the log's worker. */
export class PostgresPredictionSink implements PredictionLogSink {
  readonly spec: PredictionSinkSpec;
  private readonly pool: pg.Pool;

  constructor(options: PostgresSinkOptions) {
    this.spec = { kind: 'postgres', url: options.url, ...(options.schema !== undefined && { schema: options.schema }) };
    // One connection: writes are batched, and the log must not crowd the registry's connections.
    this.pool = new pg.Pool({ connectionString: options.url, max: 1, options: `-c search_path=${options.schema ?? 'public'}` });
    this.pool.on('error', () => {});
  }

  async write(rows: PredictionLogRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `INSERT INTO prediction_log (request_id, model_name, model_version, role, protocol, features, outputs, latency_ms, logged_at, status, error_code)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::float8[], $9::bigint[], $10::int[], $11::text[])`,
      [
        rows.map((r) => r.requestId),
        rows.map((r) => r.modelName),
        rows.map((r) => r.modelVersion),
        rows.map((r) => r.role),
        rows.map((r) => r.protocol),
        // As JSON text jsonb accepts: one request's lone surrogate or NUL must not fail its whole batch.
        rows.map((r) => wellFormedJson(r.features)),
        rows.map((r) => wellFormedJson(r.outputs)),
        rows.map((r) => r.latencyMs),
        rows.map((r) => r.loggedAt),
        rows.map((r) => r.status ?? null),
        rows.map((r) => r.errorCode ?? null),
      ],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
