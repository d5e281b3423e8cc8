/**
 * Fresh databases for the store tests: a SQLite file in a temporary folder, or a fresh
 * random schema on the PostgreSQL server named by LOOM_TEST_POSTGRES_URL (dropped on close).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { openDatabase, type LoomDatabase } from '../../src/metadata/database.js';
import type { DialectKind, LoomKysely } from '../../src/metadata/db-schema.js';
import { createPostgresKysely } from '../../src/metadata/postgres-store.js';
import { createSqliteKysely } from '../../src/metadata/sqlite-store.js';

/** A Loom database that removes itself (file or schema) when closed. */
export async function openFreshSqlite(): Promise<LoomDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'loom-db-'));
  const db = await openDatabase({ kind: 'sqlite', path: join(dir, 'loom.db') });
  return {
    ...db,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function randomSchemaName(): string {
  return `loom_test_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** A Loom database in a new random schema of the test server; closing it drops the schema. */
export async function openFreshPostgres(url: string): Promise<LoomDatabase> {
  const schema = randomSchemaName();
  const db = await openDatabase({ kind: 'postgres', url, schema });
  return {
    ...db,
    async close() {
      await db.close();
      await dropSchema(url, schema);
    },
  };
}

/**
 * The test server's URL, or undefined after registering why the suite does not run:
 * in CI a missing server is a failure; on a laptop it is a skip that says how to get one.
 */
export function postgresTestUrl(suite: string): string | undefined {
  const url = process.env.LOOM_TEST_POSTGRES_URL;
  if (url) return url;
  if (process.env.CI) {
    test(`${suite} (PostgreSQL)`, () => {
      assert.fail('LOOM_TEST_POSTGRES_URL is not set in CI: run the tests with `npm test`, which starts a PostgreSQL server');
    });
  } else {
    test(`${suite} (PostgreSQL)`, {
      skip: 'LOOM_TEST_POSTGRES_URL is not set; run `npm test` (it starts a throwaway PostgreSQL server) to include these tests',
    }, () => {});
  }
  return undefined;
}

/** A bare query builder on a fresh database, for stores that own their tables (tokens, audit). */
export interface FreshKysely {
  db: LoomKysely;
  dialect: DialectKind;
  /** The PostgreSQL schema (undefined on SQLite). */
  schema?: string;
  /** The SQLite file (undefined on PostgreSQL). */
  path?: string;
  /** A second, independent connection pool to the same database, for concurrency tests. */
  reopen(): Promise<LoomKysely>;
  close(): Promise<void>;
}

/** A fresh SQLite file, or a fresh schema on the test server when `url` is given; closing removes it. */
export async function openFreshKysely(url?: string): Promise<FreshKysely> {
  const opened: LoomKysely[] = [];
  if (url) {
    const schema = randomSchemaName();
    const reopen = async () => {
      const db = await createPostgresKysely(url, schema);
      opened.push(db);
      return db;
    };
    return {
      db: await reopen(),
      dialect: 'postgres',
      schema,
      reopen,
      async close() {
        for (const db of opened) await db.destroy();
        await dropSchema(url, schema);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'loom-db-'));
  const reopen = async () => {
    const db = createSqliteKysely(join(dir, 'loom.db'));
    opened.push(db);
    return db;
  };
  return {
    db: await reopen(),
    dialect: 'sqlite',
    path: join(dir, 'loom.db'),
    reopen,
    async close() {
      for (const db of opened) await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
