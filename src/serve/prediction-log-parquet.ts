/**
 * The embedded prediction log's file writer (it runs in the log's worker thread, see
 * prediction-log-worker-main.ts): the worker's packed batches are appended to a spool as they
 * arrived (prediction-log-wire-spool.ts), rows as newline-delimited JSON (prediction-log-spool.ts;
 * spools of columnar frames, prediction-log-frames.ts, are left by earlier versions); the
 * spool is converted into a typed, columnar Parquet file and its profile
 * (prediction-log-convert.ts) when it holds `rotateRows` rows, when its first row is
 * `rotateMs` old, when no row has come for `idleMs` (so monitoring sees recent predictions
 * even after traffic stops), and on close: on this thread, or with `processNice` (the log's
 * worker) in a low-priority process when no caller waits for it (prediction-log-converter.ts). A file is
 * written under a temporary name and renamed, so readers never see half a file
 * (`predictions/*.parquet` matches finished files only).
 *
 * The spool is named after the Parquet file it becomes
 * (`.spool-<pid>-<token>-<n>-<stamp>.wire`, `.frames` or `.ndjson` → `predictions-<stamp>-<pid>-<token>-<n>.parquet`),
 * so a spool left by a process that died (or a worker thread that crashed) is converted by
 * the next writer that starts in the directory, exactly once.
 *
 * Beside each finished file, its profile (`….profile`, monitor/log-profile-write.ts): the
 * file's value counts per field, which monitoring windows sum instead of scanning the rows;
 * written after the file (a crash between the two leaves a file without one: recovery writes
 * it, and until then windows scan that file).
 *
 * Usage: `const writer = new ParquetSpoolWriter(dir, { idleMs: 5000 }); await writer.recover(); await writer.write(rows); await writer.close();`
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { PredictionLogRow } from './prediction-log.js';
import { LoomError } from '../core/errors.js';
import { SpoolStructure, type BatchStructure } from './prediction-log-structure.js';
import { endOfLastLine, exists, processAlive, spoolLines, wellFormedSpoolText } from './prediction-log-spool.js';
import type { PackedBatch } from './prediction-log-pack.js';
import { profilePath } from '../monitor/log-profile-write.js';
import type { ConversionJob } from './prediction-log-convert.js';
import { Conversions } from './prediction-log-conversions.js';
import { wireFrame, wireSpoolEnd } from './prediction-log-wire-spool.js';

export interface ParquetSpoolOptions {
  /** Rows per file; default 100,000. */
  rotateRows?: number;
  /** Longest a row waits before its file is written, in ms; default 60 s. */
  rotateMs?: number;
  /** A file is finished when no row has come for this long, in ms; default 5 s. */
  idleMs?: number;
  /** Names this writer's spools; a fresh random one by default. */
  token?: string;
  /**
   * The conversions no caller waits for (rotations by size, age or idleness; recovery) run in a
   * process of their own at this niceness (0–19, prediction-log-converter.ts), so that under full
   * load they wait for idle CPU; unset, they run on this thread, as `rotate()` and `close()`'s always do.
   */
  processNice?: number;
  /** Told about each finished file. */
  onFile?: (path: string, rows: number) => void;
  /**
   * Told about failures of rotations no caller waits for (timers, rotations by size). Without
   * it, the first such failure is kept and `close()` rejects with it: the rows stay in their
   * spool (a later `recover()` converts it), but the caller must not believe them written.
   */
  onError?: (error: unknown) => void;
}

/**
 * A spool's name: `ndjson` holds a JSON object per row, `frames` a batch per line
 * (prediction-log-frames.ts), `wire` the worker's batches as they arrived (prediction-log-wire-spool.ts).
 */
const SPOOL_NAME = /^\.spool-(\d+)-([a-z0-9]+)-(\d+)-([0-9TZ]+)\.(ndjson|frames|wire)(?:\.recovering-(\d+))?$/;

type SpoolKind = 'ndjson' | 'frames' | 'wire';

/**
 * Why a write queued after `close()` is refused: it would open a spool (and later an engine)
 * that nothing converts or closes. The log counts its rows as dropped.
 */
function closedError(): LoomError {
  return new LoomError('FAILED_PRECONDITION', 'the prediction log writer is closed: rows written after close() are dropped', {
    fix: 'write before close(); a log that keeps serving needs a writer that is not closed',
  });
}

