/**
 * The Parquet writer's conversions (prediction-log-parquet.ts), one at a time, in order.
 * Those no caller waits for (rotations by size, age and idleness; recovery) run in the
 * low-priority converter process when the writer has one (prediction-log-converter.ts); those
 * a caller waits for (`rotate()`, `close()`) run on this thread, and so does every queued
 * conversion while such a caller waits: a caller never waits on a process that a busy machine
 * starves. A conversion already in that process when a caller starts waiting is given
 * `graceMs` to finish; then the process is killed and the conversion run again here.
 *
 * A conversion whose process died (killed, out of memory) is run once more, in a new process
 * (here when a caller waits); its spool is removed only once a file is made from it.
 *
 * Usage: `const conversions = new Conversions(19, hooks); await conversions.run(job, 'background'); await conversions.close()`
 */
import { rm } from 'node:fs/promises';
import { profilePath } from '../monitor/log-profile-write.js';
import { fromWorkerError } from './prediction-log-backends.js';
import { InlineConverter, type ConversionJob, type SpoolConverter } from './prediction-log-convert.js';
import { ConverterExited, ProcessConverter } from './prediction-log-converter.js';

/** How long a waiting caller lets a conversion already in the converter process run before it is redone here. */
export const GRACE_MS = 2_000;

export interface ConversionHooks {
  /** Told about each file made. */
  onFile?: (path: string, rows: number) => void;
  /** Told about problems that lost nothing (a profile not written). */
  onError?: (error: unknown) => void;
}

export class Conversions {
  private readonly inline = new InlineConverter();
  private readonly process: ProcessConverter | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Callers waiting now (`rotate()`, `close()`): while any does, every conversion runs here. */
  private waiting = 0;
  /** The conversion running in the converter process, if one is. */
  private inProcess: Promise<unknown> | undefined;

  constructor(
    processNice: number | undefined,
    private readonly hooks: ConversionHooks,
    private readonly graceMs = GRACE_MS,
  ) {
    this.process = processNice === undefined ? undefined : new ProcessConverter(processNice);
  }

  /** The converter process's id while one runs. */
  get converterPid(): number | undefined {
    return this.process?.pid;
  }

  /**
   * Runs `job` after the conversions before it, then `after` (the spool's removal) before the
   * next; the rows written (0 for a profile). `after` is not run when the conversion fails.
   */
  run(job: ConversionJob, when: 'background' | 'waited', after?: () => Promise<unknown>): Promise<number> {
    const result = this.chain.then(async () => {
      const rows = await this.convert(job);
      await after?.();
      return rows;
    });
    this.chain = result.catch(() => undefined);
    if (when === 'waited') return this.waitFor(result);
    return result;
  }

  /** Waits for every conversion queued so far, as a caller waits (`rotate()` with nothing spooled). */
  drained(): Promise<void> {
    return this.waitFor(this.chain.then(() => undefined));
  }

  /** Waits for every conversion, then ends the converter process and DuckDB. */
  async close(): Promise<void> {
    await this.drained();
    await Promise.all([this.inline.close(), this.process?.close()]);
  }

  /** `result`, awaited as a caller waits: queued conversions run here, one in the process gets `graceMs`. */
  private async waitFor<T>(result: Promise<T>): Promise<T> {
    this.waiting++;
    const running = this.inProcess;
    const timer =
      running &&
      setTimeout(() => {
        if (this.inProcess === running) this.process?.kill();
      }, this.graceMs);
    try {
      return await result;
    } finally {
      clearTimeout(timer);
      this.waiting--;
    }
  }

  private async convert(job: ConversionJob, attempt = 1): Promise<number> {
    const converter: SpoolConverter = this.process && this.waiting === 0 ? this.process : this.inline;
    let result;
    try {
      const running = converter.convert(job);
      if (converter === this.process) this.inProcess = running;
      result = await running;
    } catch (error) {
      if (error instanceof ConverterExited) await removePartsOf(job, error.pid);
      // The process died under it (or was killed for a waiting caller): once more, in a new one or here.
      if (error instanceof ConverterExited && attempt === 1) return this.convert(job, 2);
      throw error;
    } finally {
      this.inProcess = undefined;
    }
    for (const problem of result.problems) this.hooks.onError?.(fromWorkerError(problem));
    if (result.rows > 0 && job.kind !== 'profile') this.hooks.onFile?.(job.target, result.rows);
    return result.rows;
  }
}

/** The files a conversion part-wrote in a process that died (named after its pid): its spool's text, the file's and the profile's temporary copies. */
async function removePartsOf(job: ConversionJob, pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const parts = [`${profilePath(job.target)}.tmp-${pid}`];
  if (job.kind !== 'profile') parts.push(`${job.spool}.text-${pid}`, `${job.target}.tmp-${pid}`);
  await Promise.all(parts.map((part) => rm(part, { force: true })));
}
