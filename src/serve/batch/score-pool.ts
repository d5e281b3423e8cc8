/**
 * ONNX Runtime sessions in worker threads. onnxruntime-node's `run` blocks the thread
 * that calls it, so a batch job scoring on the main thread cannot read the next batch
 * meanwhile; with the model in workers, DuckDB reading and tensor building (main thread)
 * overlap scoring (workers), and several workers score side by side.
 *
 * A worker is never terminated while it runs a batch or loads the model: onnxruntime-node
 * (1.30) aborts the whole process then (`terminate called after throwing an instance of
 * 'Napi::Error'`), because its binding, called while the worker's environment is being torn
 * down, throws a C++ exception it cannot hand to JavaScript. So `close` (reached early when the
 * read or the sink fails mid-job) first lets the batches in flight finish, at most two a worker.
 *
 * Usage: `const pool = await startScorePool(modelBytes, 2); const outputs = await pool.run(feeds); await pool.close();`
 */
import { Worker } from 'node:worker_threads';
import { LoomError } from '../../core/errors.js';
import type { OutputColumn } from './stream-score.js';

/**
 * One input as the worker builds it: `new ort.Tensor(type, data, dims)`; a string input
 * comes as `joined` (every value, concatenated) with `data` holding each value's length.
 */
export interface WorkerFeed {
  name: string;
  type: string;
  data: ArrayBufferView;
  joined?: string;
  dims: number[];
}

export interface ScorePool {
  /** Scores one batch on the least busy worker. */
  run(feeds: WorkerFeed[]): Promise<Record<string, OutputColumn>>;
  close(): Promise<void>;
}

interface Pending {
  resolve(outputs: Record<string, OutputColumn>): void;
  reject(error: Error): void;
}

const WORKER_URL = new URL('./score-worker.mjs', import.meta.url);

export async function startScorePool(model: Uint8Array, size: number): Promise<ScorePool> {
  const workers: { worker: Worker; busy: number; pending: Map<number, Pending> }[] = [];
  let nextId = 0;
  let failure: Error | undefined;
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData: { model } });
      const entry = { worker, busy: 0, pending: new Map<number, Pending>() };
      workers.push(entry);
      const fail = (error: Error) => {
        failure ??= new LoomError('INTERNAL', `a scoring worker failed: ${error.message}`);
        reject(failure);
        for (const pending of entry.pending.values()) pending.reject(failure);
        entry.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`exited with code ${code}`));
      });
      worker.on('message', (message: { ready?: boolean; id?: number; outputs?: Record<string, OutputColumn>; error?: string }) => {
        if (message.ready) return resolve();
        const pending = entry.pending.get(message.id!);
        if (!pending) return;
        entry.pending.delete(message.id!);
        entry.busy--;
        if (message.error !== undefined) pending.reject(new LoomError('INVALID_ARGUMENT', `the model could not score a batch: ${message.error}`));
        else pending.resolve(message.outputs!);
      });
    });
  // Every worker has loaded the model or failed before any is terminated (one failing first must not stop another mid-load).
  const started = await Promise.allSettled(Array.from({ length: Math.max(1, size) }, start));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await Promise.all(workers.map((entry) => entry.worker.terminate()));
    throw new LoomError('FAILED_PRECONDITION', `ONNX Runtime cannot load the model: ${(failed.reason as Error).message.replace(/^a scoring worker failed: /, '')}`, {
      fix: 'check the model version with `loom models versions <name>`; re-run the pipeline that made it',
    });
  }
  const inFlight = new Set<Promise<void>>();
  return {
    run(feeds) {
      if (failure) return Promise.reject(failure);
      const entry = workers.reduce((least, candidate) => (candidate.busy < least.busy ? candidate : least));
      const id = nextId++;
      entry.busy++;
      const transfer = feeds.map((feed) => feed.data.buffer as ArrayBuffer);
      const outputs = new Promise<Record<string, OutputColumn>>((resolve, reject) => {
        entry.pending.set(id, { resolve, reject });
        entry.worker.postMessage({ id, feeds }, transfer);
      });
      const settled = outputs.then(
        () => {},
        () => {},
      );
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      return outputs;
    },
    async close() {
      // A worker that dies rejects its runs (the 'exit' handler), so this wait ends.
      await Promise.all(inFlight);
      await Promise.all(workers.map((entry) => entry.worker.terminate()));
    },
  };
}
