/**
 * Histogram binning for gradient boosting (as LightGBM's `max_bin`): each feature's values
 * are cut into at most `maxBins` ordered bins whose upper bounds are real data values, plus
 * one bin for NaN. A feature's default bin is its most frequent one; histograms skip it (it
 * is the leaf total minus the other bins). Features that are never off their default bin on
 * the same row (one-hot columns of one category, above all) are bundled into one group, as
 * LightGBM's exclusive feature bundling does, and a row is stored as one global bin id per
 * group: a histogram costs a row's groups, not the matrix width.
 *
 * Every bound is a float32 value, and a value's bin is the first bound it does not exceed,
 * so `x <= upper[t]` holds exactly when x falls in a bin at or below t. Trees therefore split
 * on raw values, and the ONNX TreeEnsemble (which compares raw float32 inputs) routes rows
 * as training did.
 */
import { LoomError } from '../../core/errors.js';
import { bundleFeatures } from './bundling.js';

export interface BinOptions {
  /** Most bins per feature, NaN's bin not counted; default 255. */
  maxBins?: number;
  /** Rows sampled to choose bin bounds; default 200,000 (all rows when fewer). */
  sampleRows?: number;
  /** Seed of the sample; default 42. */
  seed?: number;
  /** Columns holding category codes (each distinct value its own bin, split one against the rest). */
  categoricalFeatures?: readonly number[];
}

export interface BinnedMatrix {
  rows: number;
  width: number;
  /** Per feature: ascending upper bounds of its value bins; the last is +Infinity. */
  upper: Float64Array[];
  /** Per feature: index of its first bin in the global bin numbering. */
  binStart: Uint32Array;
  /** Per feature: number of bins including the NaN bin (the last one). */
  binCount: Uint32Array;
  /** Per feature: the global id of the bin left out of `entries`. */
  defaultBin: Uint32Array;
  totalBins: number;
  /** Per feature: whether it is categorical. */
  categorical: boolean[];
  /** Per categorical feature: the category of each value bin (empty for numeric features). */
  categoryValues: Float64Array[];
  /** Number of feature groups (bundles of mutually exclusive features). */
  groups: number;
  /** Per feature: its group. */
  featureGroup: Uint32Array;
  /**
   * Row-major [rows, groups]: the global bin of the group's one feature off its default on
   * that row, or `totalBins` (a spare histogram bin nobody reads) when all are at default.
   */
  bins: Uint16Array | Uint32Array;
  /**
   * The same bins column-major, [groups, rows]: a split reads one group's column, and rows
   * of a leaf are in ascending order, so its reads stay close together.
   */
  binsByGroup: Uint16Array | Uint32Array;
}

export function binMatrix(features: Float32Array, rows: number, width: number, options: BinOptions = {}): BinnedMatrix {
  const maxBins = options.maxBins ?? 255;
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > 65535) {
    throw new LoomError('INVALID_ARGUMENT', `maxBins must be an integer from 2 to 65535, not ${maxBins}`, { field: 'maxBins' });
  }
  if (features.length !== rows * width) {
    throw new LoomError('INVALID_ARGUMENT', `the matrix has ${features.length} values, not ${rows} rows x ${width} columns`);
  }
  const sample = sampleRowIndices(rows, options.sampleRows ?? 200_000, options.seed ?? 42);
  const categorical = Array.from({ length: width }, () => false);
  for (const f of options.categoricalFeatures ?? []) {
    if (!Number.isInteger(f) || f < 0 || f >= width) {
      throw new LoomError('INVALID_ARGUMENT', `categorical feature ${f} is not a column index below ${width}`, { field: 'categoricalFeatures' });
    }
    categorical[f] = true;
  }
  const categoryValues: Float64Array[] = [];
  const upper: Float64Array[] = [];
  const sampled = sampledColumns(features, width, sample);
  const defaultBin = new Uint32Array(width);
  const binStart = new Uint32Array(width);
  const binCount = new Uint32Array(width);
  let totalBins = 0;
  for (let f = 0; f < width; f++) {
    // Every row, not a sample: a code missing from the bins would be counted with its neighbour.
    const categories = categorical[f] ? categoriesOf(features, width, f, rows, maxBins) : new Float64Array(0);
    categoryValues.push(categories);
    const binned = categorical[f] ? { bounds: categoryBounds(categories), mostFrequent: 0 } : binFeature(sampled(f), maxBins);
    upper.push(binned.bounds);
    binStart[f] = totalBins;
    defaultBin[f] = totalBins + binned.mostFrequent;
    binCount[f] = upper[f].length + 1;
    totalBins += binCount[f];
  }
  const { rowStart, entries } = encodeRows(features, rows, width, upper, binStart, defaultBin);
  const bundled = bundleFeatures(rowStart, entries, rows, width, binStart, binCount, totalBins);
  return { rows, width, upper, binStart, binCount, defaultBin, totalBins, categorical, categoryValues, ...bundled };
}

