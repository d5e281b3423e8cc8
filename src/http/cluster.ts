/**
 * Several processes on one port, for both servers (`loom serve --workers N`, `loom server
 * --workers N`): the primary process forks N workers that share one listening socket (each
 * accepts its own connections). SIGTERM or SIGINT on the primary asks every worker to stop
 * accepting, drain in-flight requests and exit. A worker that dies is replaced, at once the
 * first time and with a growing delay if replacements keep dying young; the primary never
 * dies of a worker's death or of a message to a worker that is gone. A gRPC listener in the
 * workers (`loom serve --grpc-port`) is shared the same way. The primary also answers the
 * workers' `/metrics` scrapes with every worker's metrics summed (cluster-metrics.ts).
 *
 * Why more than one process even for an I/O-bound server: since libuv 1.45 a Node process
 * accepts one connection per event-loop iteration, so under a crowd of new connections
 * clients wait in the kernel's accept queue; N workers drain the one shared queue N times as
 * often (BENCHMARKS.md, soak section).
 *
 * Usage (in the CLI): `if (cluster.isPrimary && workers > 1) return runPrimary({ workers, onListening })`,
 * and in each worker `await serveInWorker(() => startModelServer(...))`; a worker's server
 * closes through `drainingClose(app)` so connections waiting on the shared socket are served.
 */
import cluster, { type Worker } from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { answerMetricsRequests } from './cluster-metrics.js';

export interface PrimaryOptions {
  workers: number;
  /** Told once, when the first worker listens (with its gRPC address, when it serves gRPC). */
  onListening(url: string, workers: number, grpcAddress?: string): void;
  /** Told when a worker fails or exits unexpectedly. */
  onWorkerExit?(pid: number | undefined, code: number | null, signal: string | null): void;
  /** Told of trouble the primary survives (an IPC error with a worker). Default: a line on stderr. */
  onWarning?(message: string): void;
  /** Restart back-off: the first delay after a worker died young, and the longest; default 100 ms and 10 s. */
  backoff?: { initialMs: number; maxMs: number };
}

interface ListeningMessage {
  type: 'loom:listening';
  url: string;
  grpcAddress?: string;
}

/** The primary's default for trouble it survives: a line on stderr. */
export const warnOnStderr = (message: string): void => void process.stderr.write(`${message}\n`);

/** A worker that lived at least this long before dying resets the back-off: it was not crash-looping. */
const HEALTHY_LIFETIME_MS = 10_000;

/** Forks the workers and supervises them until SIGTERM/SIGINT; resolves after every worker has drained and exited. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const warn = options.onWarning ?? warnOnStderr;
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 10_000 };
  let stopping = false;
  let announced = false;
  let everListened = false;
  let failedStarts = 0;
  let delay = 0;
  let pendingRestarts = 0;
  const started = new Map<Worker, number>();
  const listening = new Set<Worker>();
  // Each worker accepts its own connections from the shared socket (the OS balances them),
  // instead of the primary accepting and handing them over: a connection handed to a worker
  // that dies during the handover stays open in the primary with nobody to answer it. This
  // way a connection lives in exactly one process and dies with it.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const living = () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
  // Only workers that listen are asked for their metrics: one still starting has not shared its registry yet.
  const stopAnsweringMetrics = answerMetricsRequests(() => listening, warn);
  return new Promise<number>((resolve) => {
    // The code the primary exits with once every worker is gone: non-zero only when it gave up.
    let exitCode = 0;
    const finishIfDrained = () => {
      if (living().length === 0 && pendingRestarts === 0) resolve(exitCode);
    };
    const fork = () => {
      const worker = cluster.fork();
      started.set(worker, Date.now());
      // An IPC send to a worker that just died fails on the worker object; unhandled, it would kill the primary.
      worker.on('error', (error: Error) => warn(`worker ${worker.process.pid}: ${error.message}`));
      worker.on('message', (message: ListeningMessage) => {
        if (message?.type !== 'loom:listening') return;
        listening.add(worker);
        everListened = true;
        if (!announced) {
          announced = true;
          options.onListening(message.url, options.workers, message.grpcAddress);
        }
      });
    };
    cluster.on('exit', (worker, code, signal) => {
      const wasListening = listening.delete(worker);
      const lived = Date.now() - (started.get(worker) ?? Date.now());
      started.delete(worker);
      if (stopping) return finishIfDrained();
      options.onWorkerExit?.(worker.process.pid, code, signal);
      // Before any worker has listened, failures are the configuration's (a bad model, a port
      // in use): retrying will not help, so give up once every first worker has failed.
      if (!everListened && !wasListening && ++failedStarts >= options.workers) {
        stopping = true;
        // Non-zero even when the last of the others exits cleanly after this (a busy port is an error).
        exitCode = code || 1;
        for (const other of living()) other.kill('SIGTERM');
        return finishIfDrained();
      }
      delay = lived >= HEALTHY_LIFETIME_MS ? 0 : Math.min(backoff.maxMs, Math.max(backoff.initialMs, delay * 2));
      if (delay === 0) return fork();
      pendingRestarts++;
      setTimeout(() => {
        pendingRestarts--;
        if (stopping) return finishIfDrained();
        fork();
      }, delay);
    });
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const worker of living()) {
        // A listening worker drains on the message; one still starting has not installed its
        // handler yet (the message would be lost) and has nothing to drain: it gets SIGTERM.
        if (listening.has(worker) && worker.isConnected()) worker.send({ type: 'loom:shutdown' }, undefined, undefined, () => {});
        else worker.process.kill('SIGTERM');
      }
      finishIfDrained();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    for (let i = 0; i < options.workers; i++) fork();
  }).finally(stopAnsweringMetrics);
}

/**
 * In a worker (or a single process): starts the server, tells the primary where it
 * listens, and on SIGTERM, SIGINT or the primary's shutdown message closes it gracefully.
 * Resolves when the server has closed.
 */
