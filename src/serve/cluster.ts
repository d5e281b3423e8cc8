/**
 * Every core: the primary process forks N workers that share one listening port (Node's
 * cluster module balances connections across them); each worker runs a whole model
 * server, with its own sessions and its own registry watcher. SIGTERM or SIGINT on the
 * primary asks every worker to stop accepting, drain in-flight requests and exit; a
 * worker that dies on its own is replaced. `/metrics` in any worker aggregates all.
 *
 * Usage (in the CLI): `if (cluster.isPrimary && workers > 1) return runPrimary({ workers, onListening })`,
 * and in each worker `await serveInWorker(() => startModelServer(...))`.
 */
import cluster, { type Worker } from 'node:cluster';
import { serveClusterMetrics } from './metrics.js';

export interface PrimaryOptions {
  workers: number;
  /** Told once, when the first worker listens. */
  onListening(url: string, workers: number): void;
  /** Told when a worker fails or exits unexpectedly. */
  onWorkerExit?(pid: number | undefined, code: number | null, signal: string | null): void;
}

interface ListeningMessage {
  type: 'loom:listening';
  url: string;
}

/** Forks the workers and supervises them until SIGTERM/SIGINT; resolves after every worker has drained and exited. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  serveClusterMetrics();
  let stopping = false;
  let announced = false;
  let failedStarts = 0;
  // Set once no worker could start: the primary then exits with the workers' failure, never 0.
  let failure = 0;
  const listening = new Set<Worker>();
  return new Promise((resolve) => {
    const fork = () => {
      const worker = cluster.fork();
      worker.on('message', (message: ListeningMessage) => {
        if (message?.type !== 'loom:listening') return;
        listening.add(worker);
        if (!announced) {
          announced = true;
          options.onListening(message.url, options.workers);
        }
      });
    };
    cluster.on('exit', (worker, code, signal) => {
      const wasListening = listening.delete(worker);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failure);
        return;
      }
      options.onWorkerExit?.(worker.process.pid, code, signal);
      // A worker that never came up will not come up on a retry either (bad model, port taken).
      if (!wasListening && ++failedStarts >= options.workers) {
        stopping = true;
        failure = code || 1;
        for (const other of Object.values(cluster.workers ?? {})) other?.kill('SIGTERM');
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failure);
        return;
      }
      fork();
    });
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
      if (alive.length === 0) resolve(0);
      for (const worker of alive) worker.send({ type: 'loom:shutdown' });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    for (let i = 0; i < options.workers; i++) fork();
  });
}

/**
 * In a worker (or a single process): starts the server, tells the primary where it
 * listens, and on SIGTERM, SIGINT or the primary's shutdown message closes it gracefully.
 * Resolves when the server has closed.
 */
export async function serveInWorker(start: () => Promise<{ url: string; close(): Promise<void> }>, onStarted?: (url: string) => void): Promise<void> {
  const server = await start();
  if (cluster.isWorker) process.send?.({ type: 'loom:listening', url: server.url } satisfies ListeningMessage);
  else onStarted?.(server.url);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      process.off('message', onMessage);
      resolve();
    };
    const onMessage = (message: { type?: string }) => {
      if (message?.type === 'loom:shutdown') done();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    process.on('message', onMessage);
  });
  await server.close();
}
