/**
 * The prediction log's conversions in a process of their own at a low CPU priority (`nice`,
 * 19 for the log's worker), started at the first conversion sent and kept. Turning a spool
 * into Parquet and its profile costs about ten times what spooling it does
 * (`bench/prediction-log.ts --writer`); on a server whose cores are all busy answering
 * requests, a niced process gets only what they leave, so under full load the files are
 * converted later (the spool holds the rows on disk meanwhile), and serving keeps its core. On
 * an idle machine the niceness changes nothing. Which conversions come here, and what a
 * waiting caller does about a starved process, is prediction-log-conversions.ts's.
 *
 * The process is started through `nice` so that every thread it starts (DuckDB's among them)
 * inherits the priority; where there is no `nice` command it is started directly at the
 * default priority. It has a process group of its own and ignores stop signals: it ends when
 * its parent disconnects. A process that dies fails the conversions it held with
 * `ConverterExited`, and the next conversion starts a new one.
 *
 * Usage: `const converter = new ProcessConverter(19); await converter.convert(job); await converter.close()`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LoomError } from '../core/errors.js';
import type { ConversionJob, ConversionResult, SpoolConverter } from './prediction-log-convert.js';
import { fromWorkerError, type WorkerError } from './prediction-log-backends.js';

/** The niceness of the log worker's converter process unless its spec says otherwise: the lowest priority. */
export const DEFAULT_CONVERTER_NICE = 19;

/** A conversion that failed because its converter process exited (was killed, ran out of memory): retryable, nothing lost. */
export class ConverterExited extends LoomError {
  constructor(
    why: string,
    job: ConversionJob,
    /** The process's id: its part-written files are named after it. */
    readonly pid: number | undefined,
  ) {
    const what = job.kind === 'profile' ? `the profile of ${job.target}` : `the spool ${job.spool}`;
    super('INTERNAL', `${why} while converting ${what}`, { fix: 'nothing is lost: the spool stays in the log directory until a file is made from it (the next start of a log there converts it)', retryable: true });
  }
}

/** A converter process's answer to the job sent with `id`. */
export type FromConverter = { id: number; result: ConversionResult; error?: undefined } | { id: number; error: WorkerError; result?: undefined };

const SCRIPT = fileURLToPath(new URL('./prediction-log-converter.mjs', import.meta.url));

interface Pending {
  job: ConversionJob;
  /** The process it was sent to. */
  child?: ChildProcess;
  resolve(result: ConversionResult): void;
  reject(error: unknown): void;
}

export class ProcessConverter implements SpoolConverter {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Set when this machine has no `nice` command: the process is started directly. */
  private withoutNice = false;
  /** The conversions sent and not yet answered (`close` waits for them). */
  private readonly answers = new Set<Promise<unknown>>();

  /** `nice`: the niceness to add (0–19; 0 starts the process at the default priority). */
  constructor(private readonly nice: number) {}

  /** The converter process's id, once one runs (for tests and benchmarks that read its CPU). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  convert(job: ConversionJob): Promise<ConversionResult> {
    const id = this.nextId++;
    const answer = new Promise<ConversionResult>((resolve, reject) => {
      this.pending.set(id, { job, resolve, reject });
      this.send(id, job);
    });
    const settled = answer.catch(() => undefined).finally(() => this.answers.delete(settled));
    this.answers.add(settled);
    return answer;
  }

  /** Kills the process (its conversions fail with `ConverterExited`); the next conversion starts another. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Waits for the conversions sent, then ends the process. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await Promise.all(this.answers);
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    if (child.connected) child.disconnect();
    await exited;
  }

  private send(id: number, job: ConversionJob): void {
    const child = (this.child ??= this.start());
    this.pending.get(id)!.child = child;
    // A process that could not be started (no pid) has its 'error' event coming, which settles or resends the job.
    if (child.pid === undefined) return;
    child.send({ id, job }, (error) => {
      // A process that is gone settles its jobs by its 'exit' event; only a live one's refusal is this job's.
      if (error && child.connected) this.settle(id, undefined, error);
    });
  }

  private start(): ChildProcess {
    const niced = this.nice > 0 && !this.withoutNice;
    const [command, args] = niced ? ['nice', ['-n', String(this.nice), process.execPath, SCRIPT]] : [process.execPath, [SCRIPT]];
    // A process group of its own: a Ctrl-C or a stop signal to the server's group does not cut a conversion short (it ends when the server disconnects).
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
    child.on('message', (message: FromConverter) => this.settle(message.id, message.result, message.error && fromWorkerError(message.error)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (niced && error.code === 'ENOENT' && this.child === child) {
        // No `nice` command on this machine: the conversions go to a process started directly.
        this.withoutNice = true;
        this.child = undefined;
        for (const [id, { job }] of this.pending) this.send(id, job);
        return;
      }
      this.failAll(child, `the prediction log's converter process failed (${error.message})`);
    });
    child.on('exit', (code, signal) => this.failAll(child, `the prediction log's converter process exited (${signal ?? `code ${code}`})`));
    return child;
  }

  /** Fails the conversions a process held, once it is gone; the next conversion starts another. */
  private failAll(child: ChildProcess, why: string): void {
    if (this.child === child) this.child = undefined;
    for (const [id, { job, child: holder }] of [...this.pending]) if (holder === child) this.settle(id, undefined, new ConverterExited(why, job, child.pid));
  }

  private settle(id: number, result: ConversionResult | undefined, error: unknown): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (result) pending.resolve(result);
    else pending.reject(error);
  }
}
