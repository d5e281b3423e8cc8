/**
 * The model server's Prometheus metrics (prom-client), in one registry per server so
 * several servers in one process (tests) keep apart. Per-model label children are
 * looked up once per model version and cached: the hot path does no label hashing.
 * Under `--workers N` each worker has its own registry and `/metrics` asks the primary
 * to aggregate all workers' (prom-client's AggregatorRegistry over IPC).
 *
 * Usage: `const metrics = new ServingMetrics(); const m = metrics.model('flights', 3); m.observe(0.0004);`
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets (seconds) from 100 µs: a served ONNX model answers in well under a millisecond. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024];

/** Metric children for one model version, bound once. */
export interface ModelMetrics {
  /** One answered request and how long it took, in seconds. */
  observe(seconds: number): void;
  /** One run of the model over `rows` rows (a micro-batch or a single request). */
  batch(rows: number): void;
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'model' | 'version'>;
  private readonly errors: Counter<'model' | 'status'>;
  private readonly latency: Histogram<'model' | 'version'>;
  private readonly batchSize: Histogram<'model' | 'version'>;
  private readonly swaps: Counter<'model' | 'result'>;
  private readonly dropped: Counter;
  private readonly logged: Counter;
  private readonly loaded: Gauge<'model' | 'version' | 'role'>;
  private readonly children = new Map<string, ModelMetrics>();

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'loom_serve_requests_total', help: 'Inference requests answered, per model and version', labelNames: ['model', 'version'], registers });
    this.errors = new Counter({ name: 'loom_serve_request_errors_total', help: 'Inference requests that failed, per model and HTTP status', labelNames: ['model', 'status'], registers });
    this.latency = new Histogram({ name: 'loom_serve_request_duration_seconds', help: 'Inference latency in the server, per model and version', labelNames: ['model', 'version'], buckets: LATENCY_BUCKETS, registers });
    this.batchSize = new Histogram({ name: 'loom_serve_batch_rows', help: 'Rows per ONNX Runtime run (micro-batches coalesce concurrent requests)', labelNames: ['model', 'version'], buckets: BATCH_BUCKETS, registers });
    this.swaps = new Counter({ name: 'loom_serve_swaps_total', help: 'Hot swaps of a served model, by result (ok or failed)', labelNames: ['model', 'result'], registers });
    this.dropped = new Counter({ name: 'loom_serve_prediction_log_dropped_total', help: 'Prediction log records dropped because the log queue was full or a write failed', registers });
    this.logged = new Counter({ name: 'loom_serve_prediction_log_written_total', help: 'Prediction log records written', registers });
    this.loaded = new Gauge({ name: 'loom_serve_model_loaded', help: 'Model versions loaded and serving (1), by role', labelNames: ['model', 'version', 'role'], registers });
  }

  model(name: string, version: number): ModelMetrics {
    const key = `${name}\u0000${version}`;
    let child = this.children.get(key);
    if (!child) {
      const labels = { model: name, version: String(version) };
      const requests = this.requests.labels(labels);
      const latency = this.latency.labels(labels);
      const batchSize = this.batchSize.labels(labels);
      child = {
        observe(seconds) {
          requests.inc();
          latency.observe(seconds);
        },
        batch(rows) {
          batchSize.observe(rows);
        },
      };
      this.children.set(key, child);
    }
    return child;
  }

  error(model: string, status: number): void {
    this.errors.inc({ model, status: String(status) });
  }

  swap(model: string, result: 'ok' | 'failed'): void {
    this.swaps.inc({ model, result });
  }

  droppedLogRecords(count: number): void {
    if (count > 0) this.dropped.inc(count);
  }

  wroteLogRecords(count: number): void {
    if (count > 0) this.logged.inc(count);
  }

  setLoaded(model: string, version: number, role: string, loaded: boolean): void {
    const labels = { model, version: String(version), role };
    if (loaded) this.loaded.set(labels, 1);
    else this.loaded.remove(labels);
  }

  /** The text exposition, across every worker when running under the cluster. */
  async text(): Promise<{ contentType: string; body: string }> {
    if (cluster.isWorker && process.send) {
      const body = await clusterMetrics();
      if (body !== undefined) return { contentType: this.registry.contentType, body };
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Lets the primary collect this registry's metrics (call in each worker). */
  joinCluster(): void {
    // Constructing one installs prom-client's worker-side listener for the primary's requests.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([this.registry]);
  }
}

let nextRequest = 0;

/** Asks the primary for every worker's metrics, aggregated; undefined if it does not answer in time. */
function clusterMetrics(): Promise<string | undefined> {
  const id = `${process.pid}-${nextRequest++}`;
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), 2000);
    const onMessage = (message: unknown) => {
      const reply = message as { type?: string; id?: string; body?: string };
      if (reply?.type === 'loom:metrics' && reply.id === id) finish(reply.body);
    };
    const finish = (body: string | undefined) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(body);
    };
    process.on('message', onMessage);
    process.send!({ type: 'loom:metrics-request', id });
  });
}

/** In the primary: answers workers' metrics requests with the aggregate of all workers. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: string }) => {
    if (message?.type !== 'loom:metrics-request') return;
    aggregator.clusterMetrics().then(
      (body) => worker.send({ type: 'loom:metrics', id: message.id, body }),
      () => worker.send({ type: 'loom:metrics', id: message.id, body: undefined }),
    );
  });
}
