/**
 * Migration 0010: MLflow 3's logged models (with their tags and params), the datasets a run
 * read (`log_input`) and the models a run produced (`log_outputs`). A dataset is stored once
 * per run by (name, digest), as MLflow dedupes it; its input tags are JSON.
 */
import type { Migration } from 'kysely';
import type { MigrationDb } from '../core/sql-dialect.js';

export const TRACKING_LOGGED_MODELS_MIGRATION = '0010_tracking_logged_models';

export const trackingLoggedModelsMigration: Migration = {
  async up(db: MigrationDb) {
    await db.schema
      .createTable('tracking_logged_model')
      .addColumn('model_id', 'text', (c) => c.primaryKey())
      .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('tracking_experiment.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('artifact_location', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('model_type', 'text', (c) => c.notNull())
      .addColumn('source_run_id', 'text')
      .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_updated_time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('tracking_logged_model_experiment_idx').on('tracking_logged_model').columns(['experiment_id', 'creation_time']).execute();
    for (const table of ['tracking_logged_model_tag', 'tracking_logged_model_param']) {
      await db.schema
        .createTable(table)
        .addColumn('model_id', 'text', (c) => c.notNull().references('tracking_logged_model.model_id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, ['model_id', 'key'])
        .execute();
    }
    await db.schema
      .createTable('tracking_dataset_input')
      .addColumn('run_id', 'text', (c) => c.notNull().references('tracking_run.run_id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('source_type', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('schema', 'text', (c) => c.notNull())
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('logged_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('tracking_dataset_input_pk', ['run_id', 'name', 'digest'])
      .execute();
    await db.schema
      .createTable('tracking_model_output')
      .addColumn('run_id', 'text', (c) => c.notNull().references('tracking_run.run_id'))
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('tracking_model_output_pk', ['run_id', 'model_id'])
      .execute();
  },
};
