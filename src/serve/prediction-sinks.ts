/**
 * Prediction log sinks. Embedded: Parquet files written through DuckDB: batches spool to
 * newline-delimited JSON, and DuckDB copies the spool out to
 * `<dir>/predictions-<time>-<pid>-<n>.parquet` when it reaches `rotateRows` or `rotateMs`
 * has passed (and on close); each file is written under a temporary name and renamed, so
 * readers never see half a file.
 * Server backend: the `prediction_log` table on PostgreSQL, one `INSERT ... SELECT FROM
 * unnest(...)` per batch (a round trip per batch, never per row).
 *
 * Usage: `new ParquetPredictionSink(join(projectHome, 'predictions'))`, `new PostgresPredictionSink({ url })`
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { appendFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { sqlString } from '../data/duckdb.js';
import type { PredictionLogRow, PredictionLogSink } from './prediction-log.js';

export interface ParquetSinkOptions {
  /** Rows per file; default 100,000. */
  rotateRows?: number;
  /** Longest a row waits before its file is written, in ms; default 60 s. */
  rotateMs?: number;
}

/** The spool's columns, as DuckDB reads them back. */
const SPOOL_COLUMNS = `{request_id: 'VARCHAR', model_name: 'VARCHAR', model_version: 'INTEGER', role: 'VARCHAR', protocol: 'VARCHAR',
  features: 'JSON', outputs: 'JSON', latency_ms: 'DOUBLE', logged_at: 'BIGINT'}`;

/**
 * Batches are appended to a newline-delimited JSON spool (one write per batch, done by
 * libuv off the event loop); at rotation DuckDB turns the spool into a typed Parquet file
 * on its own thread. So the serving thread pays one JSON line per row and nothing more.
 */
export class ParquetPredictionSink implements PredictionLogSink {
  private buffered = 0;
  private firstAt = 0;
  private files = 0;
  private spool: string | undefined;
  private ready: Promise<void> | undefined;
  private readonly rotateRows: number;
  private readonly rotateMs: number;
  private readonly written: string[] = [];

  constructor(
    readonly dir: string,
    options: ParquetSinkOptions = {},
  ) {
    this.rotateRows = options.rotateRows ?? 100_000;
    this.rotateMs = options.rotateMs ?? 60_000;
  }

  /** The Parquet files written so far. */
  get writtenFiles(): readonly string[] {
    return this.written;
  }

  async write(rows: PredictionLogRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    await this.ready;
    this.spool ??= join(this.dir, `.spool-${process.pid}-${this.files}.ndjson`);
    let text = '';
    for (const row of rows) {
      // features and outputs are JSON already: embedded as they are, not re-encoded.
      text += `{"request_id":${JSON.stringify(row.requestId)},"model_name":${JSON.stringify(row.modelName)},"model_version":${row.modelVersion},"role":"${row.role}","protocol":${JSON.stringify(row.protocol)},"features":${row.features},"outputs":${row.outputs},"latency_ms":${row.latencyMs},"logged_at":${row.loggedAt}}\n`;
    }
    await appendFile(this.spool, text);
    if (this.buffered === 0) this.firstAt = Date.now();
    this.buffered += rows.length;
    if (this.buffered >= this.rotateRows || Date.now() - this.firstAt >= this.rotateMs) await this.rotate();
  }

  /** Turns the spool into a new Parquet file (written under a temporary name, then renamed). */
  async rotate(): Promise<string | undefined> {
    const spool = this.spool;
    if (this.buffered === 0 || !spool) return undefined;
    this.spool = undefined;
    this.buffered = 0;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = join(this.dir, `predictions-${stamp}-${process.pid}-${this.files++}.parquet`);
    // A small engine of its own: one thread and a memory cap, so logging never competes much with serving.
    const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
    const db = await instance.connect();
    try {
      await db.run(`COPY (SELECT request_id, model_name, model_version, role, protocol, features, outputs, latency_ms, epoch_ms(logged_at) AS logged_at
          FROM read_json(${sqlString(spool)}, format = 'newline_delimited', columns = ${SPOOL_COLUMNS}))
        TO ${sqlString(`${path}.tmp`)} (FORMAT PARQUET)`);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
    await rename(`${path}.tmp`, path);
    await rm(spool, { force: true });
    this.written.push(path);
    return path;
  }

  async close(): Promise<void> {
    await this.rotate();
  }
}

export interface PostgresSinkOptions {
  url: string;
  /** Schema holding `prediction_log`; default public. */
  schema?: string;
}

export class PostgresPredictionSink implements PredictionLogSink {
  private readonly pool: pg.Pool;

  constructor(options: PostgresSinkOptions) {
    // One connection: writes are batched, and the log must not crowd the registry's connections.
    this.pool = new pg.Pool({ connectionString: options.url, max: 1, options: `-c search_path=${options.schema ?? 'public'}` });
    this.pool.on('error', () => {});
  }

  async write(rows: PredictionLogRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `INSERT INTO prediction_log (request_id, model_name, model_version, role, protocol, features, outputs, latency_ms, logged_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::float8[], $9::bigint[])`,
      [
        rows.map((r) => r.requestId),
        rows.map((r) => r.modelName),
        rows.map((r) => r.modelVersion),
        rows.map((r) => r.role),
        rows.map((r) => r.protocol),
        rows.map((r) => r.features),
        rows.map((r) => r.outputs),
        rows.map((r) => r.latencyMs),
        rows.map((r) => r.loggedAt),
      ],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
