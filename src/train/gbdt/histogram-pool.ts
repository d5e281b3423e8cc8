/**
 * Histograms (and the gradients they sum) built on several threads (as LightGBM's `num_threads`) with results that do not
 * depend on how many there are. A large leaf's rows are cut into a number of shards that
 * depends only on the leaf's size and the matrix's shape; each shard gets its own histogram,
 * and the shards are summed in shard order. Threads (the calling one and `threads - 1` workers) claim shards one
 * at a time from a shared counter, so which thread builds a shard never changes a bit of the
 * result, a slow or busy worker only builds fewer shards, and a worker that never started
 * leaves every shard to the calling thread.
 *
 * The same threads compute each tree's gradients and hessians (one `Math.exp` a row or more):
 * rows are cut into shards by the row count alone, and each row's values depend on its own
 * scores and label only, so these too are the same bits for any number of threads. And they
 * partition a split leaf's rows in shards, merged in order (partition.ts): the same row order.
 *
 * Everything the workers read lives in SharedArrayBuffers: the binned rows, the row index,
 * the gradients and hessians, the scores and labels, the shard histograms and a small control array.
 */
import { Worker } from 'node:worker_threads';
import type { BinnedMatrix } from './binning.js';
import { STRIDE, accumulateRows, fillDefaultBins, histogramLength, type LeafTotals } from './histogram.js';
import { objectiveFunctions, type Objective, type ObjectiveFunctions } from './objectives.js';
import { mergePartitions, partitionRange, partitionShardCount } from './partition.js';

/** Most shards of a leaf, and so most threads worth running. */
export const MAX_SHARDS = 16;
/** Fewest rows worth sharding: below, waking workers and summing shards cost more than they save. */
const SHARDED_ROWS = 1 << 13;
/** Rows of a gradient shard (at most GRADIENT_SHARDS shards): enough to outweigh a claim. */
const GRADIENT_SHARD_ROWS = 1 << 12;
const GRADIENT_SHARDS = 32;

// The control array: CLAIM holds generation << 6 | next shard, so a shard is claimed for one
// task only (a late worker's claim on a finished task fails); a task's START, END and COUNT
// (and its KIND and OUTPUT) are written before its generation is published, and stay until
// all its shards are DONE.
const GENERATION = 0;
const CLAIM = 1;
const DONE = 2;
const COUNT = 3;
const START = 4;
const END = 5;
const STOP = 6;
/** What a task's shards compute: HISTOGRAM, GRADIENTS (of output OUTPUT) or PARTITION (by group OUTPUT's bins). */
const KIND = 7;
const OUTPUT = 8;
const CONTROL_LENGTH = 10;
const HISTOGRAM = 0;
const GRADIENTS = 1;
const PARTITION = 2;
const GENERATION_MASK = (1 << 24) - 1;
/** Checks of the done count before the calling thread sleeps on it (some tens of microseconds). */
const SPINS = 10_000;

/** What a worker is sent once: views over the shared buffers. */
export interface SharedHistogramState {
  control: Int32Array;
  bins: Uint16Array | Uint32Array;
  groups: number;
  rowIndex: Uint32Array;
  gradient: Float64Array;
  hessian: Float64Array;
  /** One histogram per shard (as many as the root has), back to back. */
  shardHistograms: Float64Array;
  /** Per shard: gradient sum, hessian sum. */
  shardTotals: Float64Array;
  histogramLength: number;
  /** Partitioning: group bins column-major, per global bin whether it goes left, scratch rows, per shard rows gone left. */
  binsByGroup: Uint16Array | Uint32Array;
  rows: number;
  goesLeft: Uint8Array;
  scratch: Uint32Array;
  shardLefts: Int32Array;
  /** What the gradients are computed from, when the pool computes them. */
  gradientSource: GradientSource | undefined;
}

/** The objective and the shared scores and labels that each tree's gradients come from. */
export interface GradientSource {
  objective: Objective;
  numClasses: number;
  /** Raw scores, [rows, outputs] row-major (shared memory). */
  scores: Float64Array;
  /** One label per row (shared memory). */
  labels: Float32Array;
}

/** Gradient shards of `rows` rows: a function of the row count alone. */
export function gradientShardCount(rows: number): number {
  return Math.max(1, Math.min(GRADIENT_SHARDS, Math.floor(rows / GRADIENT_SHARD_ROWS)));
}

/**
 * Number of shards of a leaf of `rows` rows: a function of the leaf and the matrix's shape
 * alone. Many small shards keep every thread busy to the end (a thread that was slow to wake
 * takes a small piece), but each costs a pass over the histogram to sum: that is kept under
 * an eighth of the work of adding the rows.
 */
