/**
 * The backends, chosen by the scheme of a URL (as MLflow's store registry does): one
 * table for the database and one for the artifact store. Supporting a new kind (an
 * S3-compatible artifact store, another database) is a new entry here, not an edit of
 * the commands that open a project.
 *
 *   database   sqlite:<path> (or a bare file path), sqlite::memory:, postgres://… / postgresql://…
 *   artifacts  file:<path> (or a bare folder path)
 *
 * A database's driver is imported when a database of its kind is opened, not with this table:
 * checking a URL (every `loom` start reads the configuration) loads neither `pg` nor
 * better-sqlite3, and a project on SQLite never loads `pg`.
 *
 * Usage: `const { db, dialect, close } = await openDatabaseUrl('sqlite:/p/.loom/loom.db')`
 */
import { fileURLToPath } from 'node:url';
import { LoomError } from '../core/errors.js';
import type { DialectKind } from '../core/sql-dialect.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { LocalArtifactStore } from '../store/local-artifact-store.js';
import type { OpenedDatabase } from './sqlite-backend.js';

interface DatabaseBackend {
  dialect: DialectKind;
  /** Why the URL cannot be used, or undefined when it can. */
  problem(url: string): string | undefined;
  /** Connects and brings every store's tables up to date. */
  open(url: string, schema?: string): Promise<OpenedDatabase>;
}

interface ArtifactBackend {
  problem(url: string): string | undefined;
  open(url: string): ArtifactStore;
  /** The folder the store keeps its files in, when it keeps them on this machine. */
  localRoot(url: string): string | undefined;
}

/** `sqlite:/abs`, `sqlite:///abs` and `sqlite::memory:` name the file (or memory) after the scheme. */
function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

const sqlite: DatabaseBackend = {
  dialect: 'sqlite',
  problem: (url) => (sqlitePath(url) ? undefined : 'names no file'),
  open: async (url) => (await import('./sqlite-backend.js')).openSqliteDatabase(sqlitePath(url)),
};

const postgres: DatabaseBackend = {
  dialect: 'postgres',
  problem(url) {
    try {
      return new URL(url).hostname ? undefined : 'names no host';
    } catch {
      return 'is not a parseable URL';
    }
  },
  open: async (url, schema) => (await import('./postgres-backend.js')).openPostgresDatabase(url, schema),
};

const DATABASE_BACKENDS: Record<string, DatabaseBackend> = { 'sqlite:': sqlite, 'postgres:': postgres, 'postgresql:': postgres };

const localFiles: ArtifactBackend = {
  problem(url) {
    try {
      fileURLToPath(url);
      return undefined;
    } catch {
      return 'is not a local file URL';
    }
  },
  open: (url) => new LocalArtifactStore(fileURLToPath(url)),
  localRoot: (url) => fileURLToPath(url),
};

const ARTIFACT_BACKENDS: Record<string, ArtifactBackend> = { 'file:': localFiles };

/** What the database and artifact URLs may look like, for fixes. */
const DATABASE_URL_FORMS = 'postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, sqlite:PATH or a file path';
const ARTIFACTS_URL_FORMS = 'file:PATH or a folder path';

/** `postgres:` from `postgres://…`; undefined for a plain path (a one-letter scheme is a Windows drive). */
export function urlScheme(value: string): string | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]+:)/.exec(value);
  return match ? match[1]!.toLowerCase() : undefined;
}

function backendFor<T extends { problem(url: string): string | undefined }>(table: Record<string, T>, url: string, what: string, field: string, forms: string): T {
  const scheme = urlScheme(url);
  const backend = scheme ? table[scheme] : undefined;
  const problem = !backend ? `has no ${what} backend for "${scheme ?? url}" (known: ${Object.keys(table).join(', ')})` : backend.problem(url);
  if (problem) throw new LoomError('INVALID_ARGUMENT', `${field} "${redacted(url)}" ${problem}`, { field, fix: `write it as ${forms}` });
  return backend!;
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/** Checks a database URL; INVALID_ARGUMENT naming `field` when no backend takes it. */
export function checkDatabaseUrl(url: string, field: string): DialectKind {
  return backendFor(DATABASE_BACKENDS, url, 'database', field, DATABASE_URL_FORMS).dialect;
}

/** Checks an artifact store URL and returns its local folder, if it has one. */
export function checkArtifactsUrl(url: string, field: string): string | undefined {
  return backendFor(ARTIFACT_BACKENDS, url, 'artifact store', field, ARTIFACTS_URL_FORMS).localRoot(url);
}

/** Opens (and migrates) the database a URL names; UNAVAILABLE when it cannot be reached. */
export async function openDatabaseUrl(url: string, schema?: string): Promise<OpenedDatabase & { dialect: DialectKind }> {
  const backend = backendFor(DATABASE_BACKENDS, url, 'database', 'database', DATABASE_URL_FORMS);
  return { ...(await backend.open(url, schema)), dialect: backend.dialect };
}

/** Opens the artifact store a URL names. */
export function openArtifactStore(url: string): ArtifactStore {
  return backendFor(ARTIFACT_BACKENDS, url, 'artifact store', 'artifacts', ARTIFACTS_URL_FORMS).open(url);
}
