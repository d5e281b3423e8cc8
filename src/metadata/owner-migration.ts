/**
 * Migration 0007: the process that owns each execution while it runs (JSON `ProcessOwner`),
 * so executions of a process killed mid-step can be found and marked FAILED. Kept apart from
 * the metadata store's first migration: it only adds a nullable column, on both backends.
 */
import type { Migration } from 'kysely';
import type { MigrationDb } from '../core/sql-dialect.js';

export const EXECUTION_OWNER_MIGRATION = '0007_execution_owner';

export const executionOwnerMigration: Migration = {
  async up(db: MigrationDb) {
    await db.schema.alterTable('execution').addColumn('owner', 'text').execute();
  },
};