/** Bin of a value within its feature: the first bound it does not exceed; NaN gets the last bin. */
export function binOf(value: number, bounds: Float64Array): number {
  if (Number.isNaN(value)) return bounds.length;
  let low = 0;
  let high = bounds.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (value <= bounds[mid]) high = mid;
    else low = mid + 1;
  }
  return low;
}

function sampleRowIndices(rows: number, wanted: number, seed: number): Uint32Array {
  if (rows <= wanted) return Uint32Array.from({ length: rows }, (_, i) => i);
  // Every (rows / wanted)-th row from a seeded offset: spread over the data, deterministic, and sorted.
  const sample = new Uint32Array(wanted);
  const step = rows / wanted;
  const offset = (seed % 1000) / 1000;
  for (let k = 0; k < wanted; k++) sample[k] = Math.min(rows - 1, Math.floor((k + offset) * step));
  return sample;
}

/** A categorical column's distinct codes, ascending; more than `maxBins` is refused. */
function categoriesOf(features: Float32Array, width: number, f: number, rows: number, maxBins: number): Float64Array {
  const seen = new Set<number>();
  for (let i = 0; i < rows; i++) {
    const x = features[i * width + f];
    if (Number.isNaN(x)) continue;
    if (!Number.isInteger(x) || x < 0) {
      throw new LoomError('INVALID_ARGUMENT', `categorical column ${f} holds ${x}; category codes are integers from 0`, {
        field: 'categoricalFeatures',
        fix: 'encode categories as vocabulary indices (the transform\'s vocabulary analyzer) or leave the column numeric',
      });
    }
    seen.add(x);
  }
  if (seen.size > maxBins) {
    throw new LoomError('INVALID_ARGUMENT', `categorical column ${f} has ${seen.size} categories, more than maxBins (${maxBins})`, {
      field: 'categoricalFeatures',
      fix: 'keep the top categories with a vocabulary (top_k) and an out-of-vocabulary code, or raise maxBins',
    });
  }
  return Float64Array.from([...seen].sort((a, b) => a - b));
}

/** One bin per category: bounds halfway between codes (codes are integers, so halves are exact). */
function categoryBounds(categories: Float64Array): Float64Array {
  const bounds: number[] = [];
  for (let k = 0; k < categories.length - 1; k++) bounds.push((categories[k] + categories[k + 1]) / 2);
  bounds.push(Infinity);
  return Float64Array.from(bounds);
}

/**
 * Equal-frequency bounds over the sample's distinct values, and the feature's most frequent
 * bin (NaN's included), both from one count of the sample's values.
 */
function binFeature(column: Float32Array, maxBins: number): { bounds: Float64Array; mostFrequent: number } {
  const { distinct, counts, nan } = distinctValues(column);
  const total = column.length - nan;
  // A bound sits halfway between the last value of a bin and the first of the next (as
  // LightGBM places them), so values unseen in training fall on the nearer side.
  const between = (k: number) => {
    const middle = Math.fround((distinct[k] + distinct[k + 1]) / 2);
    return middle < distinct[k + 1] ? middle : distinct[k];
  };
  const bounds: number[] = [];
  if (distinct.length <= maxBins) {
    for (let k = 0; k < distinct.length - 1; k++) bounds.push(between(k));
  } else {
    const perBin = total / maxBins;
    let seen = 0;
    for (let k = 0; k < distinct.length - 1 && bounds.length < maxBins - 1; k++) {
      seen += counts[k];
      if (seen >= perBin * (bounds.length + 1)) bounds.push(between(k));
    }
  }
  bounds.push(Infinity);
  // Distinct values and bounds are both ascending: walk them together to count each bin.
  const binCounts = new Float64Array(bounds.length + 1);
  binCounts[bounds.length] = nan;
  for (let k = 0, b = 0; k < distinct.length; k++) {
    while (distinct[k] > bounds[b]) b++;
    binCounts[b] += counts[k];
  }
  let mostFrequent = 0;
  for (let b = 1; b < binCounts.length; b++) if (binCounts[b] > binCounts[mostFrequent]) mostFrequent = b;
  return { bounds: Float64Array.from(bounds), mostFrequent };
}

