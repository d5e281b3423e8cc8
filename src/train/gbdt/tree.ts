/**
 * One regression tree grown leaf-wise (best-first, as LightGBM): the leaf whose best split
 * gains most is split next, until `numLeaves` leaves or no split passes the rules. Rows of
 * each leaf are a contiguous segment of one index array, partitioned in place on a split.
 */
import type { BinnedMatrix } from './binning.js';
import { STRIDE, buildHistogram, findBestSplit, leafValue, subtractHistogram, type LeafTotals, type Split, type SplitRules } from './histogram.js';

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

/** Work buffers reused across trees, sized once for the data. */
export class TreeWorkspace {
  readonly rowIndex: Uint32Array;
  private readonly scratch: Uint32Array;
  private readonly pool: Float64Array[] = [];

  /** The features column by column: a split reads one column, so its reads stay close together. */
  private readonly columns: Float32Array;

  constructor(
    readonly binned: BinnedMatrix,
    features: Float32Array,
  ) {
    const { rows, width } = binned;
    this.rowIndex = new Uint32Array(rows);
    this.scratch = new Uint32Array(rows);
    this.columns = new Float32Array(rows * width);
    for (let i = 0; i < rows; i++) for (let f = 0; f < width; f++) this.columns[f * rows + i] = features[i * width + f];
  }

  takeHistogram(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.binned.totalBins * STRIDE);
  }

  giveHistogram(hist: Float64Array): void {
    this.pool.push(hist);
  }

  /** Moves rows going left to the front of [start, end), keeping order; returns the first right row's position. */
  partition(start: number, end: number, split: Split): number {
    const { rowIndex, scratch } = this;
    const column = this.columns.subarray(split.feature * this.binned.rows, (split.feature + 1) * this.binned.rows);
    let left = start;
    let right = 0;
    for (let k = start; k < end; k++) {
      const i = rowIndex[k];
      const x = column[i];
      const goesLeft = Number.isNaN(x) ? split.missingLeft : split.categorical ? x === split.threshold : x <= split.threshold;
      if (goesLeft) rowIndex[left++] = i;
      else scratch[right++] = i;
    }
    rowIndex.set(scratch.subarray(0, right), left);
    return left;
  }
}

/**
 * Grows one tree on the gradients and returns it with each training row's leaf value
 * (`rowOutput[i]`), so the caller can update scores without walking the tree.
 */
export function growTree(
  work: TreeWorkspace,
  gradient: Float64Array,
  hessian: Float64Array,
  options: GrowOptions,
  rowOutput: Float64Array,
): Tree {
  const { binned, rowIndex } = work;
  for (let i = 0; i < binned.rows; i++) rowIndex[i] = i;
  const tree: Tree = { feature: [-1], threshold: [0], missingLeft: [false], categorical: [false], left: [-1], right: [-1], value: [0] };
  const rootHist = work.takeHistogram();
  const rootTotals = buildHistogram(binned, rowIndex, 0, binned.rows, gradient, hessian, rootHist);
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
    if (leftSmaller) buildHistogram(binned, rowIndex, leaf.start, middle, gradient, hessian, smallHist);
    else buildHistogram(binned, rowIndex, middle, leaf.end, gradient, hessian, smallHist);
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
    for (let k = leaf.start; k < leaf.end; k++) rowOutput[rowIndex[k]] = value;
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
