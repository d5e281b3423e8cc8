/**
 * Fresh platforms for tests, opened the one way every entry point opens Loom
 * (`loadConfig` + `openPlatform`), with none of the developer's environment: a project in
 * a temporary folder on SQLite, or with its database in a fresh random schema on the
 * PostgreSQL server named by LOOM_TEST_POSTGRES_URL (dropped on close).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { loadConfig, type ConfigOverrides, type LoomConfig } from '../../src/platform/config.js';
import { openPlatform, type Platform } from '../../src/platform/platform.js';
import type { Kysely } from 'kysely';
import type { DialectKind } from '../../src/core/sql-dialect.js';
import { migrateToLatest } from '../../src/platform/migrate.js';
import { createPostgresKysely } from '../../src/platform/postgres-backend.js';
import { createSqliteKysely } from '../../src/platform/sqlite-backend.js';

/** The config of a test project at `home` (its database `<home>/loom.db` unless overridden); the environment is left out. */
export function testConfig(home: string, overrides: ConfigOverrides = {}): LoomConfig {
  return loadConfig({ env: {}, cwd: home, overrides: { home, ...overrides } });
}

/** The platform of a test project at `home`, made if missing. */
export function openTestPlatform(home: string, overrides: ConfigOverrides = {}): Promise<Platform> {
  return openPlatform(testConfig(home, overrides), { create: true });
}

/** A Loom platform that removes itself (folder, and schema) when closed. */
export async function openFreshSqlite(): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'loom-db-'));
  const db = await openTestPlatform(dir);
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

/** A Loom platform with its database in a new random schema of the test server; closing it drops the schema. */
export async function openFreshPostgres(url: string): Promise<Platform> {
  const schema = randomSchemaName();
  const dir = mkdtempSync(join(tmpdir(), 'loom-db-'));
  const db = await openTestPlatform(dir, { database: { url, schema } });
  return {
    ...db,
    async close() {
      await db.close();
      await dropSchema(url, schema);
      rmSync(dir, { recursive: true, force: true });
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

/** A bare query builder on a fresh, migrated database, for stores tested below the platform (tokens, audit). */
export interface FreshKysely {
  db: Kysely<any>;
  dialect: DialectKind;
  /** The PostgreSQL schema (undefined on SQLite). */
  schema?: string;
  /** The SQLite file (undefined on PostgreSQL). */
  path?: string;
  close(): Promise<void>;
}

/** A fresh SQLite file, or a fresh schema on the test server when `url` is given, with every store's tables; closing removes it. */
export async function openFreshKysely(url?: string): Promise<FreshKysely> {
  if (url) {
    const schema = randomSchemaName();
    const db = await createPostgresKysely(url, schema);
    await migrateToLatest(db, 'postgres', schema);
    return {
      db,
      dialect: 'postgres',
      schema,
      async close() {
        await db.destroy();
        await dropSchema(url, schema);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'loom-db-'));
  const path = join(dir, 'loom.db');
  const db = createSqliteKysely(path);
  await migrateToLatest(db, 'sqlite');
  return {
    db,
    dialect: 'sqlite',
    path,
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
