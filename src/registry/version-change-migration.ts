/**
 * Migration 0009: `model_version_change`, who archived or restored a version, when and
 * why (alias moves have their own history in `alias_move`). Its own small step so the
 * registry's earlier migrations stay as they ran.
 */
import type { Migration } from 'kysely';
import { withId, type DialectKind, type MigrationDb } from '../core/sql-dialect.js';

export const VERSION_CHANGE_MIGRATION = '0009_version_changes';

export function versionChangeMigration(dialect: DialectKind): Migration {
  return {
    async up(db: MigrationDb) {
      await withId(db.schema.createTable('model_version_change'), dialect)
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('model_version_change_model_idx').on('model_version_change').columns(['model_id', 'id']).execute();
    },
  };
}
