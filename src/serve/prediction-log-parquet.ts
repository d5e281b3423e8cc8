/**
 * The embedded prediction log's file writer (it runs in the log's worker thread, see
 * prediction-log-worker-main.ts): packed batches are appended to a spool as columnar frames
 * (prediction-log-frames.ts), rows and batches frames cannot hold as newline-delimited JSON
 * (lines as prediction-log-spool.ts writes them), and
 * DuckDB turns the spool into a typed, columnar Parquet file (each feature and output its own
 * column, see `columnarLayout`; JSON text when a batch's keys cannot be columns) when it
 * holds `rotateRows` rows, when its first row is `rotateMs` old, when no row has come for
 * `idleMs` (so monitoring sees recent predictions even after traffic stops), and on close. A file is written under a
 * temporary name and renamed, so readers never see half a file (`predictions/*.parquet`
 * matches finished files only).
 *
 * The spool is named after the Parquet file it becomes
 * (`.spool-<pid>-<token>-<n>-<stamp>.frames` or `.ndjson` → `predictions-<stamp>-<pid>-<token>-<n>.parquet`),
 * so a spool left by a process that died (or a worker thread that crashed) is converted by
 * the next writer that starts in the directory, exactly once.
 *
 * Beside each finished file, its profile (`….profile`, monitor/log-profile-write.ts): the
 * file's value counts per field, which monitoring windows sum instead of scanning the rows;
 * written after the file (a crash between the two leaves a file without one: recovery writes
 * it, and until then windows scan that file; a profile that fails is tried again after later
 * files', prediction-log-profiles.ts).
 *
 * Usage: `const writer = new ParquetSpoolWriter(dir, { idleMs: 5000 }); await writer.recover(); await writer.write(rows); await writer.close();`
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../data/duckdb.js';
import type { PredictionLogRow } from './prediction-log.js';
import { LoomError } from '../core/errors.js';
import { packedStructure, SpoolStructure, type BatchStructure } from './prediction-log-structure.js';
import { endOfLastLine, exists, processAlive, spoolLines, wellFormedSpoolText } from './prediction-log-spool.js';
import { packedSpoolLines, type PackedRecords } from './prediction-log-pack.js';
import { profilePath } from '../monitor/log-profile-write.js';
import { LogFileProfiles } from './prediction-log-profiles.js';
import { columnarLayout, frameSource, frameSpoolStructure, packedFrame, spoolSource } from './prediction-log-frames.js';

export interface ParquetSpoolOptions {
  /** Rows per file; default 100,000. */
  rotateRows?: number;
  /** Longest a row waits before its file is written, in ms; default 60 s. */
  rotateMs?: number;
  /** A file is finished when no row has come for this long, in ms; default 5 s. */
  idleMs?: number;
  /** Names this writer's spools; a fresh random one by default. */
  token?: string;
  /** Told about each finished file. */
  onFile?: (path: string, rows: number) => void;
  /**
   * Told about failures of rotations no caller waits for (timers, rotations by size). Without
   * it, the first such failure is kept and `close()` rejects with it: the rows stay in their
   * spool (a later `recover()` converts it), but the caller must not believe them written.
   */
  onError?: (error: unknown) => void;
}

/** A spool's name: `ndjson` holds a JSON object per row, `frames` a batch per line (prediction-log-frames.ts). */
const SPOOL_NAME = /^\.spool-(\d+)-([a-z0-9]+)-(\d+)-([0-9TZ]+)\.(ndjson|frames)(?:\.recovering-(\d+))?$/;

type SpoolKind = 'ndjson' | 'frames';

/** The longest frame spooled, in bytes: DuckDB's default `maximum_object_size` for a JSON line (16 MiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Why a write queued after `close()` is refused: it would open a spool (and later an engine)
 * that nothing converts or closes. The log counts its rows as dropped.
 */
function closedError(): LoomError {
  return new LoomError('FAILED_PRECONDITION', 'the prediction log writer is closed: rows written after close() are dropped', {
    fix: 'write before close(); a log that keeps serving needs a writer that is not closed',
  });
}

/** A relation of the log's rows from a spool: features and outputs typed as `layout` says, or as JSON. */
type SourceOf = (layout?: { features: string; outputs: string }) => string;