export async function serveInWorker(start: () => Promise<{ url: string; grpcAddress?: string; close(): Promise<void> }>, onStarted?: (url: string, grpcAddress?: string) => void): Promise<void> {
  const server = await start();
  if (cluster.isWorker) process.send?.({ type: 'loom:listening', url: server.url, grpcAddress: server.grpcAddress } satisfies ListeningMessage, undefined, undefined, () => {});
  else onStarted?.(server.url, server.grpcAddress);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      process.off('message', onMessage);
      process.off('disconnect', done);
      resolve();
    };
    const onMessage = (message: { type?: string }) => {
      if (message?.type === 'loom:shutdown') done();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    process.on('message', onMessage);
    // The primary is gone (its IPC channel closed): drain and exit rather than serve unsupervised.
    if (cluster.isWorker) process.once('disconnect', done);
  });
  await server.close();
}

/**
 * A close for a server's Fastify app that drains it, in a worker or a single process.
 * Under the cluster the listening socket is shared: connections the kernel has completed
 * but no worker has accepted yet wait on it, and would be reset once every worker closed.
 * So a draining worker keeps accepting until none has arrived for a moment (at most 2 s).
 * Fastify's close then waits for in-flight requests; a keep-alive connection that finishes
 * its request after close began would otherwise linger until the keep-alive timeout, so
 * idle ones are closed as they appear. Call it before the app listens.
 */
export function drainingClose(app: FastifyInstance): () => Promise<void> {
  let lastConnection = 0;
  if (cluster.isWorker) app.server.on('connection', () => (lastConnection = Date.now()));
  const acceptStragglers = async () => {
    const until = Date.now() + 2000;
    do await new Promise((resolve) => setTimeout(resolve, 50));
    while (Date.now() - lastConnection < 150 && Date.now() < until);
  };
  return async () => {
    if (cluster.isWorker && app.server.listening) await acceptStragglers();
    // Safe for a connection accepted but not yet parsed: Node (>= 18.0; lib/_http_server.js and
    // src/node_http_parser.cc) stamps a connection's parser with a message start when the
    // connection is accepted, and `closeIdleConnections` closes only parsers whose start is 0,
    // which only a completed request sets (until the next request's first byte is parsed); a
    // connection whose response is still being written is skipped too. So only keep-alive
    // connections between requests are closed, which HTTP clients expect of any server (tried
    // on Node 20: a connection that has sent nothing survives it; after one answered request it does not).
    const idle = setInterval(() => app.server.closeIdleConnections(), 25);
    try {
      await app.close();
    } finally {
      clearInterval(idle);
    }
  };
}
