/**
 * One regression tree grown leaf-wise (best-first, as LightGBM): the leaf whose best split
 * gains most is split next, until `numLeaves` leaves or no split passes the rules. Rows of
 * each leaf are a contiguous segment of one index array, partitioned in place on a split.
 */
import type { BinnedMatrix } from './binning.js';
import { HistogramBuilder, sharedFloat64, type GradientSource } from './histogram-pool.js';
import { findBestSplit, histogramLength, leafValue, subtractHistogram, type LeafTotals, type Split, type SplitRules } from './histogram.js';

/** A tree as flat node arrays; node 0 is the root. A leaf has feature -1. */
export interface Tree {
  feature: number[];
  threshold: number[];
  missingLeft: boolean[];
  /** Categorical node: x == threshold goes left; otherwise x <= threshold does. */
  categorical: boolean[];
  left: number[];
  right: number[];
  /** Leaf output (already scaled by the learning rate); 0 for internal nodes. */
  value: number[];
}

export interface GrowOptions extends SplitRules {
  numLeaves: number;
  /** Deepest a leaf may be; 0 or less means no limit. */
  maxDepth: number;
  learningRate: number;
}

interface OpenLeaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  totals: LeafTotals;
  hist: Float64Array;
  split: Split | undefined;
}

/**
 * Work buffers reused across trees, sized once for the data, and the histogram threads. The
 * row index, gradients and hessians are shared memory, which the histogram workers read.
 * `close()` when training ends.
 */
export class TreeWorkspace {
  readonly rowIndex: Uint32Array;
  /** The gradients and hessians a tree is grown on: fill them (`computeGradients`) before `growTree`. */
  readonly gradient: Float64Array;
  readonly hessian: Float64Array;
  readonly histograms: HistogramBuilder;
  private readonly pool: Float64Array[] = [];

  constructor(
    readonly binned: BinnedMatrix,
    threads = 1,
    gradientSource?: GradientSource,
  ) {
    this.rowIndex = new Uint32Array(new SharedArrayBuffer(binned.rows * Uint32Array.BYTES_PER_ELEMENT));
    this.gradient = sharedFloat64(binned.rows);
    this.hessian = sharedFloat64(binned.rows);
    this.histograms = new HistogramBuilder(binned, this.rowIndex, this.gradient, this.hessian, threads, gradientSource);
  }

  /** Fills `gradient` and `hessian` for output `k` from the gradient source's scores, on the histogram threads. */
  computeGradients(k: number): void {
    this.histograms.gradients(k);
  }

  close(): Promise<void> {
    return this.histograms.close();
  }

  takeHistogram(): Float64Array {
    return this.pool.pop() ?? new Float64Array(histogramLength(this.binned));
  }

  giveHistogram(hist: Float64Array): void {
    this.pool.push(hist);
  }

  /**
   * Moves rows going left to the front of [start, end), keeping order; returns the first right
   * row's position. Rows are routed by bin, which is exact: x <= upper[t] holds just when x's
   * bin is at or below t, so this agrees with `predictTree` on the raw values.
   */
  partition(start: number, end: number, split: Split): number {
    const { binned } = this;
    // Whether a row goes left, by the global bin its group holds: the feature's own bins by
    // the split (the last is NaN's), every other bin (another feature of the group, or the
    // spare bin of none) at the feature's default bin.
    const first = binned.binStart[split.feature];
    const count = binned.binCount[split.feature];
    const own = new Uint8Array(count);
    for (let t = 0; t < count - 1; t++) own[t] = (split.categorical ? t === split.thresholdBin : t <= split.thresholdBin) ? 1 : 0;
    own[count - 1] = split.missingLeft ? 1 : 0;
    const goesLeft = this.histograms.goesLeft;
    goesLeft.fill(own[binned.defaultBin[split.feature] - first]);
    goesLeft.set(own, first);
    // On the histogram threads, in shards merged in order: the order of one pass (partition.ts).
    return this.histograms.partition(start, end, binned.featureGroup[split.feature]);
  }
}

/**
 * Grows one tree on the workspace's gradients and adds each training row's leaf value to its
 * score, `scores[i * stride + offset]`, so the caller need not walk the tree.
 */
