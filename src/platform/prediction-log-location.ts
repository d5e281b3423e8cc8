/**
 * Where a project's prediction log is: the `prediction_log` table when the database is
 * PostgreSQL, else Parquet files in the project's `predictions/` folder (what `loom serve`
 * writes; see cli/commands/serve.ts).
 */
import type { PredictionLogLocation } from '../monitor/prediction-log-reader.js';
import type { LoomConfig } from './config.js';

export function predictionLogLocation(config: LoomConfig): PredictionLogLocation {
  const { url, schema } = config.database;
  return /^postgres(ql)?:/i.test(url) ? { kind: 'postgres', url, ...(schema !== undefined && { schema }) } : { kind: 'parquet', dir: config.layout.predictions };
}
