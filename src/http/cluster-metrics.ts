/**
 * `/metrics` across the workers of `--workers N`, for both servers: whichever worker takes a
 * scrape answers with every worker's per-process metrics (request counts, latencies) summed.
 * The worker that took the scrape asks the primary; the primary asks every listening worker
 * for its registries' values (prom-client's JSON form) and merges them with prom-client's
 * `AggregatorRegistry.aggregate` (each metric's own `aggregator`, a sum unless it says otherwise).
 *
 * Not prom-client's `clusterMetrics()`: it sends to workers without a callback (an IPC error
 * to a dying worker surfaced in the primary: issue 12's crash), asks workers that may not
 * listen for the request yet, and waits 5 s for one that died after being asked. Here every
 * send is checked, only workers that have started their server are asked, a worker that
 * disconnects or does not answer within `COLLECT_TIMEOUT_MS` is missing, and a scrape with a
 * missing worker is refused (503, its reason, Retry-After) rather than answered with a partial
 * sum: Prometheus would read every counter's drop as a reset and its return as a burst.
 *
 * Usage: in the primary `const stop = answerMetricsRequests(() => listeningWorkers, warn)`;
 * in a worker, `shareMetrics(registry)` before listening and `await clusterMetricsText()` per scrape
 * (`metricsPlugin` does both).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { LoomError } from '../core/errors.js';

/** How long the primary waits for the workers' values before it names the missing ones. */
export const COLLECT_TIMEOUT_MS = 3000;
/** How long a worker waits for the primary: its collection, plus time to pass the answer on. */
const WORKER_WAIT_MS = COLLECT_TIMEOUT_MS + 2000;
/** `Retry-After` (seconds) of a scrape refused because a worker was missing: a restarted worker listens within moments. */
export const METRICS_RETRY_AFTER_SECONDS = 1;

type RegistryValues = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** A worker asks the primary for the cluster's metrics (one scrape). */
interface ScrapeRequest {
  type: 'loom:metrics-request';
  id: string;
}
/** The primary's answer to a scrape: the exposition, or why there is none. */
interface ScrapeAnswer {
  type: 'loom:metrics';
  id: string;
  body?: string;
  /** The workers whose values did not arrive, with why. */
  missing?: string;
  /** The values arrived but could not be merged. */
  failed?: string;
}
/** The primary asks a worker for its values. */
interface CollectRequest {
  type: 'loom:metrics-collect';
  id: number;
}
/** A worker's values (one array per shared registry), or the error reading them. */
interface CollectAnswer {
  type: 'loom:metrics-collected';
  id: number;
  values?: RegistryValues[];
  error?: string;
}

// ---- in a worker ----

const sharedRegistries = new Set<Registry>();

function answerCollect(message: unknown): void {
  const request = message as Partial<CollectRequest> | null;
  if (request?.type !== 'loom:metrics-collect' || typeof request.id !== 'number') return;
  const id = request.id;
  Promise.all([...sharedRegistries].map((registry) => registry.getMetricsAsJSON())).then(
    (values) => send({ type: 'loom:metrics-collected', id, values }),
    (error: unknown) => send({ type: 'loom:metrics-collected', id, error: error instanceof Error ? error.message : String(error) }),
  );
}

/** Sends to the primary; a primary that is gone is no error here (the worker is draining anyway). */
function send(message: CollectAnswer | ScrapeRequest, onError?: (error: Error) => void): void {
  if (!process.connected) return onError?.(new Error('the IPC channel to the primary is closed'));
  process.send!(message, undefined, undefined, (error: Error | null) => {
    if (error) onError?.(error);
  });
}

/**
 * In a worker: lets the primary collect `registry`'s values for every scrape. Call before the
 * server listens (the primary asks a worker only once it has said it listens). Returns the undo.
 */
export function shareMetrics(registry: Registry): () => void {
  if (sharedRegistries.size === 0) process.on('message', answerCollect);
  sharedRegistries.add(registry);
  return () => {
    if (!sharedRegistries.delete(registry) || sharedRegistries.size > 0) return;
    // No listener left keeps the IPC channel referenced once the server has closed.
    process.off('message', answerCollect);
  };
}

let nextScrape = 0;

/**
 * In a worker: the exposition of every worker's shared registries, summed by the primary.
 * Rejects with a LoomError UNAVAILABLE naming the missing workers (or the silent primary),
 * never waits longer than `WORKER_WAIT_MS`.
 */
