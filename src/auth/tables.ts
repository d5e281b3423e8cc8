/** The token store's table and migration; the platform runs it with every store's (`platform/migrate.ts`). */
import type { Kysely } from 'kysely';
import type { StoreMigrations } from '../core/sql-dialect.js';

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

/** The token store's migrations (run by the platform with every store's, in name order). */
export const authMigrations: StoreMigrations = () => ({
  '0006_auth_token': {
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
});
