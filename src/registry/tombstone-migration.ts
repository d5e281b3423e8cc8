/**
 * Migration 0010: deletions become tombstones. A deleted model's row stays, marked with
 * who deleted it and when, under a name no live model can take (`<name>@deleted-<id>`,
 * the original kept in `deleted_name`), so the name is free for a new model while the old
 * one's versions, alias moves and requests stay in the database. A deleted version's row
 * stays too, marked the same way.
 */
import type { Migration } from 'kysely';
import type { MigrationDb } from '../core/sql-dialect.js';

export const TOMBSTONE_MIGRATION = '0010_registry_tombstones';

export function tombstoneMigration(): Migration {
  return {
    async up(db: MigrationDb) {
      // SQLite adds one column per ALTER statement.
      await db.schema.alterTable('registered_model').addColumn('deleted_at', 'bigint').execute();
      await db.schema.alterTable('registered_model').addColumn('deleted_by', 'text').execute();
      await db.schema.alterTable('registered_model').addColumn('deleted_name', 'text').execute();
      await db.schema.alterTable('model_version').addColumn('deleted_at', 'bigint').execute();
      await db.schema.alterTable('model_version').addColumn('deleted_by', 'text').execute();
      await db.schema.createIndex('registered_model_deleted_name_idx').on('registered_model').columns(['deleted_name', 'id']).execute();
    },
  };
}