export class ParquetSpoolWriter {
  private readonly rotateRows: number;
  private readonly rotateMs: number;
  private readonly idleMs: number;
  readonly token: string;
  /** The spool being written; `bytes` its length after the last append that went through. */
  private spool: { kind: SpoolKind; path: string; target: string; rows: number; bytes: number; firstAt: number; structure: SpoolStructure } | undefined;
  private files = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private conversions: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private ready: Promise<unknown> | undefined;
  private engine: Promise<{ instance: DuckDBInstance; db: DuckDBConnection }> | undefined;
  private closed = false;
  /** A background rotation's failure no `onError` was told of; `close()` rejects with it. */
  private unreported: unknown;
  /** The profiles beside the finished files (a failed one is tried again after later files). */
  private readonly profiles: LogFileProfiles;

  constructor(
    readonly dir: string,
    private readonly options: ParquetSpoolOptions = {},
  ) {
    this.rotateRows = options.rotateRows ?? 100_000;
    this.rotateMs = options.rotateMs ?? 60_000;
    this.idleMs = options.idleMs ?? 5_000;
    this.token = options.token ?? randomBytes(4).toString('hex');
    this.profiles = new LogFileProfiles(options.onError);
  }

  /**
   * Appends rows to the spool; finishes the file when it is full or old. `structure` is the
   * rows' columnar layout when the caller knows it (the log's worker: prediction-log-structure.ts);
   * a spool whose every batch came with one is converted without reading it twice.
   */
  write(rows: readonly PredictionLogRow[], structure?: BatchStructure): Promise<void> {
    return this.writeLines(rows.length === 0 ? '' : spoolLines(rows), rows.length, structure);
  }

