/**
 * A finished spool of the prediction log made into its Parquet file and the file's profile:
 * the conversion the Parquet writer (prediction-log-parquet.ts) runs at rotation and at
 * recovery, here or in the converter process (prediction-log-converter.ts). A spool is
 * NDJSON (a row per line), columnar frames (a batch per line, prediction-log-frames.ts) or
 * the worker's packed batches as they arrived (prediction-log-wire-spool.ts), which are first
 * written out as frames (or as NDJSON when their fields cannot be one columnar layout) beside
 * the spool. DuckDB reads the text into the columnar Parquet layout (each feature and output
 * its own column, see `columnarLayout`), under a temporary name renamed when whole, so
 * readers never see half a file; then the profile is written beside it
 * (monitor/log-profile-write.ts).
 *
 * Usage: `const converter = new InlineConverter(); await converter.convert({ kind: 'wire', spool, target }); await converter.close()`
 */
import { open, rename, rm } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../data/duckdb.js';
import { LoomError } from '../core/errors.js';
import { writeLogProfile } from '../monitor/log-profile-write.js';
import { columnarLayout, frameSource, frameSpoolStructure, packedFrame, spoolSource, type FrameFields } from './prediction-log-frames.js';
import { openBatch, packedSpoolLines, type PackedBatch } from './prediction-log-pack.js';
import { wellFormedSpoolText } from './prediction-log-spool.js';
import { packedStructure, SpoolStructure } from './prediction-log-structure.js';
import { wireBatches } from './prediction-log-wire-spool.js';
import { workerError, type WorkerError } from './prediction-log-backends.js';

/** The longest frame spooled, in bytes: DuckDB's default `maximum_object_size` for a JSON line (16 MiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** The STRUCT types of a spool's features and outputs, when the writer tracked them. */
export type Layout = { features: string; outputs: string };

/** What to convert: a spool into `target` (rows and layout known when the writer tracked them), or only a finished file's missing profile. */
export type ConversionJob =
  | { kind: 'ndjson'; spool: string; target: string; rows?: number; columns?: Layout }
  | { kind: 'frames'; spool: string; target: string; rows?: number; fields?: FrameFields; columns?: Layout }
  | { kind: 'wire'; spool: string; target: string }
  | { kind: 'profile'; target: string };

/** The rows written (0: the spool had none, and no file was made), and the failures that lost nothing (a profile not written). */
export interface ConversionResult {
  rows: number;
  problems: WorkerError[];
}

/** Runs conversions, one at a time, in order. */
export interface SpoolConverter {
  convert(job: ConversionJob): Promise<ConversionResult>;
  close(): Promise<void>;
}

/** A relation of the log's rows from a spool: features and outputs typed as `layout` says, or as JSON. */
type SourceOf = (layout?: Layout) => string;

/** Conversions on this thread, with one DuckDB engine (one thread, a memory cap: logging must not compete much with serving). */
export class InlineConverter implements SpoolConverter {
  private engine: Promise<{ instance: DuckDBInstance; db: DuckDBConnection }> | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  convert(job: ConversionJob): Promise<ConversionResult> {
    const result = this.chain.then(() => this.run(job));
    this.chain = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.chain;
    const engine = await this.engine?.catch(() => undefined);
    this.engine = undefined;
    engine?.db.closeSync();
    engine?.instance.closeSync();
  }

