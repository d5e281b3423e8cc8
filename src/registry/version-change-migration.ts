/**
 * Migration 0009: `model_version_change`, who archived or restored a version, when and
 * why (alias moves have their own history in `alias_move`). Its own small step so the
 * registry's earlier migrations stay as they ran.
 */
import type { Kysely, Migration } from 'kysely';
import type { DialectKind } from '../metadata/db-schema.js';

export const VERSION_CHANGE_MIGRATION = '0009_version_changes';

export function versionChangeMigration(dialect: DialectKind): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema.createTable('model_version_change');
      await (dialect === 'sqlite' ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()) : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity()))
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
