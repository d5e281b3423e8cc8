/**
 * Where the prediction log's batches go: a worker thread that builds the sink from its
 * spec and does all the writing (the default for Loom's sinks), or the sink itself on
 * the calling thread (any other sink). Both take whole packed batches of records and answer
 * with the rows written; a rejection means the batch was lost.
 *
 * The worker is replaced when it dies: the batches it held are rejected (and counted as
 * dropped by the log), and its successor is told the dead one's spool token so it
 * converts what the dead one had spooled. After three failures in a row without a
 * successful write the log stops restarting it and drops (and counts) every batch.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { batchBuffers, openBatch, packedLogRows, type PackedBatch } from './prediction-log-pack.js';
import type { PredictionLogSink, PredictionSinkSpec } from './prediction-log.js';
import { LoomError, type ErrorCode } from '../core/errors.js';

export interface LogBackend {
  /** Writes a batch packed as records were logged (prediction-log-pack.ts; its buffers are moved, not copied); resolves with the rows written. */
  write(batch: PackedBatch): Promise<number>;
  rotate(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** The sink written on this thread, one batch at a time. */
export function inThreadBackend(sink: PredictionLogSink): LogBackend {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = chain.then(work);
    chain = result.catch(() => undefined);
    return result;
  };
  return {
    write: (batch) =>
      serial(async () => {
        const rows = packedLogRows(openBatch(batch));
        await sink.write(rows);
        return rows.length;
      }),
    rotate: async () => undefined,
    close: () => serial(() => sink.close()),
  };
}

/** An error as it crosses from the worker: a LoomError's code, field, fix and retryability kept (a clone would keep only the message). */
export interface WorkerError {
  message: string;
  loom?: { code: ErrorCode; field?: string; fix?: string; retryable: boolean };
}

/** An error as the worker sends it. */
export function workerError(error: unknown): WorkerError {
  if (error instanceof LoomError) return { message: error.message, loom: { code: error.code, field: error.field, fix: error.fix, retryable: error.retryable } };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** A worker's error as this thread reports it: a LoomError again when it was one. */
export function fromWorkerError({ message, loom }: WorkerError): Error {
  return loom ? new LoomError(loom.code, message, { field: loom.field, fix: loom.fix, retryable: loom.retryable }) : new Error(message);
}

/** Messages from the worker (prediction-log-worker.ts). */
export type FromLogWorker =
  | { type: 'done'; id: number; written?: number; path?: string; error?: WorkerError; /** A written batch's buffers, moved back for reuse. */ buffers?: ArrayBuffer[] }
  | { type: 'file'; path: string }
  | { type: 'error'; error: WorkerError };

type LogRequest = { type: 'write'; batch: PackedBatch } | { type: 'rotate' } | { type: 'close' };
/** Messages to the worker. */
export type ToLogWorker = LogRequest & { id: number };

const WORKER_URL = new URL('./prediction-log-worker.mjs', import.meta.url);
const MAX_FAILURES = 3;

interface Pending {
  resolve(message: Extract<FromLogWorker, { type: 'done' }>): void;
  reject(error: Error): void;
}

/** The sink built from `spec` in a worker thread; the worker starts now, so leftover spools are converted at start. */
export function workerBackend(spec: PredictionSinkSpec, hooks: { onFile(path: string): void; onError(error: unknown): void; recycle?(buffers: ArrayBuffer[]): void }): LogBackend {
  const pending = new Map<number, Pending>();
  const deadTokens: string[] = [];
  let nextId = 0;
  let failures = 0;
  let lastError: Error | undefined;
  let current: Worker | undefined;
  // After close, nothing may start a new worker (a late rotate would leak a thread).
  let closed = false;

  const start = (): Worker => {
    const token = randomBytes(4).toString('hex');
    // No inherited execArgv: the bootstrap registers tsx itself, however the parent was started.
    const worker = new Worker(WORKER_URL, { workerData: { spec, token, recover: [...deadTokens] }, execArgv: [] });
    worker.unref();
    const died = (error: Error) => {
      if (current !== worker) return;
      current = undefined;
      deadTokens.push(token);
      failures++;
      lastError = error;
      hooks.onError(error);
      for (const entry of pending.values()) entry.reject(error);
      pending.clear();
    };
    worker.on('message', (message: FromLogWorker) => {
      if (message.type === 'file') return hooks.onFile(message.path);
      if (message.type === 'error') return hooks.onError(fromWorkerError(message.error));
      if (message.buffers) hooks.recycle?.(message.buffers);
      const entry = pending.get(message.id);
      if (!entry) return;
      pending.delete(message.id);
      if (pending.size === 0) worker.unref();
      entry.resolve(message);
    });
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the prediction log worker exited (code ${code})`)));
    return worker;
  };
  current = start();

  const request = (message: LogRequest): Promise<Extract<FromLogWorker, { type: 'done' }>> => {
    if (closed && message.type !== 'close') return Promise.reject(new Error('the prediction log is closed'));
    if (!current) {
      if (failures >= MAX_FAILURES) return Promise.reject(new Error(`the prediction log worker failed ${failures} times; logging is off: ${lastError?.message}`));
      current = start();
    }
    const worker = current;
    const id = nextId++;
    return new Promise<Extract<FromLogWorker, { type: 'done' }>>((resolve, reject) => {
      // A batch's typed arrays move to the worker (no copy; the packer has started new ones). A
      // message that cannot be cloned (a value no request holds today) throws before anything
      // moves; it is refused (the batch counted dropped) with nothing left pending or holding the thread.
      worker.postMessage({ ...message, id } satisfies ToLogWorker, message.type === 'write' ? batchBuffers(message.batch) : []);
      pending.set(id, { resolve, reject });
      // Held while an answer is awaited, so a process waiting on close does not exit under it.
      worker.ref();
    }).then((answer) => {
      if (answer.error !== undefined) throw fromWorkerError(answer.error);
      if (message.type === 'write') failures = 0;
      return answer;
    });
  };

  return {
    write: async (batch) => (await request({ type: 'write', batch })).written ?? 0,
    rotate: async () => (closed ? undefined : (await request({ type: 'rotate' })).path),
    async close() {
      closed = true;
      const worker = current;
      if (!worker) return;
      try {
        await request({ type: 'close' });
      } finally {
        current = undefined;
        await worker.terminate();
      }
    },
  };
}
