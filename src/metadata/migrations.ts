/**
 * The metadata store's migrations. The platform runs every store's migrations together
 * (`platform/migrate.ts`), in name order, recorded in one table.
 */
import type { Migration } from 'kysely';
import { withId, type DialectKind, type MigrationDb, type StoreMigrations } from '../core/sql-dialect.js';
import { EXECUTION_LOG_MIGRATION, executionLogMigration } from './execution-log.js';
import { EXECUTION_OWNER_MIGRATION, executionOwnerMigration } from './owner-migration.js';

function metadataMigration(dialect: DialectKind): Migration {
  return {
    async up(db: MigrationDb) {
      await withId(db.schema.createTable('artifact_type'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('artifact'), dialect)
        .addColumn('type_id', 'bigint', (c) => c.notNull().references('artifact_type.id'))
        .addColumn('uri', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('artifact_type_id_idx').on('artifact').columns(['type_id', 'id']).execute();

      await withId(db.schema.createTable('execution'), dialect)
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('step_name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('code_commit', 'text')
        .addColumn('code_dirty', 'integer', (c) => c.notNull())
        .addColumn('cache_key', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema.createIndex('execution_cache_key_idx').on('execution').columns(['cache_key', 'id']).execute();
      await db.schema.createIndex('execution_type_name_idx').on('execution').columns(['type_name', 'id']).execute();

      await withId(db.schema.createTable('event'), dialect)
        .addColumn('artifact_id', 'bigint', (c) => c.notNull().references('artifact.id'))
        .addColumn('execution_id', 'bigint', (c) => c.notNull().references('execution.id'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // The unique index also serves "events of these executions"; the second serves
      // lineage and cache checks, which start from artifacts.
      await db.schema
        .createIndex('event_execution_idx')
        .on('event')
        .columns(['execution_id', 'type', 'name', 'artifact_id'])
        .unique()
        .execute();
      await db.schema.createIndex('event_artifact_idx').on('event').columns(['artifact_id', 'type']).execute();

      await withId(db.schema.createTable('context'), dialect)
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('context_type_name_unique', ['type_name', 'name'])
        .execute();

      await db.schema
        .createTable('attribution')
        .addColumn('context_id', 'bigint', (c) => c.notNull().references('context.id'))
        .addColumn('artifact_id', 'bigint', (c) => c.notNull().references('artifact.id'))
        .addPrimaryKeyConstraint('attribution_pk', ['context_id', 'artifact_id'])
        .execute();
      await db.schema.createIndex('attribution_artifact_idx').on('attribution').column('artifact_id').execute();

      await db.schema
        .createTable('association')
        .addColumn('context_id', 'bigint', (c) => c.notNull().references('context.id'))
        .addColumn('execution_id', 'bigint', (c) => c.notNull().references('execution.id'))
        .addPrimaryKeyConstraint('association_pk', ['context_id', 'execution_id'])
        .execute();
      await db.schema.createIndex('association_execution_idx').on('association').column('execution_id').execute();
    },
  };
}

/** The metadata store's migrations by name. */
export const metadataMigrations: StoreMigrations = (dialect) => ({
  '0001_metadata': metadataMigration(dialect),
  [EXECUTION_OWNER_MIGRATION]: executionOwnerMigration,
  [EXECUTION_LOG_MIGRATION]: executionLogMigration,
});