/**
 * The sampled rows' values column by column, copied a block of 16 columns (one cache line of
 * a row) at a time: reading one column of a row-major matrix alone would touch a cache line
 * per value, for every column.
 */
function sampledColumns(features: Float32Array, width: number, sample: Uint32Array): (f: number) => Float32Array {
  const n = sample.length;
  let block = -1;
  let columns = new Float32Array(0);
  return (f) => {
    if (Math.floor(f / SAMPLE_BLOCK) !== block) {
      block = Math.floor(f / SAMPLE_BLOCK);
      const count = Math.min(SAMPLE_BLOCK, width - block * SAMPLE_BLOCK);
      if (columns.length !== count * n) columns = new Float32Array(count * n);
      copyBlock(features, width, sample, block * SAMPLE_BLOCK, count, columns);
    }
    const c = f - block * SAMPLE_BLOCK;
    return columns.subarray(c * n, (c + 1) * n);
  };
}

const SAMPLE_BLOCK = 16;

function copyBlock(features: Float32Array, width: number, sample: Uint32Array, first: number, count: number, out: Float32Array): void {
  const n = sample.length;
  for (let k = 0; k < n; k++) {
    const base = sample[k] * width + first;
    for (let c = 0; c < count; c++) out[c * n + k] = features[base + c];
  }
}

/** The sample's distinct non-NaN values of a column, ascending, with their counts. */
function distinctValues(column: Float32Array) {
  const collected = new Float32Array(column.length);
  let n = 0;
  let nan = 0;
  let zeros = 0;
  let ones = 0;
  for (let k = 0; k < column.length; k++) {
    const x = column[k];
    if (x !== x) nan++;
    else {
      collected[n++] = x;
      if (x === 0) zeros++;
      else if (x === 1) ones++;
    }
  }
  // One-hot columns (only 0 and 1) are most of a transformed matrix: no sort needed.
  if (zeros + ones === n) {
    const distinct: number[] = [];
    const counts: number[] = [];
    if (zeros > 0) {
      distinct.push(0);
      counts.push(zeros);
    }
    if (ones > 0) {
      distinct.push(1);
      counts.push(ones);
    }
    return { distinct, counts, nan };
  }
  const values = collected.subarray(0, n).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < n; k++) {
    if (k > 0 && values[k] === values[k - 1]) counts[counts.length - 1]++;
    else {
      distinct.push(values[k]);
      counts.push(1);
    }
  }
  return { distinct, counts, nan };
}

function encodeRows(
  features: Float32Array,
  rows: number,
  width: number,
  upper: Float64Array[],
  binStart: Uint32Array,
  defaultBin: Uint32Array,
): { rowStart: Uint32Array; entries: Uint32Array } {
  // Zero is the most common value by far (one-hot columns); look its bin up once per feature.
  const zeroBin = new Uint32Array(width);
  for (let f = 0; f < width; f++) zeroBin[f] = binStart[f] + binOf(0, upper[f]);
  const rowStart = new Uint32Array(rows + 1);
  let entries = new Uint32Array(Math.max(1024, rows * 4));
  let used = 0;
  for (let i = 0; i < rows; i++) {
    const base = i * width;
    for (let f = 0; f < width; f++) {
      const x = features[base + f];
      const bin = x === 0 ? zeroBin[f] : binStart[f] + binOf(x, upper[f]);
      if (bin === defaultBin[f]) continue;
      if (used === entries.length) {
        const grown = new Uint32Array(entries.length * 2);
        grown.set(entries);
        entries = grown;
      }
      entries[used++] = bin;
    }
    rowStart[i + 1] = used;
  }
  return { rowStart, entries: entries.slice(0, used) };
}
