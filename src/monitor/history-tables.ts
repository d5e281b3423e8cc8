/** The monitoring history's tables and migrations; the platform runs it with every store's (`platform/migrate.ts`). */
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

/** One quality figure of one window: estimated (CBPE, every row) or measured (labelled rows). */
export interface MonitorQualityTable {
  id: Generated<number>;
  model_name: string;
  model_version: number;
  window_kind: string;
  window_start: number;
  window_end: number;
  window_rows: number;
  /** Rows whose label had arrived when the figure was computed. */
  labelled: number;
  /** 'estimated' or 'measured'. */
  kind: string;
  /** 'auc', 'accuracy', 'precision', 'recall' or 'f1'. */
  metric: string;
  /** NULL when undefined on the window (e.g. AUC of one class). */
  value: number | null;
  recorded_at: number;
}

export interface MonitorTables {
  monitor_drift: MonitorDriftTable;
  monitor_quality: MonitorQualityTable;
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
  '0011_monitor_quality': {
    async up(db: Kysely<unknown>) {
      await withId(db.schema.createTable('monitor_quality'), dialect)
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('model_version', 'integer', (c) => c.notNull())
        .addColumn('window_kind', 'text', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('window_end', 'bigint', (c) => c.notNull())
        .addColumn('window_rows', 'integer', (c) => c.notNull())
        .addColumn('labelled', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision')
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('monitor_quality_window_idx').on('monitor_quality').columns(['model_name', 'window_start']).execute();
    },
  },
});
