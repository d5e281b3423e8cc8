/**
 * A TransformedExamples directory (meta.json, train/ and eval/ with features.f32 and
 * labels.f32) from real flights without running the transform: scaled hour, weekday and
 * distance, label delay > 15 minutes; every 4th row is eval. For trainer tests that need
 * the layout, not the transform.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { queryRows, sqlString, withDuckDB } from '../../src/data/duckdb.js';
import { writeFlightsSlice } from './flights.js';

export const TRANSFORMED_WIDTH = 3;

/** Writes the directory under `dir/data` and returns its path and the eval rows' features. */
export async function writeTransformedExamples(dir: string, every = 100): Promise<{ dataDir: string; evalFeatures: number[] }> {
  const raw = join(dir, 'raw.parquet');
  await writeFlightsSlice(raw, { months: [1], every });
  const rows = await withDuckDB((db) =>
    queryRows(db, `SELECT hour(date) / 24.0 AS h, isodow(date) / 7.0 AS w, distance / 2000.0 AS d, (delay > 15)::DOUBLE AS y, row_number() OVER () AS rn FROM read_parquet(${sqlString(raw)}) ORDER BY rn`),
  );
  const dataDir = join(dir, 'data');
  const evalFeatures: number[] = [];
  for (const [split, keep] of [['train', (rn: number) => rn % 4 !== 0], ['eval', (rn: number) => rn % 4 === 0]] as const) {
    const chosen = rows.filter((row) => keep(Number(row.rn)));
    const features = chosen.flatMap((row) => [Number(row.h), Number(row.w), Number(row.d)]);
    if (split === 'eval') evalFeatures.push(...features);
    await mkdir(join(dataDir, split), { recursive: true });
    await writeFile(join(dataDir, split, 'features.f32'), Float32Array.from(features));
    await writeFile(join(dataDir, split, 'labels.f32'), Float32Array.from(chosen, (row) => Number(row.y)));
  }
  await writeFile(join(dataDir, 'meta.json'), JSON.stringify({ width: TRANSFORMED_WIDTH, featureNames: ['hour', 'weekday', 'distance'] }));
  return { dataDir, evalFeatures };
}
