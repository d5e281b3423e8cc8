/**
 * Opens the Loom database: the metadata store and the registry store over one shared
 * Kysely instance, on embedded SQLite (the default) or PostgreSQL, migrated to the newest
 * schema on open.
 *
 * Usage:
 *   const db = await openDatabase(databaseConfigFromEnv(projectDir));
 *   try { await db.metadata.putContext({ typeName: 'pipeline', name: 'flights' }); } finally { await db.close(); }
 */
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { KyselyRegistryStore } from '../registry/kysely-registry-store.js';
import type { RegistryStore } from '../registry/store.js';
import { KyselyTrackingStore } from '../tracking/kysely-tracking-store.js';
import type { TrackingStore } from '../tracking/store.js';
import { DeploymentStore } from '../serve/deployments.js';
import type { LoomKysely } from './db-schema.js';
import { KyselyMetadataStore } from './kysely-metadata-store.js';
import { migrateToLatest } from './migrations.js';
import { createPostgresKysely } from './postgres-store.js';
import { createSqliteKysely } from './sqlite-store.js';
import type { MetadataStore } from './store.js';

const POSTGRES_URL = /^postgres(ql)?:\/\/[^\s]+$/;

function isUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

const databaseConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite'), path: z.string().min(1) }),
  z.object({
    kind: z.literal('postgres'),
    url: z.string().regex(POSTGRES_URL).refine(isUrl, 'not a parseable URL'),
    schema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/)
      .optional(),
  }),
]);

/** Where the Loom database lives: a SQLite file, or a PostgreSQL server (and optionally a schema in it). */
export type DatabaseConfig = z.infer<typeof databaseConfigSchema>;

/** The metadata and registry stores on one database; `close()` closes both. */
export interface LoomDatabase {
  metadata: MetadataStore;
  registry: RegistryStore;
  /** Experiments, runs, params, metrics and tags (MLflow tracking); see `tracking/store.ts`. */
  tracking: TrackingStore;
  /** Online-server deployments (canary, shadow, rollback); see `serve/deployments.ts`. */
  deployments: DeploymentStore;
  /** The shared query builder, for stores that own their tables (API tokens, the audit log). */
  connection: DatabaseConnection;
  close(): Promise<void>;
}

/** The query builder under a Loom database, with what its stores need to migrate their own tables. */
export interface DatabaseConnection {
  db: LoomKysely;
  dialect: DatabaseConfig['kind'];
  /** The PostgreSQL schema (undefined: `public`, or SQLite). */
  schema?: string;
}

const URL_FIX = 'set LOOM_DATABASE_URL to postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, or unset it to use the embedded SQLite database';

/**
 * The database a project uses: PostgreSQL if `LOOM_DATABASE_URL` is set, otherwise
 * SQLite at `<projectDir>/.loom/loom.db`. INVALID_ARGUMENT for a URL that is not postgres://.
 */
export function databaseConfigFromEnv(projectDir: string, env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const url = env.LOOM_DATABASE_URL?.trim();
  if (!url) return { kind: 'sqlite', path: join(projectDir, '.loom', 'loom.db') };
  if (!POSTGRES_URL.test(url) || !isUrl(url)) {
    throw new LoomError('INVALID_ARGUMENT', 'LOOM_DATABASE_URL is not a PostgreSQL URL (it must start with postgres:// or postgresql://)', {
      field: 'LOOM_DATABASE_URL',
      fix: URL_FIX,
    });
  }
  return { kind: 'postgres', url };
}

/**
 * Opens the database and runs any pending migrations (safe when several processes open
 * it at once). INVALID_ARGUMENT for a bad config; UNAVAILABLE if the server cannot be reached.
 */
export async function openDatabase(config: DatabaseConfig): Promise<LoomDatabase> {
  const parsed = databaseConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'kind';
    throw new LoomError('INVALID_ARGUMENT', `invalid database config: ${field}: ${issue.message}`, {
      field,
      fix: field === 'url' ? URL_FIX : "use { kind: 'sqlite', path } or { kind: 'postgres', url, schema? }",
    });
  }
  const valid = parsed.data;
  if (valid.kind === 'sqlite') {
    // An in-memory database is private to its connection, so it is never shared.
    return valid.path === ':memory:' ? openSqlite(valid.path) : openSharedSqlite(resolve(valid.path));
  }
  const db = await createPostgresKysely(valid.url, valid.schema);
  await migrateOrDestroy(db, 'postgres', valid.schema);
  let closing: Promise<void> | undefined;
  return storesOver({ db, dialect: 'postgres', schema: valid.schema }, () => (closing ??= db.destroy()));
}

async function migrateOrDestroy(db: LoomKysely, kind: DatabaseConfig['kind'], schema?: string): Promise<void> {
  try {
    await migrateToLatest(db, kind, schema);
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
}

/** Both stores share the connection(s), so closing either one, or the database, closes it once. */
function storesOver(connection: DatabaseConnection, close: () => Promise<void>): LoomDatabase {
  const { db } = connection;
  return {
    connection,
    metadata: new KyselyMetadataStore(db, close),
    registry: new KyselyRegistryStore(db, close),
    tracking: new KyselyTrackingStore(db, close),
    deployments: new DeploymentStore(db),
    close,
  };
}

/**
 * better-sqlite3 is synchronous: a second connection to the same file in this process
 * would wait for a lock while blocking the event loop the first connection needs to
 * release it. So every open of one file in one process shares one connection, closed
 * when the last handle is.
 */
const sharedSqlite = new Map<string, { ready: Promise<LoomKysely>; handles: number }>();

async function openSqlite(path: string): Promise<LoomDatabase> {
  const db = createSqliteKysely(path);
  await migrateOrDestroy(db, 'sqlite');
  let closing: Promise<void> | undefined;
  return storesOver({ db, dialect: 'sqlite' }, () => (closing ??= db.destroy()));
}

async function openSharedSqlite(path: string): Promise<LoomDatabase> {
  let entry = sharedSqlite.get(path);
  if (!entry) {
    const ready = (async () => {
      const db = createSqliteKysely(path);
      await migrateOrDestroy(db, 'sqlite');
      return db;
    })();
    entry = { ready, handles: 0 };
    sharedSqlite.set(path, entry);
    ready.catch(() => sharedSqlite.delete(path));
  }
  entry.handles++;
  const shared = entry;
  let db: LoomKysely;
  try {
    db = await shared.ready;
  } catch (error) {
    shared.handles--;
    throw error;
  }
  let closing: Promise<void> | undefined;
  return storesOver({ db, dialect: 'sqlite' }, () =>
    (closing ??= (async () => {
      shared.handles--;
      if (shared.handles === 0) {
        sharedSqlite.delete(path);
        await db.destroy();
      }
    })()),
  );
}
