/**
 * Histograms built on several threads (as LightGBM's `num_threads`) with results that do not
 * depend on how many there are. A large leaf's rows are cut into a number of shards that
 * depends only on the leaf's size and the matrix's shape; each shard gets its own histogram,
 * and the shards are summed in shard order. Threads (the calling one and `threads - 1` workers) claim shards one
 * at a time from a shared counter, so which thread builds a shard never changes a bit of the
 * result, a slow or busy worker only builds fewer shards, and a worker that never started
 * leaves every shard to the calling thread.
 *
 * Everything the workers read lives in SharedArrayBuffers: the binned rows, the row index,
 * the gradients and hessians, the shard histograms and a small control array.
 */
import { Worker } from 'node:worker_threads';
import type { BinnedMatrix } from './binning.js';
import { STRIDE, accumulateRows, fillDefaultBins, histogramLength, type LeafTotals } from './histogram.js';

/** Most shards of a leaf, and so most threads worth running. */
export const MAX_SHARDS = 16;
/** Fewest rows worth sharding: below, waking workers and summing shards cost more than they save. */
const SHARDED_ROWS = 1 << 13;

// The control array: CLAIM holds generation << 6 | next shard, so a shard is claimed for one
// task only (a late worker's claim on a finished task fails); a task's START, END and COUNT
// are written before its generation is published, and stay until all its shards are DONE.
const GENERATION = 0;
const CLAIM = 1;
const DONE = 2;
const COUNT = 3;
const START = 4;
const END = 5;
const STOP = 6;
const CONTROL_LENGTH = 8;
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
export function buildClaimedShards(state: SharedHistogramState, generation: number): void {
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
    const out = state.shardHistograms.subarray(shard * state.histogramLength, (shard + 1) * state.histogramLength);
    out.fill(0);
    const [g, h] = accumulateRows(state.bins, state.groups, state.rowIndex, from, to, state.gradient, state.hessian, out);
    state.shardTotals[shard * 2] = g;
    state.shardTotals[shard * 2 + 1] = h;
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}

const WORKER_URL = new URL('./histogram-worker.mjs', import.meta.url);

/** Builds leaf histograms over `rowIndex`, on this thread and `threads - 1` workers. */
export class HistogramBuilder {
  private readonly state: SharedHistogramState;
  private readonly workers: Worker[] = [];
  private generation = 0;

  constructor(
    private readonly binned: BinnedMatrix,
    rowIndex: Uint32Array,
    gradient: Float64Array,
    hessian: Float64Array,
    threads: number,
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
    };
    const shared = [binned.bins, rowIndex, gradient, hessian].every((array) => array.buffer instanceof SharedArrayBuffer);
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
      this.runShards(start, end, count);
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

  private runShards(start: number, end: number, count: number): void {
    const { control } = this.state;
    this.generation = (this.generation + 1) & GENERATION_MASK;
    control[START] = start;
    control[END] = end;
    control[COUNT] = count;
    Atomics.store(control, DONE, 0);
    Atomics.store(control, CLAIM, this.generation << 6);
    Atomics.store(control, GENERATION, this.generation);
    Atomics.notify(control, GENERATION);
    buildClaimedShards(this.state, this.generation);
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
  let seen = Atomics.load(control, GENERATION);
  // A task published before this worker started may still have shards to claim.
  buildClaimedShards(state, seen);
  for (;;) {
    Atomics.wait(control, GENERATION, seen);
    if (Atomics.load(control, STOP) === 1) return;
    seen = Atomics.load(control, GENERATION);
    buildClaimedShards(state, seen);
  }
}
