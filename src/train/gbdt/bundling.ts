/**
 * Exclusive feature bundling (LightGBM's EFB, without conflicts): columns that are never off
 * their default bin on the same row share one group, stored as one bin id per row, so a
 * one-hot vocabulary costs a histogram one update per row instead of one per column.
 */
import type { BinnedMatrix } from './binning.js';

/**
 * Exclusive feature bundling without conflicts: each feature, in column order, joins the
 * first group none of whose features is off its default on the same rows (trying a bounded
 * number of the newest groups), so a group's row holds at most one feature's bin. Column
 * order keeps a one-hot vocabulary's columns (adjacent in a transformed matrix) together;
 * pairing columns of two vocabularies instead (origin X with destination X) would not.
 * `rowStart`/`entries` list each row's non-default global bins (CSR by row).
 */
export function bundleFeatures(
  rowStart: Uint32Array,
  entries: Uint32Array,
  rows: number,
  width: number,
  binStart: Uint32Array,
  binCount: Uint32Array,
  totalBins: number,
): Pick<BinnedMatrix, 'groups' | 'featureGroup' | 'bins' | 'binsByGroup'> {
  const MAX_TRIES = 64;
  const featureOfBin = new Uint32Array(totalBins);
  for (let f = 0; f < width; f++) featureOfBin.fill(f, binStart[f], binStart[f] + binCount[f]);
  // The rows of each feature (CSC) from the rows' entries (CSR).
  const colStart = new Uint32Array(width + 1);
  for (let e = 0; e < entries.length; e++) colStart[featureOfBin[entries[e]] + 1]++;
  for (let f = 0; f < width; f++) colStart[f + 1] += colStart[f];
  const fill = colStart.slice(0, width);
  const colRows = new Uint32Array(entries.length);
  for (let i = 0; i < rows; i++) for (let e = rowStart[i]; e < rowStart[i + 1]; e++) colRows[fill[featureOfBin[entries[e]]]++] = i;

  const featureGroup = new Uint32Array(width);
  const occupied: Uint8Array[] = [];
  for (let f = 0; f < width; f++) {
    let group = -1;
    for (let g = Math.max(0, occupied.length - MAX_TRIES); g < occupied.length && group < 0; g++) {
      const taken = occupied[g];
      let free = true;
      for (let e = colStart[f]; e < colStart[f + 1] && free; e++) free = taken[colRows[e]] === 0;
      if (free) group = g;
    }
    if (group < 0) {
      group = occupied.length;
      occupied.push(new Uint8Array(rows));
    }
    featureGroup[f] = group;
    for (let e = colStart[f]; e < colStart[f + 1]; e++) occupied[group][colRows[e]] = 1;
  }
  const groups = Math.max(1, occupied.length);
  // Shared memory: histogram worker threads read it (histogram-pool.ts).
  const narrow = totalBins < 0xffff;
  const buffer = new SharedArrayBuffer(rows * groups * (narrow ? 2 : 4));
  const bins = narrow ? new Uint16Array(buffer) : new Uint32Array(buffer);
  // Shared too: partition shards on worker threads read it.
  const byGroup = new SharedArrayBuffer(rows * groups * (narrow ? 2 : 4));
  const binsByGroup = narrow ? new Uint16Array(byGroup) : new Uint32Array(byGroup);
  bins.fill(totalBins);
  binsByGroup.fill(totalBins);
  for (let i = 0; i < rows; i++) {
    for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
      const group = featureGroup[featureOfBin[entries[e]]];
      bins[i * groups + group] = entries[e];
      binsByGroup[group * rows + i] = entries[e];
    }
  }
  return { groups, featureGroup, bins, binsByGroup };
}
