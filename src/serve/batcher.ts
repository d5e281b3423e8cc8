/**
 * Adaptive micro-batching: requests for one model version that arrive while its session
 * is busy wait in a queue and then run together as ONE ONNX Runtime call, their rows
 * concatenated; each gets its own rows of the outputs back. With nothing queued and a
 * run slot free, a request runs at once, so a single client pays no added latency.
 * `maxWaitMicros` bounds how long a queued request waits for a busy session before its
 * batch is dispatched anyway.
 *
 * Usage: `const batcher = new Batcher(session, compiled, outputs, { maxBatchSize: 64, maxWaitMicros: 500 }); const out = await batcher.run(rows);`
 */
import * as ort from 'onnxruntime-node';
import { MISSING_INT64 } from '../onnx/tensors.js';
import type { TensorSpec } from '../registry/types.js';
import type { CompiledSignature, FeatureRows } from './features.js';

/** Per-model batching knobs. */
export interface BatchConfig {
  /** Most rows one run takes; a request with more rows still runs, alone. */
  maxBatchSize: number;
  /** Longest a queued request waits for a busy session before its batch runs anyway. */
  maxWaitMicros: number;
  /** ONNX Runtime runs in flight at once for this model in one process; default 1. */
  maxConcurrentRuns?: number;
}

export const DEFAULT_BATCH_CONFIG: BatchConfig = { maxBatchSize: 64, maxWaitMicros: 2000, maxConcurrentRuns: 1 };

export type OutputData = number[] | string[] | boolean[];

/** One output of a run for one request: its rows only. */
export interface PredictionOutput {
  name: string;
  type: TensorSpec['type'];
  shape: number[];
  data: OutputData;
}

interface Pending {
  rows: FeatureRows;
  resolve(outputs: PredictionOutput[]): void;
  reject(error: unknown): void;
}

/** The session surface the batcher needs (an `ort.InferenceSession`). */
export interface RunnableSession {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private maxRuns: number;

  constructor(
    private readonly session: RunnableSession,
    private readonly compiled: CompiledSignature,
    private readonly outputs: readonly TensorSpec[],
    private config: BatchConfig,
    /** Called with the row count of every run (for the batch-size histogram). */
    private readonly onRun: (rows: number) => void = () => {},
  ) {
    this.maxRuns = Math.max(1, config.maxConcurrentRuns ?? 1);
  }

  /** Changes the knobs for requests from now on (a deployment changed them). */
  configure(config: BatchConfig): void {
    this.config = config;
    this.maxRuns = Math.max(1, config.maxConcurrentRuns ?? 1);
  }

  get currentConfig(): BatchConfig {
    return this.config;
  }

  /** Requests and rows waiting for a run. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `rows` (alone at once if the session is free, else batched with others) and returns its outputs. */
  run(rows: FeatureRows): Promise<PredictionOutput[]> {
    if (this.running < this.maxRuns && this.queue.length === 0) return this.runNow(rows);
    // The executor is a module function, not a closure per request (see `capture`).
    const promise = new Promise<PredictionOutput[]>(capture);
    this.queue.push({ rows, resolve: captured.resolve!, reject: captured.reject! });
    if (this.running < this.maxRuns) this.flush();
    else this.scheduleFlush();
    return promise;
  }

  /**
   * When the wait is over the queued batch runs beside the busy one: maxWaitMicros bounds the
   * wait, at the cost of one run more in flight than maxConcurrentRuns (never more than that).
   */
  private scheduleFlush(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.queue.length === 0) return;
      if (this.running <= this.maxRuns) this.flush();
      else this.scheduleFlush();
    }, Math.max(1, this.config.maxWaitMicros / 1000));
  }

  private async runNow(rows: FeatureRows): Promise<PredictionOutput[]> {
    this.running++;
    try {
      this.onRun(rows.rowCount);
      const parts = [rows];
      const results = await this.session.run(buildFeeds(this.compiled, parts, rows.rowCount));
      return splitOutputs(this.outputs, results, parts)[0]!;
    } finally {
      this.running--;
      this.afterRun();
    }
  }

  /** A run ended: start the next batch if a slot is free, else make sure the wait timer runs. */
  private afterRun(): void {
    if (this.queue.length === 0) return;
    if (this.running < this.maxRuns) this.flush();
    else this.scheduleFlush();
  }

  /** Takes queued requests up to `maxBatchSize` rows (at least one request) and runs them as one batch. */
  private flush(): void {
    const parts: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (parts.length > 0 && rows + next.rows.rowCount > this.config.maxBatchSize) break;
      parts.push(this.queue.shift()!);
      rows += next.rows.rowCount;
    }
    if (this.queue.length === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    void this.runBatch(parts, rows);
  }

  /** One run for several requests; whatever throws (building feeds, the run, splitting) fails only them. */
  private async runBatch(parts: Pending[], rows: number): Promise<void> {
    this.running++;
    const features = new Array<FeatureRows>(parts.length);
    for (let i = 0; i < parts.length; i++) features[i] = parts[i]!.rows;
    try {
      this.onRun(rows);
      const results = await this.session.run(buildFeeds(this.compiled, features, rows));
      const split = splitOutputs(this.outputs, results, features);
      for (let i = 0; i < parts.length; i++) parts[i]!.resolve(split[i]!);
    } catch (error) {
      for (const part of parts) part.reject(error);
    } finally {
      this.running--;
      this.afterRun();
    }
  }
}

