/** The label store's table and migration; the platform runs it with every store's (`platform/migrate.ts`). */
import type { Kysely } from 'kysely';
import type { StoreMigrations } from '../core/sql-dialect.js';

/** One label: the true outcome of a logged prediction, keyed by the request id serving returned. */
export interface PredictionLabelTable {
  request_id: string;
  model_name: string;
  /** The label as a number: 0/1 for binary, the class index for multiclass, the value for regression. */
  label: number;
  /** When the outcome was observed (epoch ms); the time it was received when the sender gave none. */
  observed_at: number;
  received_at: number;
  /** Where it came from: `feedback` (the HTTP endpoint) or `load:<file or query>` (the bulk loader). */
  source: string;
}

export interface LabelTables {
  prediction_label: PredictionLabelTable;
}

export type LabelKysely = Kysely<LabelTables>;

/** The label store's migrations (run by the platform with every store's, in name order). */
export const labelMigrations: StoreMigrations = (dialect) => ({
  '0010_prediction_label': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('prediction_label')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('label', 'double precision', (c) => c.notNull())
        .addColumn('observed_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .execute();
      // Quality by window reads one model's labels by time.
      await db.schema.createIndex('prediction_label_model_idx').on('prediction_label').columns(['model_name', 'observed_at']).execute();
      // Labels are matched to logged predictions by request id (feedback's check, the quality
      // join); the server backend's log is a table (the embedded one is Parquet files).
      if (dialect === 'postgres') await db.schema.createIndex('prediction_log_request_idx').ifNotExists().on('prediction_log').column('request_id').execute();
    },
  },
});
