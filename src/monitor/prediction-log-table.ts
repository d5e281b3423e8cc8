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

/** The prediction log's migrations by name: a no-op on SQLite, which logs to Parquet. */
export const predictionLogMigrations: StoreMigrations = (dialect) => ({
  '0006_prediction_log': dialect === 'postgres' ? predictionLogMigration : { async up() {} },
});