/** Where `capture` leaves a new promise's settle functions; read right after `new Promise(capture)`. */
const captured: { resolve?: (outputs: PredictionOutput[]) => void; reject?: (error: unknown) => void } = {};
function capture(resolve: (outputs: PredictionOutput[]) => void, reject: (error: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** One tensor per input with the rows of every part, in order. Values were checked by `features.ts`. */
export function buildFeeds(compiled: CompiledSignature, parts: readonly FeatureRows[], totalRows: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const inputs = compiled.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const n = totalRows * input.perRow;
    const dims = new Array<number>(input.shape.length);
    for (let d = 0; d < dims.length; d++) dims[d] = d === 0 ? totalRows : Math.max(input.shape[d]!, 1);
    let offset = 0;
    switch (input.type) {
      case 'float32':
      case 'float64': {
        const data = input.type === 'float32' ? new Float32Array(n) : new Float64Array(n);
        for (const part of parts) for (const value of part.columns[i]!) data[offset++] = value === null ? NaN : (value as number);
        feeds[input.name] = new ort.Tensor(input.type, data, dims);
        break;
      }
      case 'int64': {
        const data = new BigInt64Array(n);
        for (const part of parts) {
          for (const value of part.columns[i]!) {
            data[offset++] = value === null ? MISSING_INT64 : typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value as number);
          }
        }
        feeds[input.name] = new ort.Tensor('int64', data, dims);
        break;
      }
      case 'int32': {
        const data = new Int32Array(n);
        for (const part of parts) for (const value of part.columns[i]!) data[offset++] = value as number;
        feeds[input.name] = new ort.Tensor('int32', data, dims);
        break;
      }
      case 'string': {
        const data = new Array<string>(n);
        for (const part of parts) for (const value of part.columns[i]!) data[offset++] = (value as string | null) ?? '';
        feeds[input.name] = new ort.Tensor('string', data, dims);
        break;
      }
      case 'bool': {
        const data = new Uint8Array(n);
        for (const part of parts) for (const value of part.columns[i]!) data[offset++] = value ? 1 : 0;
        feeds[input.name] = new ort.Tensor('bool', data, dims);
        break;
      }
    }
  }
  return feeds;
}

/** Each part's rows of every output, as JSON-ready arrays. */
export function splitOutputs(specs: readonly TensorSpec[], results: Record<string, ort.Tensor>, parts: readonly FeatureRows[]): PredictionOutput[][] {
  const answers = new Array<PredictionOutput[]>(parts.length);
  for (let p = 0; p < parts.length; p++) answers[p] = [];
  for (const spec of specs) {
    const tensor = results[spec.name];
    if (!tensor) continue;
    const dims = tensor.dims;
    const total = dims[0] ?? 1;
    const perRow = total > 0 ? tensor.data.length / total : 0;
    let row = 0;
    for (let p = 0; p < parts.length; p++) {
      const count = parts[p]!.rowCount;
      const shape = new Array<number>(dims.length);
      for (let d = 0; d < dims.length; d++) shape[d] = d === 0 ? count : dims[d]!;
      answers[p]!.push({ name: spec.name, type: spec.type, shape, data: toJsonData(tensor.data, spec.type, row * perRow, (row + count) * perRow) });
      row += count;
    }
  }
  return answers;
}

/** Tensor data as JSON values: int64 as numbers (exact up to 2^53, beyond any label or class id). */
function toJsonData(data: ort.Tensor['data'], type: TensorSpec['type'], start: number, end: number): OutputData {
  if (Array.isArray(data)) return data.slice(start, end) as string[];
  const out = new Array(end - start);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) for (let i = start; i < end; i++) out[i - start] = Number(data[i]);
  // ONNX Runtime holds bool tensors as one byte per element.
  else if (type === 'bool') for (let i = start; i < end; i++) out[i - start] = (data as Uint8Array)[i] !== 0;
  else for (let i = start; i < end; i++) out[i - start] = (data as ArrayLike<number>)[i];
  return out as OutputData;
}
