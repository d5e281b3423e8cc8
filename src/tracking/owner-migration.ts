/**
 * Migration 0008: the process that owns a tracking run Loom started itself (JSON
 * `ProcessOwner`), so a run whose process was killed is marked FAILED instead of staying
 * RUNNING. Runs that MLflow clients start over HTTP have no owner: only they can end them.
 */
import type { Migration } from 'kysely';
import type { MigrationDb } from '../core/sql-dialect.js';

export const TRACKING_RUN_OWNER_MIGRATION = '0008_tracking_run_owner';

export const trackingRunOwnerMigration: Migration = {
  async up(db: MigrationDb) {
    await db.schema.alterTable('tracking_run').addColumn('owner', 'text').execute();
  },
};
