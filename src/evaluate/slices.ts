/**
 * Slicing: which rows fall in which slice. A slice column turns each row's value into a
 * label (the value itself, a numeric bucket such as "[6, 12)", or a part of a timestamp
 * such as the hour of day); a slicing spec with several columns crosses them. Scores are
 * computed once for the whole split; slicing only groups row indices.
 *
 * Usage: `const slices = groupSlices(spec, columnValues, rowCount); // Map "origin:ATL" -> rows`
 */
import type { SliceColumn } from './config.js';

/** One slice of a spec: its key (`origin:ATL, hour:[6, 12)`), its values by feature, and its rows. */
export interface SliceRows {
  key: string;
  values: Record<string, string>;
  rows: number[];
}

/** The label of each row for one column, or null when the row is in no slice of it (outside the top k). */
export function sliceLabels(column: SliceColumn, values: ArrayLike<unknown>): (string | null)[] {
  const labels: (string | null)[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) labels[i] = labelOf(column, values[i]);
  if (column.top === undefined) return labels;
  const counts = new Map<string | null, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  // Most frequent first; equal counts by label so the choice is the same on every run.
  const kept = new Set(
    [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])))
      .slice(0, column.top)
      .map(([label]) => label),
  );
  return labels.map((label) => (kept.has(label) ? label : null));
}

/** Groups rows into the slices of a spec, ordered by each column's buckets or values ("2" before "10"). */
export function groupSlices(columns: readonly SliceColumn[], valuesByFeature: Record<string, ArrayLike<unknown>>, rowCount: number): SliceRows[] {
  const labelsByColumn = columns.map((column) => sliceLabels(column, valuesByFeature[column.feature] ?? new Array(rowCount).fill(null)));
  const names = columns.map((c) => (c.time ? `${c.feature}.${c.time}` : c.feature));
  const slices = new Map<string, SliceRows>();
  for (let i = 0; i < rowCount; i++) {
    const parts: string[] = [];
    let inSlice = true;
    for (let c = 0; c < columns.length; c++) {
      const label = labelsByColumn[c]![i]!;
      if (label === null) {
        inSlice = false;
        break;
      }
      parts.push(label);
    }
    if (!inSlice) continue;
    const key = parts.map((label, c) => `${names[c]}:${label}`).join(', ');
    let slice = slices.get(key);
    if (!slice) {
      slice = { key, values: Object.fromEntries(parts.map((label, c) => [names[c]!, label])), rows: [] };
      slices.set(key, slice);
    }
    slice.rows.push(i);
  }
  return [...slices.values()].sort((a, b) => {
    for (const name of names) {
      const order = compareLabels(a.values[name]!, b.values[name]!);
      if (order !== 0) return order;
    }
    return 0;
  });
}

/** Buckets by their lower edge ("< 6" first, ">= 18" last), numbers by value, other labels by name. */
function compareLabels(a: string, b: string): number {
  const x = sortValue(a);
  const y = sortValue(b);
  if (typeof x === 'number' && typeof y === 'number') return x - y || a.localeCompare(b);
  if (typeof x === 'number') return -1;
  if (typeof y === 'number') return 1;
  return naturalCompare(a, b);
}

function sortValue(label: string): number | string {
  if (label.startsWith('< ')) return Number.NEGATIVE_INFINITY;
  const bucket = /^(?:>= |\[)(-?[\d.e+-]+)/.exec(label);
  if (bucket) return Number(bucket[1]);
  const number = Number(label);
  return label !== '' && Number.isFinite(number) ? number : label;
}

/** Group names for rows by several features' values joined by ", " (Fairlearn's intersectional groups). */
export function groupNames(features: readonly string[], valuesByFeature: Record<string, ArrayLike<unknown>>, rowCount: number): string[] {
  const labels = features.map((feature) => sliceLabels({ feature }, valuesByFeature[feature] ?? new Array(rowCount).fill(null)));
  return Array.from({ length: rowCount }, (_, i) => labels.map((l) => l[i]).join(', '));
}

function labelOf(column: SliceColumn, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (column.time) return timePart(column.time, value);
  if (column.boundaries) {
    const x = toNumber(value);
    if (Number.isNaN(x)) return 'null';
    const b = column.boundaries;
    if (x < b[0]!) return `< ${b[0]}`;
    let k = 0;
    while (k + 1 < b.length && x >= b[k + 1]!) k++;
    return k + 1 < b.length ? `[${b[k]}, ${b[k + 1]})` : `>= ${b[k]}`;
  }
  if (column.width !== undefined) {
    const x = toNumber(value);
    if (Number.isNaN(x)) return 'null';
    // 0.3 / 0.1 is 2.9999999999999996 in binary: a value on an edge (as shown) belongs above it.
    let k = Math.floor(x / column.width);
    if (round((k + 1) * column.width) <= x) k++;
    return `[${round(k * column.width)}, ${round((k + 1) * column.width)})`;
  }
  return typeof value === 'object' ? String((value as { toString(): string }).toString()) : String(value);
}

/** Hour of day, day of week (0 = Sunday, as DuckDB's dayofweek), month or date of a DuckDB DATE/TIMESTAMP value, in UTC. */
function timePart(part: NonNullable<SliceColumn['time']>, value: unknown): string {
  const ms = epochMs(value);
  if (ms === undefined) return 'null';
  const date = new Date(ms);
  if (part === 'hour_of_day') return String(date.getUTCHours());
  if (part === 'day_of_week') return String(date.getUTCDay());
  if (part === 'month') return String(date.getUTCMonth() + 1);
  return date.toISOString().slice(0, 10);
}

function epochMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'object' && value !== null) {
    // @duckdb/node-api gives TIMESTAMP as { micros: bigint } and DATE as { days: number }.
    const v = value as { micros?: bigint; days?: number };
    if (typeof v.micros === 'bigint') return Number(v.micros / 1000n);
    if (typeof v.days === 'number') return v.days * 86_400_000;
  }
  if (typeof value === 'string') {
    const ms = Date.parse(value.includes('T') || value.length <= 10 ? value : `${value.replace(' ', 'T')}Z`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return Number(value);
  // DuckDB hands DECIMAL values over as objects whose valueOf/toString give the number.
  if (typeof value === 'object' && value !== null) return Number(value);
  return Number.NaN;
}

/** Bucket edges without float noise (0.1 * 3 shown as 0.3). */
function round(x: number): number {
  return Number(x.toPrecision(12));
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
