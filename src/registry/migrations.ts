/**
 * The registry's migrations (deployments have theirs in `deployment-migrations.ts`). The
 * platform runs every store's migrations together (`platform/migrate.ts`), in name order.
 */
import { sql, type Migration } from 'kysely';
import { withId, type DialectKind, type MigrationDb, type StoreMigrations } from '../core/sql-dialect.js';
import { TOMBSTONE_MIGRATION, tombstoneMigration } from './tombstone-migration.js';
import { VERSION_CHANGE_MIGRATION, versionChangeMigration } from './version-change-migration.js';

function registryMigration(dialect: DialectKind): Migration {
  return {
    async up(db: MigrationDb) {
      await withId(db.schema.createTable('registered_model'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('latest_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('model_version'), dialect)
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('artifact_id', 'bigint')
        .addColumn('run_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('signature', 'text')
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('model_version_unique', ['model_id', 'version'])
        .execute();

      await db.schema
        .createTable('model_alias')
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_alias_pk', ['model_id', 'alias'])
        .addForeignKeyConstraint('model_alias_version_fk', ['model_id', 'version'], 'model_version', [
          'model_id',
          'version',
        ])
        .execute();

      await withId(db.schema.createTable('alias_move'), dialect)
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer')
        .addColumn('previous_version', 'integer')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('moved_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alias_move_idx').on('alias_move').columns(['model_id', 'alias', 'id']).execute();
    },
  };
}

/**
 * Registry lifecycle: version lineage, archiving and update times; how each alias moved
 * (so rollbacks can be undone in order); per-model approval rules and the requests they need.
 * SQLite adds one column per ALTER statement, so each column is its own statement.
 */
function registryLifecycleMigration(dialect: DialectKind): Migration {
  return {
    async up(db: MigrationDb) {
      await db.schema.alterTable('model_version').addColumn('lineage', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await db.schema.alterTable('model_version').addColumn('archived_at', 'bigint').execute();
      await db.schema.alterTable('model_version').addColumn('updated_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await sql`update model_version set updated_at = created_at`.execute(db);
      await db.schema.alterTable('registered_model').addColumn('approval_aliases', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('alias_move').addColumn('kind', 'text', (c) => c.notNull().defaultTo('set')).execute();
      await sql`update alias_move set kind = 'delete' where version is null`.execute(db);

      await withId(db.schema.createTable('alias_request'), dialect)
        .addColumn('model_id', 'bigint', (c) => c.notNull().references('registered_model.id'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'bigint')
        .execute();
      await db.schema.createIndex('alias_request_model_idx').on('alias_request').columns(['model_id', 'id']).execute();
    },
  };
}

/** The registry's migrations by name. */
export const registryMigrations: StoreMigrations = (dialect) => ({
  '0002_registry': registryMigration(dialect),
  '0003_registry_lifecycle': registryLifecycleMigration(dialect),
  [VERSION_CHANGE_MIGRATION]: versionChangeMigration(dialect),
  [TOMBSTONE_MIGRATION]: tombstoneMigration(),
});