export class ParquetSpoolWriter {
  private readonly rotateRows: number;
  private readonly rotateMs: number;
  private readonly idleMs: number;
  readonly token: string;
  private spool: { kind: SpoolKind; path: string; target: string; rows: number; firstAt: number; structure: SpoolStructure } | undefined;
  private files = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private ready: Promise<unknown> | undefined;
  private readonly conversions: Conversions;
  private closed = false;
  /** A background rotation's failure no `onError` was told of; `close()` rejects with it. */
  private unreported: unknown;

  constructor(
    readonly dir: string,
    private readonly options: ParquetSpoolOptions = {},
  ) {
    this.rotateRows = options.rotateRows ?? 100_000;
    this.rotateMs = options.rotateMs ?? 60_000;
    this.idleMs = options.idleMs ?? 5_000;
    this.token = options.token ?? randomBytes(4).toString('hex');
    this.conversions = new Conversions(options.processNice, { onFile: options.onFile, onError: options.onError });
  }

  /** The converter process's id while one runs (conversions in a process only). */
  get converterPid(): number | undefined {
    return this.conversions.converterPid;
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
   * Appends a batch as the log's worker got it (prediction-log-wire-spool.ts): its typed arrays
   * as they are, nothing per value; the conversion does the rest. Resolves with the rows written.
   */
  writeBatch(batch: PackedBatch): Promise<number> {
    if (this.closed) return Promise.reject(closedError());
    return this.serial(async () => {
      await this.append('wire', wireFrame(batch), batch.rows, undefined);
      return batch.rows;
    });
  }

  /** Appends encoded rows to the current spool of that kind, starting one when there is none. */
  private async append(kind: SpoolKind, data: string | Buffer, rows: number, structure: BatchStructure): Promise<void> {
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
        firstAt: Date.now(),
        structure: new SpoolStructure(),
      };
      if (!this.closed) this.ageTimer = setTimeout(() => this.rotateInBackground(), Math.max(0, this.rotateMs)).unref();
    }
    await appendFile(this.spool.path, typeof data === 'string' ? wellFormedSpoolText(data) : data);
    this.spool.rows += rows;
    this.spool.structure.add(structure);
    if (this.spool.rows >= this.rotateRows || Date.now() - this.spool.firstAt >= this.rotateMs) {
      this.finishInBackground();
    } else if (!this.closed) {
      clearTimeout(this.idleTimer);
      // Unreferenced: the worker's message port keeps its thread alive, not a pending rotation.
      this.idleTimer = setTimeout(() => this.rotateInBackground(), this.idleMs).unref();
    }
  }

  /** Finishes the current spool as a Parquet file now, on this thread (the caller waits); its path, or undefined when nothing was spooled. */
  rotate(): Promise<string | undefined> {
    return this.serial(() => this.finish('waited'));
  }

  /**
   * Converts spools left behind by processes that are gone (and by this process's
   * writers named in `tokens`, e.g. a worker thread that crashed); a spool whose Parquet
   * file exists already was converted before the crash and is only removed. Resolves with the
   * files written. The spools are claimed in order with the appends; their conversions run
   * beside the appends that follow, which do not wait for them.
   */
  recover(tokens: readonly string[] = []): Promise<string[]> {
    return this.serial(() => this.claimOrphans(tokens)).then(async (claimed) => {
      const written: string[] = [];
      await Promise.all(
        claimed.map(async ({ job, spool }) => {
          try {
            const rows = await this.conversions.run(job, 'background', () => rm(spool, { force: true }));
            if (rows > 0 && job.kind !== 'profile') written.push(job.target);
          } catch (error) {
            // One spool that cannot be converted must not keep the others from being recovered;
            // it stays claimed by this process and is tried again by the next start.
            this.options.onError?.(error);
          }
        }),
      );
      return written;
    });
  }

  /**
   * Claims (by a rename, so of several processes starting at once exactly one converts each)
   * the orphaned spools of `tokens` and of dead processes, cuts a torn last row or batch off
   * (reported), and removes dead conversions' part-written files; the conversions to run.
   */
  private async claimOrphans(tokens: readonly string[]): Promise<{ job: ConversionJob; spool: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const claimed: { job: ConversionJob; spool: string }[] = [];
    for (const name of names.sort()) {
      // A conversion's part-written file, profile or spool text (a wire spool's), of a process that died.
      const converter = /\.(?:parquet\.tmp|profile\.tmp|text)-(\d+)$/.exec(name);
      if (converter) {
        if (!processAlive(Number(converter[1]))) await rm(join(this.dir, name), { force: true });
        continue;
      }
      const match = SPOOL_NAME.exec(name);
      if (!match) continue;
      const [, pidText, token, n, stamp, kind, claimer] = match;
      const pid = Number(pidText);
      // A spool another recovery claimed is orphaned only if that recovery's process died.
      const orphan = claimer ? !processAlive(Number(claimer)) : pid === process.pid ? tokens.includes(token!) : !processAlive(pid);
      if (!orphan) continue;
      const spool = join(this.dir, `${name.replace(/\.recovering-\d+$/, '')}.recovering-${process.pid}`);
      try {
        await rename(join(this.dir, name), spool);
      } catch {
        continue;
      }
      const target = join(this.dir, `predictions-${stamp}-${pid}-${token}-${n}.parquet`);
      try {
        if (!(await exists(target))) {
          await this.cutTornTail(spool, kind as SpoolKind, join(this.dir, name));
          claimed.push({ job: { kind: kind as SpoolKind, spool, target }, spool });
        } else if (!(await exists(profilePath(target)))) {
          // Converted, but the process died before the profile was written.
          claimed.push({ job: { kind: 'profile', target }, spool });
        } else await rm(spool, { force: true });
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    return claimed;
  }

  /** A crash can cut the last row or batch short: it is cut off and reported, the rest kept. */
  private async cutTornTail(spool: string, kind: SpoolKind, named: string): Promise<void> {
    const end = kind === 'wire' ? await wireSpoolEnd(spool) : await endOfLastLine(spool);
    const size = (await stat(spool)).size;
    if (end >= size) return;
    await truncate(spool, end);
    this.options.onError?.(
      // Not INTERNAL (retryable): the bytes are gone, and retrying changes nothing.
      new LoomError('FAILED_PRECONDITION', `the prediction log spool ${named} ended in a ${kind === 'ndjson' ? 'row' : 'batch'} cut short by a crash (${size - end} bytes): it was dropped, the rest recovered`, {
        fix: 'nothing to do; rows are lost only when a writer dies in the middle of an append',
      }),
    );
  }

  /** Finishes the last file and releases DuckDB (and the converter process). */
  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.rotate();
    } finally {
      clearTimeout(this.idleTimer);
      clearTimeout(this.ageTimer);
      await this.conversions.close();
    }
    if (this.unreported !== undefined) throw this.unreported;
  }

  /** Detaches the current spool and converts it beside the appends that follow (into a new spool), not in front of them. */
  private finishInBackground(): void {
    this.finish('background')?.catch((error: unknown) => this.backgroundFailed(error));
  }

  /** After the appends queued before it, detaches the spool; its conversion runs beside the appends that follow, not in front of them. */
  private rotateInBackground(): void {
    void this.serial(async () => this.finishInBackground());
  }

  private backgroundFailed(error: unknown): void {
    if (this.options.onError) this.options.onError(error);
    else this.unreported ??= error;
  }

  /**
   * Detaches the current spool (later rows start a new one) and converts it after the
   * conversions before it; resolves with its file once made. With nothing spooled, a caller
   * waiting gets the conversions before it done.
   */
  private finish(when: 'background' | 'waited'): Promise<string | undefined> {
    clearTimeout(this.idleTimer);
    clearTimeout(this.ageTimer);
    const spool = this.spool;
    this.spool = undefined;
    if (!spool || spool.rows === 0) return when === 'waited' ? this.conversions.drained().then(() => undefined) : Promise.resolve(undefined);
    const { kind, path, target, rows, structure } = spool;
    const columns = structure.columns();
    const job: ConversionJob =
      kind === 'wire' ? { kind, spool: path, target } : kind === 'frames' ? { kind, spool: path, target, rows, fields: structure.fields(), columns } : { kind, spool: path, target, rows, columns };
    return this.conversions.run(job, when, () => rm(path, { force: true })).then(() => target);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work);
    this.chain = result.catch(() => undefined);
    return result;
  }
}
