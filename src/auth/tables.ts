/**
 * The token store's tables and migrations. The store owns them: they run under their own
 * migration table, beside (not inside) the metadata store's list.
 */
import type { Kysely, Migration } from 'kysely';
import type { DialectKind } from '../metadata/db-schema.js';
import { migrateStoreTables } from '../metadata/migrations.js';

export interface AuthTokenTable {
  id: string;
  name: string;
  subject: string;
  role: string;
  /** JSON: ModelGrant[]. */
  grants: string;
  /** Hex SHA-256 of the secret; the secret itself is never stored. */
  secret_hash: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface AuthTables {
  auth_token: AuthTokenTable;
}

export type AuthKysely = Kysely<AuthTables>;

const migrations: Record<string, Migration> = {
  '0001_auth_token': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('auth_token')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('grants', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
    },
  },
};

/** Creates or updates the token store's tables (safe when several processes open at once). */
export function migrateAuthTables(db: Kysely<any>, dialect: DialectKind, schema?: string): Promise<void> {
  return migrateStoreTables(db, dialect, { migrations, table: 'loom_auth_migration', lockTable: 'loom_auth_migration_lock', schema });
}