export function growTree(work: TreeWorkspace, options: GrowOptions, scores: Float64Array, stride: number, offset: number): Tree {
  const { binned, rowIndex, histograms } = work;
  for (let i = 0; i < binned.rows; i++) rowIndex[i] = i;
  const tree: Tree = { feature: [-1], threshold: [0], missingLeft: [false], categorical: [false], left: [-1], right: [-1], value: [0] };
  const rootHist = work.takeHistogram();
  const rootTotals = histograms.build(0, binned.rows, rootHist);
  const open: OpenLeaf[] = [openLeaf(0, 0, binned.rows, 0, rootTotals, rootHist, work, options)];
  let leaves = 1;
  while (leaves < options.numLeaves) {
    const index = bestLeaf(open);
    if (index < 0) break;
    const leaf = open[index];
    const split = leaf.split as Split;
    const middle = work.partition(leaf.start, leaf.end, split);
    const leftNode = addNode(tree);
    const rightNode = addNode(tree);
    tree.feature[leaf.node] = split.feature;
    tree.threshold[leaf.node] = split.threshold;
    tree.missingLeft[leaf.node] = split.missingLeft;
    tree.categorical[leaf.node] = split.categorical;
    tree.left[leaf.node] = leftNode;
    tree.right[leaf.node] = rightNode;

    // Build the smaller child's histogram from rows; the larger is parent minus smaller.
    const leftSmaller = middle - leaf.start <= leaf.end - middle;
    const smallHist = work.takeHistogram();
    if (leftSmaller) histograms.build(leaf.start, middle, smallHist);
    else histograms.build(middle, leaf.end, smallHist);
    const largeHist = leaf.hist;
    subtractHistogram(largeHist, smallHist, largeHist);
    const leftHist = leftSmaller ? smallHist : largeHist;
    const rightHist = leftSmaller ? largeHist : smallHist;
    const depth = leaf.depth + 1;
    open.splice(
      index,
      1,
      openLeaf(leftNode, leaf.start, middle, depth, split.left, leftHist, work, options),
      openLeaf(rightNode, middle, leaf.end, depth, split.right, rightHist, work, options),
    );
    leaves++;
  }
  for (const leaf of open) {
    const value = leafValue(leaf.totals, options) * options.learningRate;
    tree.value[leaf.node] = value;
    for (let k = leaf.start; k < leaf.end; k++) scores[rowIndex[k] * stride + offset] += value;
    work.giveHistogram(leaf.hist);
  }
  return tree;
}

function openLeaf(
  node: number,
  start: number,
  end: number,
  depth: number,
  totals: LeafTotals,
  hist: Float64Array,
  work: TreeWorkspace,
  options: GrowOptions,
): OpenLeaf {
  const canSplit = options.maxDepth <= 0 || depth < options.maxDepth;
  const split = canSplit ? findBestSplit(work.binned, hist, totals, options) : undefined;
  return { node, start, end, depth, totals, hist, split };
}

/** The open leaf with the highest-gain split (the first on ties), or -1. */
function bestLeaf(open: OpenLeaf[]): number {
  let best = -1;
  for (let k = 0; k < open.length; k++) {
    const split = open[k].split;
    if (split && (best < 0 || split.gain > (open[best].split as Split).gain)) best = k;
  }
  return best;
}

function addNode(tree: Tree): number {
  tree.feature.push(-1);
  tree.threshold.push(0);
  tree.missingLeft.push(false);
  tree.categorical.push(false);
  tree.left.push(-1);
  tree.right.push(-1);
  tree.value.push(0);
  return tree.feature.length - 1;
}

/** The leaf value a row reaches, comparing raw values exactly as the ONNX TreeEnsemble does. */
export function predictTree(tree: Tree, row: Float32Array | Float64Array, offset: number): number {
  let node = 0;
  while (tree.feature[node] >= 0) {
    const x = row[offset + tree.feature[node]];
    const goesLeft = Number.isNaN(x) ? tree.missingLeft[node] : tree.categorical[node] ? x === tree.threshold[node] : x <= tree.threshold[node];
    node = goesLeft ? tree.left[node] : tree.right[node];
  }
  return tree.value[node];
}
