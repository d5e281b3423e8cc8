/**
 * The model server's Prometheus metrics (prom-client), in one registry per server so
 * several servers in one process (tests) keep apart. The per-request metrics (latency,
 * requests, batch sizes) are plain arrays bound once per model version and read by
 * prom-client at scrape time: the hot path does no label hashing.
 * Under `--workers N` each worker has its own registry and `/metrics` answers with all
 * workers' summed (`http/cluster-metrics.ts`, through `metricsPlugin`).
 *
 * Usage: `const metrics = new ServingMetrics(); const m = metrics.model('flights', 3); m.observe(0.0004);`
 */
import { Counter, Gauge, Registry } from 'prom-client';

/** Latency buckets (seconds) from 100 µs: a served ONNX model answers in well under a millisecond. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** The `model` label of errors for names this server does not serve (bounded: clients choose those names). */
export const UNKNOWN_MODEL = '(unknown)';
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
  private readonly errors: Counter<'model' | 'status'>;
  private readonly latency: PlainHistogram;
  private readonly batchSize: PlainHistogram;
  private readonly swaps: Counter<'model' | 'result'>;
  private readonly dropped: Counter;
  private readonly logged: Counter;
  private readonly loaded: Gauge<'model' | 'version' | 'role'>;
  private readonly children = new Map<string, ModelMetrics>();
  /** Model names the server was configured with: the only values the error counter's `model` label takes. */
  private served = new Set<string>();

  constructor() {
    const registers = [this.registry];
    // Per-request metrics are plain arrays read at scrape time (prom-client hashes the labels on every observe).
    this.latency = new PlainHistogram('loom_serve_request_duration_seconds', 'Inference latency in the server, per model and version', LATENCY_BUCKETS);
    this.batchSize = new PlainHistogram('loom_serve_batch_rows', 'Rows per ONNX Runtime run (micro-batches coalesce concurrent requests)', BATCH_BUCKETS);
    // Every answered request is one latency observation: the requests counter is the histogram's count.
    this.registry.registerMetric(countOf(this.latency, 'loom_serve_requests_total', 'Inference requests answered, per model and version') as never);
    this.errors = new Counter({ name: 'loom_serve_request_errors_total', help: 'Inference requests that failed, per model and HTTP status', labelNames: ['model', 'status'], registers });
    this.swaps = new Counter({ name: 'loom_serve_swaps_total', help: 'Hot swaps of a served model, by result (ok or failed)', labelNames: ['model', 'result'], registers });
    this.dropped = new Counter({ name: 'loom_serve_prediction_log_dropped_total', help: 'Prediction log records dropped because the log queue was full or a write failed', registers });
    this.logged = new Counter({ name: 'loom_serve_prediction_log_written_total', help: 'Prediction log records written', registers });
    // Every worker loads the same versions: across workers the gauge is their max (1), not their sum (N).
    this.loaded = new Gauge({ name: 'loom_serve_model_loaded', help: 'Model versions loaded and serving (1), by role', labelNames: ['model', 'version', 'role'], registers, aggregator: 'max' });
    this.registry.registerMetric(this.latency as never);
    this.registry.registerMetric(this.batchSize as never);
  }

  model(name: string, version: number): ModelMetrics {
    const key = `${name}\u0000${version}`;
    let child = this.children.get(key);
    if (!child) {
      const labels = { model: name, version: String(version) };
      const latency = this.latency.series(labels);
      const batchSize = this.batchSize.series(labels);
      const latencyBounds = this.latency.bounds;
      const batchBounds = this.batchSize.bounds;
      child = {
        observe(seconds) {
          observeInto(latency, latencyBounds, seconds);
        },
        batch(rows) {
          observeInto(batchSize, batchBounds, rows);
        },
      };
      this.children.set(key, child);
    }
    return child;
  }

  /** The model names requests may be counted under; any other name a client sends counts as `model="(unknown)"`. */
  setServed(names: Iterable<string>): void {
    this.served = new Set(names);
  }

  /** One failed request for `model` (as the client named it; '' when none), by HTTP status. */
  error(model: string, status: number): void {
    this.errors.inc({ model: model === '' || this.served.has(model) ? model : UNKNOWN_MODEL, status: String(status) });
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
}

/** One label set of a `PlainHistogram`: per-bucket (not cumulative) counts, the last slot for +Inf. */
interface Series {
  labels: Record<string, string>;
  counts: Float64Array;
  sum: number;
  count: number;
}

function observeInto(series: Series, bounds: readonly number[], value: number): void {
  let bucket = 0;
  while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
  series.counts[bucket]!++;
  series.sum += value;
  series.count++;
}

/**
 * A Prometheus histogram whose observe is a few array writes, exposed to prom-client as a
 * registered metric object (`get()` in prom-client's value format, so text exposition and
 * cluster aggregation treat it like its own histograms).
 */
class PlainHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}

  /** The series for `labels`, made on first use and kept. */
  series(labels: Record<string, string>): Series {
    const key = JSON.stringify(labels);
    let series = this.all.get(key);
    if (!series) {
      series = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.all.set(key, series);
    }
    return series;
  }

  each(): Iterable<Series> {
    return this.all.values();
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.all.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.all.clear();
  }
}

/** A counter that is a histogram's count per label set (requests answered = latency observations). */
function countOf(histogram: PlainHistogram, name: string, help: string) {
  return {
    name,
    help,
    type: 'counter',
    aggregator: 'sum',
    async get() {
      return { name, help, type: 'counter', aggregator: 'sum', values: [...histogram.each()].map((series) => ({ labels: series.labels, value: series.count })) };
    },
    reset() {},
  };
}