  private async run(job: ConversionJob): Promise<ConversionResult> {
    const { db } = await (this.engine ??= DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' }).then(async (instance) => ({ instance, db: await instance.connect() })));
    const problems: WorkerError[] = [];
    if (job.kind === 'profile') {
      await profile(db, job.target, problems);
      return { rows: 0, problems };
    }
    if (job.kind === 'wire') return { rows: await convertWire(db, job.spool, job.target, problems), problems };
    let { rows, columns } = job;
    let sourceOf: SourceOf = (layout) => spoolSource(job.spool, layout);
    if (job.kind === 'frames') {
      let fields = job.fields;
      if (!fields) {
        // A spool left by a crash: its fields, kinds and rows read from its frames.
        const found = await frameSpoolStructure(db, job.spool);
        ({ rows, fields } = found);
        columns = found.structure.columns();
      }
      const known = fields;
      sourceOf = (layout) => frameSource(job.spool, known, layout !== undefined);
    }
    return { rows: await convert(db, sourceOf, job.target, problems, rows, columns), problems };
  }
}

/**
 * A wire spool's batches written out beside it as frames (NDJSON when they cannot share one
 * columnar layout: a field's kinds conflict, a batch's structure is unknown, a frame too long
 * for DuckDB's JSON reader), then converted as such; the text is removed after.
 */
async function convertWire(db: DuckDBConnection, spool: string, target: string, problems: WorkerError[]): Promise<number> {
  const text = `${spool}.text-${process.pid}`;
  try {
    const frames = await writeText(text, wireBatches(spool), true);
    const fields = frames?.structure.fields();
    if (frames && fields) return await convert(db, (layout) => frameSource(text, fields, layout !== undefined), target, problems, frames.rows, frames.structure.columns());
    const lines = (await writeText(text, wireBatches(spool), false))!;
    return await convert(db, (layout) => spoolSource(text, layout), target, problems, lines.rows, lines.structure.columns());
  } finally {
    await rm(text, { force: true });
  }
}

/**
 * Writes batches to `path` as frames (undefined when one cannot be: the caller writes NDJSON
 * instead) or as NDJSON lines; their rows and structure.
 */
async function writeText(path: string, batches: AsyncIterable<PackedBatch>, asFrames: boolean): Promise<{ rows: number; structure: SpoolStructure } | undefined> {
  const file = await open(path, 'w');
  try {
    const structure = new SpoolStructure();
    let rows = 0;
    for await (const batch of batches) {
      // Read and opened one at a time: a batch's values are garbage once its text is written.
      const packed = openBatch(batch);
      const batchStructure = packedStructure(packed);
      let encoded: { text: string; rows: number };
      if (asFrames) {
        if (batchStructure === undefined || !structure.fits(batchStructure)) return undefined;
        encoded = packedFrame(packed, batchStructure);
        // A frame is one line for DuckDB's JSON reader, which fails the whole spool on a line past its `maximum_object_size`.
        // UTF-8 takes at most 3 bytes per UTF-16 unit.
        if (encoded.text.length * 3 > MAX_FRAME_BYTES && Buffer.byteLength(encoded.text) > MAX_FRAME_BYTES) return undefined;
      } else encoded = packedSpoolLines(packed);
      structure.add(batchStructure);
      rows += encoded.rows;
      await file.write(wellFormedSpoolText(encoded.text));
    }
    return { rows, structure };
  } finally {
    await file.close();
  }
}

/**
 * Spool → `<target>.tmp-<pid>` → `<target>`, then its profile; the rows written (a spool with
 * none makes no file). `rows` unknown (a spool left by a crash) means count them first;
 * `known` is the columnar layout when the writer tracked it (else it is found by reading the spool).
 */
async function convert(db: DuckDBConnection, sourceOf: SourceOf, target: string, problems: WorkerError[], rows?: number, known?: Layout): Promise<number> {
  const source = sourceOf();
  rows ??= Number((await db.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${source}`)).getRows()[0]![0]);
  if (rows === 0) return 0;
  const temporary = `${target}.tmp-${process.pid}`;
  const copy = (features: string, outputs: string, from = source) =>
    db.run(`COPY (SELECT request_id, model_name, model_version, role, protocol, ${features} AS features, ${outputs} AS outputs, latency_ms, epoch_ms(logged_at) AS logged_at,
      status, error_code FROM ${from}) TO ${sqlString(temporary)} (FORMAT PARQUET)`);
  try {
    // The layout known: the spool read once, straight into it.
    if (!known) throw new Error('layout not tracked');
    await copy('features', 'outputs', sourceOf(known));
  } catch {
    const columnar = await columnarLayout(db, source);
    try {
      if (!columnar) throw new Error('no columnar layout');
      await copy(columnar.features, columnar.outputs);
    } catch {
      // Keys that differ only in case, a value the batch's structure cannot hold, no keys at
      // all: the rows are kept as JSON text (the reader reads both layouts), never lost.
      await copy('features', 'outputs');
    }
  }
  await rename(temporary, target);
  await profile(db, target, problems);
  return rows;
}

/**
 * Writes the finished file's profile beside it (monitor/log-profile-write.ts), for windows
 * to sum instead of scanning its rows. A file without one is only scanned, so a failure loses
 * nothing: it is a problem to report, and the file stands.
 */
async function profile(db: DuckDBConnection, target: string, problems: WorkerError[]): Promise<void> {
  try {
    await writeLogProfile(db, target);
  } catch (error) {
    problems.push(
      workerError(new LoomError('INTERNAL', `the profile of ${target} could not be written: ${error instanceof Error ? error.message : String(error)}`, { fix: 'nothing to do; windows over this file scan its rows' })),
    );
  }
}