  /**
   * Appends `rows` rows already encoded as spool lines (prediction-log-spool.ts; the log's
   * worker encodes its packed batches straight to them), as `write` does.
   */
  writeLines(text: string, rows: number, structure?: BatchStructure): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return this.serial(() => this.append('ndjson', text, rows, structure));
  }

  /**
   * Appends a packed batch (the log's worker): as one columnar frame when its structure is
   * known and fits the current spool's (prediction-log-frames.ts), else as NDJSON lines. A
   * batch that cannot go in the current spool's form finishes that spool first; an NDJSON
   * spool stays NDJSON until it is finished, so mixed traffic does not make a file per batch.
   * That holds for a batch whose fields conflict with the current frame spool's too (a field
   * sent as a number, then as text; names equal but for case): it starts an NDJSON spool,
   * which takes both kinds, rather than a frame spool of its own, which the next batch of the
   * first kind would finish again. Resolves with the rows written.
   */
  writePacked(packed: PackedRecords): Promise<number> {
    if (this.closed) return Promise.reject(closedError());
    return this.serial(async () => {
      const structure = packedStructure(packed);
      const fits = this.spool ? this.spool.structure : new SpoolStructure();
      // A spool of the other kind (or a frame spool this batch conflicts with) is finished by `append`.
      let frame = structure !== undefined && this.spool?.kind !== 'ndjson' && fits.fits(structure) ? packedFrame(packed, structure) : undefined;
      // A frame is one line for DuckDB's JSON reader, which fails the whole spool on a line past its `maximum_object_size`:
      // a batch that large (a bulk request) is spooled as NDJSON, a line per row. UTF-8 takes at most 3 bytes per UTF-16 unit.
      if (frame && frame.text.length * 3 > MAX_FRAME_BYTES && Buffer.byteLength(frame.text) > MAX_FRAME_BYTES) frame = undefined;
      const { text, rows } = frame ?? packedSpoolLines(packed);
      await this.append(frame ? 'frames' : 'ndjson', text, rows, structure, packed.plainText === true);
      return rows;
    });
  }

  /**
   * Appends encoded rows to the current spool of that kind, starting one when there is none.
   * `plain`: the text was made from strings without surrogates or NULs (`PackedRecords.plainText`), so it is not searched for escapes to rewrite.
   */
  private async append(kind: SpoolKind, text: string, rows: number, structure: BatchStructure, plain = false): Promise<void> {
    if (rows === 0) return;
    if (this.spool && this.spool.kind !== kind) this.finishInBackground();
    await (this.ready ??= mkdir(this.dir, { recursive: true }));
    if (!this.spool) {
      const stamp = new Date().toISOString().replace(/[-:.]/g, '');
      const n = this.files++;
      this.spool = {
        kind,
        path: join(this.dir, `.spool-${process.pid}-${this.token}-${n}-${stamp}.${kind}`),
        target: join(this.dir, `predictions-${stamp}-${process.pid}-${this.token}-${n}.parquet`),
        rows: 0,
        bytes: 0,
        firstAt: Date.now(),
        structure: new SpoolStructure(),
      };
      if (!this.closed) this.ageTimer = setTimeout(() => this.rotateInBackground(), Math.max(0, this.rotateMs)).unref();
    }
    const spool = this.spool;
    // Encoded here (appendFile would do it anyway) to know the bytes a failed append must take back.
    const data = Buffer.from(plain ? text : wellFormedSpoolText(text));
    try {
      await appendFile(spool.path, data);
    } catch (error) {
      await this.takeBack(spool);
      throw error;
    }
    spool.bytes += data.length;
    spool.rows += rows;
    spool.structure.add(structure);
    if (spool.rows >= this.rotateRows || Date.now() - spool.firstAt >= this.rotateMs) {
      this.finishInBackground();
    } else if (!this.closed) {
      clearTimeout(this.idleTimer);
      // Unreferenced: the worker's message port keeps its thread alive, not a pending rotation.
      this.idleTimer = setTimeout(() => this.rotateInBackground(), this.idleMs).unref();
    }
  }

  /**
   * Takes back an append that failed part-way (ENOSPC, EFBIG): the part of a line it left would run
   * into the next append, and no reader could read the spool past it. The spool is cut back to its
   * length before; a spool that held no row yet is removed instead (rotation skips a spool without
   * rows, so its empty file would stay behind). If even that fails, the spool is left for recovery
   * (which cuts a torn last line) at the next start. A spool removed or left is dropped with its
   * timers, so they do not finish the spool later rows start before its time.
   */
  private async takeBack(spool: NonNullable<ParquetSpoolWriter['spool']>): Promise<void> {
    try {
      if (spool.rows > 0) return await truncate(spool.path, spool.bytes);
      await rm(spool.path, { force: true });
    } catch {
      // Left for recovery.
    }
    if (this.spool !== spool) return;
    this.spool = undefined;
    clearTimeout(this.ageTimer);
    clearTimeout(this.idleTimer);
  }

  /** Finishes the current spool as a Parquet file now; its path, or undefined when nothing was spooled. */
  rotate(): Promise<string | undefined> {
    return this.serial(() => this.finish());
  }

  /**
   * Converts spools left behind by processes that are gone (and by this process's
   * writers named in `tokens`, e.g. a worker thread that crashed); a spool whose Parquet
   * file exists already was converted before the crash and is only removed. Returns the
   * files written.
   */
  recover(tokens: readonly string[] = []): Promise<string[]> {
    return this.serial(async () => {
      let names: string[];
      try {
        names = await readdir(this.dir);
      } catch {
        return [];
      }
      const written: string[] = [];
      for (const name of names.sort()) {
        const converter = /\.(parquet|profile)\.tmp-(\d+)$/.exec(name);
        if (converter) {
          if (!processAlive(Number(converter[2]))) await rm(join(this.dir, name), { force: true });
          continue;
        }
        const match = SPOOL_NAME.exec(name);
        if (!match) continue;
        const [, pidText, token, n, stamp, kind, claimer] = match;
        const pid = Number(pidText);
        // A spool another recovery claimed is orphaned only if that recovery's process died.
        const orphan = claimer ? !processAlive(Number(claimer)) : pid === process.pid ? tokens.includes(token!) : !processAlive(pid);
        if (!orphan) continue;
        // Claimed by a rename, so of several processes starting at once exactly one converts it.
        const spool = join(this.dir, `${name.replace(/\.recovering-\d+$/, '')}.recovering-${process.pid}`);
        try {
          await rename(join(this.dir, name), spool);
        } catch {
          continue;
        }
        const target = join(this.dir, `predictions-${stamp}-${pid}-${token}-${n}.parquet`);
        try {
          if (!(await exists(target))) {
            // A crash can cut the last line (a row, or a batch's frame) short: that line is cut off and reported, the rest kept.
            const end = await endOfLastLine(spool);
            const size = (await stat(spool)).size;
            if (end < size) {
              await truncate(spool, end);
              this.options.onError?.(
                // Not INTERNAL (retryable): the bytes are gone, and retrying changes nothing.
                new LoomError('FAILED_PRECONDITION', `the prediction log spool ${join(this.dir, name)} ended in a ${kind === 'frames' ? 'batch' : 'row'} cut short by a crash (${size - end} bytes): it was dropped, the rest recovered`, {
                  fix: 'nothing to do; rows are lost only when a writer dies in the middle of an append',
                }),
              );
            }
            const rows = await this.duckdb(async () => {
              if (kind === 'ndjson') return this.convert((layout) => spoolSource(spool, layout), target);
              const found = await frameSpoolStructure((await this.connection()).db, spool);
              return this.convert((layout) => frameSource(spool, found.fields, layout !== undefined), target, found.rows, found.structure.columns());
            });
            if (rows > 0) written.push(target);
          } else if (!(await exists(profilePath(target)))) {
            // Converted, but the process died before the profile was written.
            await this.duckdb(async () => this.profiles.write((await this.connection()).db, target));
          }
          await rm(spool, { force: true });
        } catch (error) {
          // One spool that cannot be converted must not keep the others from being recovered;
          // it stays claimed by this process and is tried again by the next start.
          this.options.onError?.(error);
        }
      }
      return written;
    });
  }

  /** Finishes the last file and releases DuckDB. */
  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.rotate();
    } finally {
      await this.conversions;
      clearTimeout(this.idleTimer);
      clearTimeout(this.ageTimer);
      const engine = await this.engine?.catch(() => undefined);
      this.engine = undefined;
      engine?.db.closeSync();
      engine?.instance.closeSync();
    }
    if (this.unreported !== undefined) throw this.unreported;
  }

  /** Detaches the current spool and converts it beside the appends that follow (into a new spool), not in front of them. */
  private finishInBackground(): void {
    this.finish().catch((error: unknown) => this.backgroundFailed(error));
  }

  private rotateInBackground(): void {
    this.rotate().catch((error: unknown) => this.backgroundFailed(error));
  }

  private backgroundFailed(error: unknown): void {
    if (this.options.onError) this.options.onError(error);
    else this.unreported ??= error;
  }

  /** Detaches the current spool (later rows start a new one) and converts it after the conversions before it. */
  private finish(): Promise<string | undefined> {
    clearTimeout(this.idleTimer);
    clearTimeout(this.ageTimer);
    const spool = this.spool;
    this.spool = undefined;
    if (!spool || spool.rows === 0) return this.conversions.then(() => undefined);
    return this.duckdb(async () => {
      const { path } = spool;
      const fields = spool.structure.fields();
      const sourceOf: SourceOf = spool.kind === 'frames' && fields ? (layout) => frameSource(path, fields, layout !== undefined) : (layout) => spoolSource(path, layout);
      await this.convert(sourceOf, spool.target, spool.rows, spool.structure.columns());
      await rm(spool.path, { force: true });
      return spool.target;
    });
  }

  /** One DuckDB statement sequence at a time on the writer's connection. */
  private duckdb<T>(work: () => Promise<T>): Promise<T> {
    const result = this.conversions.then(work);
    this.conversions = result.catch(() => undefined);
    return result;
  }

  /**
   * Spool → `<target>.tmp-<pid>` → `<target>`; the rows written (a spool with none makes no file).
   * `rows` unknown (a spool left by a crash) means count them first; `known` is the columnar
   * layout when the writer tracked it (else it is found by reading the spool).
   */
  private async convert(sourceOf: SourceOf, target: string, rows?: number, known?: { features: string; outputs: string }): Promise<number> {
    const { db } = await this.connection();
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
    await this.profiles.write(db, target);
    this.options.onFile?.(target, rows);
    return rows;
  }

  /** One engine per writer with one thread and a memory cap: logging must not compete much with serving. */
  private connection(): Promise<{ instance: DuckDBInstance; db: DuckDBConnection }> {
    return (this.engine ??= DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' }).then(async (instance) => ({ instance, db: await instance.connect() })));
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work);
    this.chain = result.catch(() => undefined);
    return result;
  }
}
