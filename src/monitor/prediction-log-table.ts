/**
 * The online server's prediction log table, on PostgreSQL only (the embedded default
 * writes Parquet files). `PostgresPredictionSink` writes it; the platform creates it with
 * the other stores' tables. Databases made before the stores were split already have it
 * (it was part of `0005_serving`), hence `if not exists`.
 */
import type { Migration } from 'kysely';
import type { MigrationDb, StoreMigrations } from '../core/sql-dialect.js';

/** One logged prediction. */
export interface PredictionLogTable {
  request_id: string;
  model_name: string;
  model_version: number;
  /** 'primary', 'canary' or 'shadow'. */
  role: string;
  protocol: string;
  features: unknown;
  outputs: unknown;
  latency_ms: number;
  logged_at: number;
  /** A failed request's HTTP status; null on answered requests. */
  status: number | null;
  /** A failed request's error code (INVALID_ARGUMENT, …); null on answered requests. */
  error_code: string | null;
}

const predictionLogMigration: Migration = {
  async up(db: MigrationDb) {
    await db.schema
      .createTable('prediction_log')
      .ifNotExists()
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('model_version', 'integer', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('protocol', 'text', (c) => c.notNull())
      .addColumn('features', 'jsonb', (c) => c.notNull())
      .addColumn('outputs', 'jsonb', (c) => c.notNull())
      .addColumn('latency_ms', 'double precision', (c) => c.notNull())
      .addColumn('logged_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('prediction_log_model_idx').ifNotExists().on('prediction_log').columns(['model_name', 'logged_at']).execute();
  },
};

/** Failed requests are logged too (one row each, no features or outputs): their status and code, null on answered rows. */
const predictionLogErrorsMigration: Migration = {
  async up(db: MigrationDb) {
    await db.schema.alterTable('prediction_log').addColumn('status', 'integer').execute();
    await db.schema.alterTable('prediction_log').addColumn('error_code', 'text').execute();
  },
};

/** The prediction log's migrations by name: a no-op on SQLite, which logs to Parquet. */
export const predictionLogMigrations: StoreMigrations = (dialect) => ({
  '0006_prediction_log': dialect === 'postgres' ? predictionLogMigration : { async up() {} },
  '0012_prediction_log_errors': dialect === 'postgres' ? predictionLogErrorsMigration : { async up() {} },
});
