/** The monitoring history's table and migration; the platform runs it with every store's (`platform/migrate.ts`). */
import type { Generated, Kysely } from 'kysely';
import type { StoreMigrations } from '../core/sql-dialect.js';
import { withId } from '../core/sql-dialect.js';

/** One drift figure of one window, as `driftRows` gives it. */
export interface MonitorDriftTable {
  id: Generated<number>;
  model_name: string;
  model_version: number;
  /** 'hourly', 'daily' or 'requests:N'. */
  window_kind: string;
  window_start: number;
  window_end: number;
  window_rows: number;
  /** 'training', 'previous' or 'prediction'. */
  against: string;
  feature: string;
  measure: string;
  /** NULL when inconclusive. */
  value: number | null;
  threshold: number;
  exceeded: number;
  recorded_at: number;
}

export interface MonitorTables {
  monitor_drift: MonitorDriftTable;
}

export const monitorHistoryMigrations: StoreMigrations = (dialect) => ({
  '0010_monitor_history': {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('monitor_drift'), dialect)
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('model_version', 'integer', (c) => c.notNull())
        .addColumn('window_kind', 'text', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('window_end', 'bigint', (c) => c.notNull())
        .addColumn('window_rows', 'integer', (c) => c.notNull())
        .addColumn('against', 'text', (c) => c.notNull())
        .addColumn('feature', 'text', (c) => c.notNull())
        .addColumn('measure', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision')
        .addColumn('threshold', 'double precision', (c) => c.notNull())
        .addColumn('exceeded', 'integer', (c) => c.notNull())
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('monitor_drift_window_idx').on('monitor_drift').columns(['model_name', 'window_start']).execute();
    },
  },
});