export function shardCount(rows: number, groups: number, histogramLength: number): number {
  if (rows < SHARDED_ROWS) return 1;
  return Math.max(1, Math.min(MAX_SHARDS, Math.floor((rows * groups * STRIDE) / (8 * histogramLength))));
}

/** A Float64Array over shared memory, which worker threads can read and write. */
export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

/**
 * Claims and builds shards of the current task until none is left. Run by the calling thread
 * and by every worker; returns when no shard of `generation` remains to claim.
 */
export function buildClaimedShards(state: SharedHistogramState, generation: number, objective: ObjectiveFunctions | undefined): void {
  const { control } = state;
  for (;;) {
    const claim = Atomics.load(control, CLAIM);
    const shard = claim & 63;
    if (claim >>> 6 !== generation || shard >= Atomics.load(control, COUNT)) return;
    if (Atomics.compareExchange(control, CLAIM, claim, claim + 1) !== claim) continue;
    const start = control[START];
    const rows = control[END] - start;
    const count = control[COUNT];
    const from = start + Math.floor((rows * shard) / count);
    const to = start + Math.floor((rows * (shard + 1)) / count);
    if (control[KIND] === GRADIENTS) {
      const source = state.gradientSource as GradientSource;
      (objective as ObjectiveFunctions).gradients(source.scores, source.labels, control[OUTPUT], state.gradient, state.hessian, from, to);
    } else if (control[KIND] === PARTITION) {
      state.shardLefts[shard] = partitionShard(state, control[OUTPUT], from, to);
    } else {
      const out = state.shardHistograms.subarray(shard * state.histogramLength, (shard + 1) * state.histogramLength);
      out.fill(0);
      const [g, h] = accumulateRows(state.bins, state.groups, state.rowIndex, from, to, state.gradient, state.hessian, out);
      state.shardTotals[shard * 2] = g;
      state.shardTotals[shard * 2 + 1] = h;
    }
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}

function partitionShard(state: SharedHistogramState, group: number, from: number, to: number): number {
  const column = state.binsByGroup.subarray(group * state.rows, (group + 1) * state.rows);
  return partitionRange(state.rowIndex, state.scratch, column, state.goesLeft, from, to);
}

const WORKER_URL = new URL('./histogram-worker.mjs', import.meta.url);

/** Builds leaf histograms over `rowIndex`, on this thread and `threads - 1` workers. */
export class HistogramBuilder {
  private readonly state: SharedHistogramState;
  private readonly workers: Worker[] = [];
  private generation = 0;
  /** This thread's instance (a multiclass objective keeps per-thread scratch). */
  private readonly objective: ObjectiveFunctions | undefined;

  constructor(
    private readonly binned: BinnedMatrix,
    rowIndex: Uint32Array,
    gradient: Float64Array,
    hessian: Float64Array,
    threads: number,
    gradientSource?: GradientSource,
  ) {
    const length = histogramLength(binned);
    this.state = {
      control: new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * Int32Array.BYTES_PER_ELEMENT)),
      bins: binned.bins,
      groups: binned.groups,
      rowIndex,
      gradient,
      hessian,
      // The root has the most rows, so the most shards.
      shardHistograms: sharedFloat64(shardCount(binned.rows, binned.groups, length) * length),
      shardTotals: sharedFloat64(MAX_SHARDS * 2),
      histogramLength: length,
      binsByGroup: binned.binsByGroup,
      rows: binned.rows,
      goesLeft: new Uint8Array(new SharedArrayBuffer(binned.totalBins + 1)),
      scratch: new Uint32Array(new SharedArrayBuffer(binned.rows * Uint32Array.BYTES_PER_ELEMENT)),
      shardLefts: new Int32Array(new SharedArrayBuffer(64 * Int32Array.BYTES_PER_ELEMENT)),
      gradientSource,
    };
    this.goesLeft = this.state.goesLeft;
    this.objective = gradientSource && objectiveFunctions(gradientSource.objective, gradientSource.numClasses);
    const sources = gradientSource ? [gradientSource.scores, gradientSource.labels] : [];
    const shared = [binned.bins, binned.binsByGroup, rowIndex, gradient, hessian, ...sources].every((array) => array.buffer instanceof SharedArrayBuffer);
    // Workers only when some leaf (the root first) is big enough to be sharded.
    const shards = shardCount(binned.rows, binned.groups, length);
    for (let w = 1; shared && w < Math.min(threads, shards); w++) {
      // No inherited execArgv: the bootstrap registers tsx itself, however the parent was started.
      const worker = new Worker(WORKER_URL, { workerData: this.state, execArgv: [] });
      worker.unref();
      // A failed worker claims no shards: this thread builds them all, with the same result.
      worker.on('error', () => undefined);
      this.workers.push(worker);
    }
  }

  /** The histogram of rows rowIndex[start..end) into `out`, and their totals. */
  build(start: number, end: number, out: Float64Array): LeafTotals {
    const { state } = this;
    const count = shardCount(end - start, state.groups, state.histogramLength);
    let g: number;
    let h: number;
    if (count === 1) {
      out.fill(0);
      [g, h] = accumulateRows(state.bins, state.groups, state.rowIndex, start, end, state.gradient, state.hessian, out);
    } else {
      this.runShards(HISTOGRAM, 0, start, end, count);
      const { shardHistograms, shardTotals, histogramLength: length } = state;
      out.set(shardHistograms.subarray(0, length));
      for (let s = 1; s < count; s++) {
        const offset = s * length;
        for (let k = 0; k < length; k++) out[k] += shardHistograms[offset + k];
      }
      g = shardTotals[0];
      h = shardTotals[1];
      for (let s = 1; s < count; s++) {
        g += shardTotals[s * 2];
        h += shardTotals[s * 2 + 1];
      }
    }
    const totals = { gradient: g, hessian: h, count: end - start };
    fillDefaultBins(this.binned, out, totals);
    return totals;
  }

  /** Fills the shared gradients and hessians of output `k` for every row from the gradient source. */
  gradients(k: number): void {
    const source = this.state.gradientSource;
    if (!source) throw new Error('this pool was built without a gradient source');
    const rows = source.labels.length;
    const count = gradientShardCount(rows);
    if (count === 1 || this.workers.length === 0) {
      (this.objective as ObjectiveFunctions).gradients(source.scores, source.labels, k, this.state.gradient, this.state.hessian, 0, rows);
    } else {
      this.runShards(GRADIENTS, k, 0, rows, count);
    }
  }

  /** Per global bin (and the spare one): whether the split being applied sends it left. Fill before `partition`. */
  readonly goesLeft: Uint8Array;

  /**
   * Moves rows of rowIndex[start, end) going left (by `goesLeft` of their bin in `group`) to the
   * front, keeping order; returns the first right row's position.
   */
  partition(start: number, end: number, group: number): number {
    const { state } = this;
    const count = this.workers.length === 0 ? 1 : partitionShardCount(end - start);
    if (count === 1) state.shardLefts[0] = partitionShard(state, group, start, end);
    else this.runShards(PARTITION, group, start, end, count);
    return mergePartitions(state.rowIndex, state.scratch, state.shardLefts, start, end, count);
  }

  private runShards(kind: number, output: number, start: number, end: number, count: number): void {
    const { control } = this.state;
    this.generation = (this.generation + 1) & GENERATION_MASK;
    control[KIND] = kind;
    control[OUTPUT] = output;
    control[START] = start;
    control[END] = end;
    control[COUNT] = count;
    Atomics.store(control, DONE, 0);
    Atomics.store(control, CLAIM, this.generation << 6);
    Atomics.store(control, GENERATION, this.generation);
    Atomics.notify(control, GENERATION);
    buildClaimedShards(this.state, this.generation, this.objective);
    // Shards claimed by workers may still be running: wait for every one to be done, spinning
    // a little first, since going to sleep and being woken costs more than a shard takes.
    let spins = 0;
    for (let done = Atomics.load(control, DONE); done < count; done = Atomics.load(control, DONE)) {
      if (++spins > SPINS) Atomics.wait(control, DONE, done, 50);
    }
  }

  /** Stops the workers (training is over). */
  async close(): Promise<void> {
    Atomics.store(this.state.control, STOP, 1);
    Atomics.add(this.state.control, GENERATION, 1);
    Atomics.notify(this.state.control, GENERATION);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** A worker's loop: wait for a task's generation, build shards, until told to stop. */
export function serveShards(state: SharedHistogramState): void {
  const { control } = state;
  const source = state.gradientSource;
  const objective = source && objectiveFunctions(source.objective, source.numClasses);
  let seen = Atomics.load(control, GENERATION);
  // A task published before this worker started may still have shards to claim.
  buildClaimedShards(state, seen, objective);
  for (;;) {
    Atomics.wait(control, GENERATION, seen);
    if (Atomics.load(control, STOP) === 1) return;
    seen = Atomics.load(control, GENERATION);
    buildClaimedShards(state, seen, objective);
  }
}
