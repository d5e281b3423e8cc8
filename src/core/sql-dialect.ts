/**
 * What every store's tables and migrations share: the two SQL dialects Loom runs on and
 * the one column they spell differently. Each store (metadata, tracking, registry,
 * deployments) declares its own tables with these; `platform/` connects and migrates.
 * Both dialects store the same shapes: ids are integers, JSON is text, timestamps are epoch
 * milliseconds and booleans are 0/1 integers, so every query is written once.
 *
 * Usage: `withId(db.schema.createTable('model'), dialect).addColumn('name', 'text').execute()`
 */
import { PostgresAdapter, type Kysely, type Migration } from 'kysely';
import { LoomError } from './errors.js';

export const DIALECT_KINDS = ['sqlite', 'postgres'] as const;
export type DialectKind = (typeof DIALECT_KINDS)[number];

/** Migrations run before any table has a type, so their builder needs none. */
export type MigrationDb = Kysely<unknown>;
type TableBuilder = ReturnType<MigrationDb['schema']['createTable']>;

/**
 * A store's migrations by name. Names carry one sequence across all stores
 * (`0001_metadata`, `0002_registry`, …) because every database records them in one
 * table, in the order they ran; a new migration of any store takes the next number.
 */
export type StoreMigrations = (dialect: DialectKind) => Record<string, Migration>;

/** Adds the auto-increment primary key `id`, which is the one thing the dialects spell differently. */
export function withId(table: TableBuilder, dialect: DialectKind): TableBuilder {
  return dialect === 'sqlite'
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
}

/**
 * The dialect a connection speaks, for the few statements the dialects spell differently
 * (row locks, JSON paths, GLOB); read from the connection so a store needs no extra argument.
 */
export function dialectOf<Tables>(db: Kysely<Tables>): DialectKind {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * A LIKE pattern as a GLOB pattern, for SQLite, whose LIKE ignores case where MLflow's and
 * PostgreSQL's do not: % and _ become * and ?, GLOB's own wildcards are taken literally, and
 * `\` escapes the next character, as in PostgreSQL's LIKE.
 */
export function likeToGlob(pattern: string): string {
  let glob = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) glob += literalGlob(pattern[++i]);
    else if (c === '%') glob += '*';
    else if (c === '_') glob += '?';
    else glob += literalGlob(c);
  }
  return glob;
}

/**
 * Whether a LIKE pattern ends in a lone `\` (an escape with nothing to escape): PostgreSQL
 * refuses it, but only when matching reaches it, while SQLite quietly matches nothing. Searches
 * refuse such a pattern before querying, so both backends answer alike.
 */
export function likeEndsInEscape(pattern: string): boolean {
  let trailing = 0;
  while (trailing < pattern.length && pattern[pattern.length - 1 - trailing] === '\\') trailing++;
  return trailing % 2 === 1;
}

/** The refusal of a pattern `likeEndsInEscape` finds, on the search's `field`; `where` prefixes the message (e.g. the clause's position). */
export function loneEscapeError(comparator: string, pattern: string, field: string, where = ''): LoomError {
  return new LoomError('INVALID_ARGUMENT', `${where}the ${comparator} pattern '${pattern}' ends in a lone backslash, which escapes nothing`, {
    field,
    fix: `write a literal backslash as \\\\ (e.g. ${comparator} '${pattern}\\'); a single \\ takes the next %, _ or \\ literally`,
  });
}

function literalGlob(c: string): string {
  return c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
}