export function clusterMetricsText(): Promise<string> {
  const id = `${process.pid}-${nextScrape++}`;
  return new Promise((resolve, reject) => {
    const finish = (outcome: string | LoomError) => {
      clearTimeout(timer);
      process.off('message', onAnswer);
      if (typeof outcome === 'string') resolve(outcome);
      else reject(outcome);
    };
    const unavailable = (why: string) =>
      new LoomError('UNAVAILABLE', `metrics are incomplete: ${why}`, {
        fix: `scrape again after ${METRICS_RETRY_AFTER_SECONDS} s (the Retry-After header); a worker that died is replaced and answers once it listens`,
        retryable: true,
      });
    const onAnswer = (message: unknown) => {
      const answer = message as Partial<ScrapeAnswer> | null;
      if (answer?.type !== 'loom:metrics' || answer.id !== id) return;
      if (typeof answer.body === 'string') return finish(answer.body);
      if (answer.missing) return finish(unavailable(`no values from ${answer.missing}`));
      finish(new LoomError('INTERNAL', `the workers' metrics could not be merged: ${answer.failed ?? 'no reason given'}`));
    };
    const timer = setTimeout(() => finish(unavailable(`the cluster's primary did not answer within ${WORKER_WAIT_MS} ms`)), WORKER_WAIT_MS);
    process.on('message', onAnswer);
    send({ type: 'loom:metrics-request', id }, (error) => finish(unavailable(`the cluster's primary is unreachable (${error.message})`)));
  });
}

// ---- in the primary ----

/**
 * In the primary: answers workers' scrapes with the aggregate of `listening()` workers' values.
 * A worker may die at any moment: every send is checked and a failure makes that worker
 * missing (or, for the worker that asked, is reported to `warn`), never thrown: an unhandled
 * IPC error would take the primary down. Returns the function that stops answering.
 */
export function answerMetricsRequests(listening: () => Iterable<Worker>, warn: (message: string) => void, timeoutMs = COLLECT_TIMEOUT_MS): () => void {
  const collections = new Map<number, { lost(worker: Worker, why: string): void; answered(worker: Worker, answer: Partial<CollectAnswer>): void }>();
  let nextCollection = 0;

  const reply = (worker: Worker, answer: ScrapeAnswer) => {
    if (!worker.isConnected()) return;
    worker.send(answer, undefined, undefined, (error) => {
      if (error) warn(`metrics for worker ${worker.process.pid} not sent: ${error.message}`);
    });
  };

  const collect = (requester: Worker, scrapeId: string) => {
    const id = nextCollection++;
    const waiting = new Set([...listening()].filter((worker) => worker.isConnected()));
    const values: RegistryValues[] = [];
    const missing: string[] = [];
    const settle = () => {
      if (waiting.size > 0) return;
      clearTimeout(timer);
      collections.delete(id);
      if (missing.length > 0) return reply(requester, { type: 'loom:metrics', id: scrapeId, missing: missing.join('; ') });
      // Each metric merged by its own `aggregator` (prom-client's; a sum unless the metric says otherwise).
      Promise.resolve()
        .then(() => AggregatorRegistry.aggregate(values).metrics())
        .then(
          (body) => reply(requester, { type: 'loom:metrics', id: scrapeId, body }),
          (error: unknown) => reply(requester, { type: 'loom:metrics', id: scrapeId, failed: error instanceof Error ? error.message : String(error) }),
        );
    };
    const lost = (worker: Worker, why: string) => {
      if (!waiting.delete(worker)) return;
      missing.push(`worker ${worker.process.pid} (${why})`);
      settle();
    };
    const timer = setTimeout(() => {
      for (const worker of [...waiting]) lost(worker, `no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    collections.set(id, {
      lost,
      answered(worker, answer) {
        if (!waiting.has(worker)) return;
        if (answer.error !== undefined || !Array.isArray(answer.values)) return lost(worker, `its registry failed: ${answer.error ?? 'no values'}`);
        waiting.delete(worker);
        values.push(...answer.values);
        settle();
      },
    });
    for (const worker of [...waiting]) {
      worker.send({ type: 'loom:metrics-collect', id } satisfies CollectRequest, undefined, undefined, (error) => {
        if (error) lost(worker, `unreachable: ${error.message}`);
      });
    }
    settle();
  };

  const onMessage = (worker: Worker, message: unknown) => {
    const m = message as { type?: unknown; id?: unknown } | null;
    if (m?.type === 'loom:metrics-request' && typeof m.id === 'string') collect(worker, m.id);
    else if (m?.type === 'loom:metrics-collected' && typeof m.id === 'number') collections.get(m.id)?.answered(worker, m as Partial<CollectAnswer>);
  };
  // A worker that disconnects will not answer: the scrape settles at once instead of at the timeout.
  const onDisconnect = (worker: Worker) => {
    for (const collection of [...collections.values()]) collection.lost(worker, 'exited');
  };
  cluster.on('message', onMessage);
  cluster.on('disconnect', onDisconnect);
  return () => {
    cluster.off('message', onMessage);
    cluster.off('disconnect', onDisconnect);
  };
}
