/**
 * A metric's curve as one line of block characters, for `loom track watch`.
 *
 * Usage: `sparkline([0.9, 0.7, 0.5, 0.45], 20)` -> "█▅▂▁"
 */
const BARS = '▁▂▃▄▅▆▇█';

/**
 * At most `width` characters: longer series are split into `width` equal buckets and each
 * bucket shows its mean. Non-finite values show as a space; a flat series as its lowest bar.
 */
export function sparkline(values: number[], width = 40): string {
  if (values.length === 0 || width < 1) return '';
  const points: number[] = [];
  if (values.length <= width) points.push(...values);
  else {
    for (let b = 0; b < width; b++) {
      const from = Math.floor((b * values.length) / width);
      const to = Math.floor(((b + 1) * values.length) / width);
      const bucket = values.slice(from, to).filter(Number.isFinite);
      points.push(bucket.length ? bucket.reduce((a, v) => a + v, 0) / bucket.length : Number.NaN);
    }
  }
  const finite = points.filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  return points
    .map((v) => {
      if (!Number.isFinite(v)) return ' ';
      if (high === low) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.floor(((v - low) / (high - low)) * BARS.length))];
    })
    .join('');
}
