/**
 * The deployment store's migration: `deployment` is an append-only history (the newest row
 * per model is the live one; `replaces_id` makes rollback one step back). Until the stores
 * were split, `0005_serving` also made the PostgreSQL `prediction_log` table; serving now
 * owns that in `0006_prediction_log`, which finds it already there in those databases.
 */
import type { Migration } from 'kysely';
import { withId, type DialectKind, type MigrationDb, type StoreMigrations } from '../core/sql-dialect.js';

function deploymentMigration(dialect: DialectKind): Migration {
  return {
    async up(db: MigrationDb) {
      await withId(db.schema.createTable('deployment'), dialect)
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('primary_ref', 'text', (c) => c.notNull())
        .addColumn('canary_ref', 'text')
        .addColumn('canary_weight', 'double precision', (c) => c.notNull())
        .addColumn('shadow_ref', 'text')
        .addColumn('split', 'text', (c) => c.notNull())
        .addColumn('max_batch_size', 'integer')
        .addColumn('max_batch_wait_us', 'integer')
        .addColumn('replaces_id', 'bigint')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deployment_model_idx').on('deployment').columns(['model_name', 'id']).execute();
    },
  };
}

/** The deployment store's migrations by name (the name predates the split, so existing databases keep it). */
export const deploymentMigrations: StoreMigrations = (dialect) => ({ '0005_serving': deploymentMigration(dialect) });
