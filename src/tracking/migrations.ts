/**
 * The tracking store's migrations. The platform runs every store's migrations together
 * (`platform/migrate.ts`), in name order.
 */
import type { Migration } from 'kysely';
import { withId, type DialectKind, type MigrationDb, type StoreMigrations } from '../core/sql-dialect.js';
import { TRACKING_LOGGED_MODELS_MIGRATION, trackingLoggedModelsMigration } from './logged-model-migration.js';
import { TRACKING_RUN_OWNER_MIGRATION, trackingRunOwnerMigration } from './owner-migration.js';

/**
 * Experiment tracking (MLflow's entities). Metric points are append-only history;
 * `tracking_latest_metric` keeps each key's latest point (highest step, then timestamp)
 * so searching and listing runs never scans the history. NaN is stored as 0 with
 * `is_nan = 1` because SQLite reads a NaN REAL back as NULL.
 */
function trackingMigration(dialect: DialectKind): Migration {
  return {
    async up(db: MigrationDb) {
      await withId(db.schema.createTable('tracking_experiment'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('artifact_location', 'text', (c) => c.notNull())
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_update_time', 'bigint', (c) => c.notNull())
        .execute();
      // MLflow clients start runs in experiment "0" when none is set.
      const now = Date.now();
      await db
        .insertInto('tracking_experiment' as never)
        .values({ id: 0, name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', creation_time: now, last_update_time: now } as never)
        .execute();
      await db.schema
        .createTable('tracking_experiment_tag')
        .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('tracking_experiment.id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tracking_experiment_tag_pk', ['experiment_id', 'key'])
        .execute();

      // Runs have MLflow's hex run_id and a small integer id that keys the metric history:
      // a 32-character key in every history row and index entry halves the insert rate.
      await withId(db.schema.createTable('tracking_run'), dialect)
        .addColumn('run_id', 'text', (c) => c.notNull().unique())
        .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('tracking_experiment.id'))
        .addColumn('run_name', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('start_time', 'bigint', (c) => c.notNull())
        .addColumn('end_time', 'bigint')
        .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
        .addColumn('artifact_uri', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tracking_run_experiment_idx').on('tracking_run').columns(['experiment_id', 'start_time']).execute();

      for (const table of ['tracking_param', 'tracking_tag']) {
        await db.schema
          .createTable(table)
          .addColumn('run_id', 'text', (c) => c.notNull().references('tracking_run.run_id'))
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
          .execute();
      }

      // No primary key or foreign key on the history: it is the hot insert path, and
      // logBatch checks the run once per batch. run_key is tracking_run.id.
      await db.schema
        .createTable('tracking_metric')
        .addColumn('run_key', 'bigint', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'integer', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tracking_metric_history_idx').on('tracking_metric').columns(['run_key', 'key', 'step']).execute();

      await db.schema
        .createTable('tracking_latest_metric')
        .addColumn('run_id', 'text', (c) => c.notNull().references('tracking_run.run_id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('is_nan', 'integer', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tracking_latest_metric_pk', ['run_id', 'key'])
        .execute();
    },
  };
}

/** The tracking store's migrations by name. */
export const trackingMigrations: StoreMigrations = (dialect) => ({
  '0004_tracking': trackingMigration(dialect),
  [TRACKING_RUN_OWNER_MIGRATION]: trackingRunOwnerMigration,
  [TRACKING_LOGGED_MODELS_MIGRATION]: trackingLoggedModelsMigration,
});
