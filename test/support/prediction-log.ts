/**
 * Prediction logs made of real flights rows, written by serving's own sinks, for the
 * monitor's tests: each flight becomes one logged prediction whose features are the
 * flight's columns and whose output is a score computed from them.
 */
import { queryRows, sqlString, withDuckDB } from '../../src/data/duckdb.js';
import type { PredictionLogRow, PredictionRole } from '../../src/serve/prediction-log.js';
import { FLIGHTS_PARQUET } from './flights.js';

export interface FlightsLogOptions {
  /** Months of 2001 to take rows from, 1–6. */
  months: number[];
  /** Keep one row in `every`. */
  every: number;
  model?: string;
  version?: number;
  role?: PredictionRole;
  /** Epoch ms of the first row; later rows follow `stepMs` apart. */
  start: number;
  stepMs: number;
}

/** Log rows for a flights slice, in file order. */
export async function flightsLogRows(options: FlightsLogOptions): Promise<PredictionLogRow[]> {
  const rows = await withDuckDB((db) =>
    queryRows(
      db,
      `SELECT delay, distance, origin, destination FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sqlString(FLIGHTS_PARQUET)}))
       WHERE month(date) IN (${options.months.join(', ')}) AND rn % ${options.every} = 0 ORDER BY rn`,
    ),
  );
  return rows.map((row, i) => {
    const distance = Number(row.distance);
    // A score that depends on the features, so prediction drift follows feature drift.
    const probability = 1 / (1 + Math.exp(-(distance - 1000) / 500));
    return {
      requestId: `${options.model ?? 'flights'}-${options.start}-${i}`,
      modelName: options.model ?? 'flights',
      modelVersion: options.version ?? 1,
      role: options.role ?? 'primary',
      protocol: 'v2',
      features: JSON.stringify({ delay: Number(row.delay), distance, origin: String(row.origin), destination: String(row.destination) }),
      outputs: JSON.stringify({ probability }),
      latencyMs: 0.5,
      loggedAt: options.start + i * options.stepMs,
    };
  });
}
