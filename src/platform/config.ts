/**
 * Loom's configuration: the only reader of the environment. It merges, highest first,
 * values given by the caller, the environment, and the project's `loom.config.json`
 * (in the current directory), validates them, and decides where the project's files
 * live (`layout.ts`). `openPlatform(config)` builds everything from the result.
 *
 *   LOOM_HOME                    the project's home folder (default ./.loom)
 *   LOOM_DATABASE_URL            postgres://…, sqlite:PATH or a file path (default <home>/loom.db)
 *   LOOM_DUCKDB_MEMORY_LIMIT     e.g. 2GB: DuckDB spills to disk past it
 *   LOOM_DUCKDB_THREADS          DuckDB's worker threads
 *   LOOM_DUCKDB_TEMP_DIRECTORY   where DuckDB spills
 *   LOOM_ACTOR, else USER        who changes aliases and deployments
 *   LOOM_LOG_LEVEL               the servers' JSON log level (info; silent, fatal … trace)
 *   LOOM_DEBUG                   print stack traces of internal errors (read by `debug.ts`, re-exported here)
 *
 * loom.config.json: `{ "home", "database": "<url>" | { "url", "schema" }, "artifacts",
 * "duckdb": { "memoryLimit", "threads", "tempDirectory" }, "actor", "auth", "http", "logLevel",
 * "monitor": { "retention": { "maxAgeDays", "maxSize", "everyMinutes" } }, "serve": { "grpcPort" }, "server": { "workers" } }`, paths relative to its folder
 * ("auth" and "http": authentication, CORS origins, rate limits and load shedding of the servers, docs/security.md;
 * "serve.grpcPort": the port `loom serve` also answers KServe V2 gRPC on, off when unset;
 * "server.workers": how many processes `loom server` runs on its port, default 1).
 *
 * Usage: `const platform = await openPlatform(loadConfig())`
 */
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { logLevelSchema, type LogLevel } from '../core/log-level.js';
import { parseInput } from '../core/validation.js';
import { authSettingsSchema, httpSettingsSchema, type AuthSettings, type HttpSettings } from '../auth/settings.js';
import { MEMORY_LIMIT, type DuckDBOptions } from '../data/duckdb-settings.js';
import { checkArtifactsUrl, checkDatabaseUrl, urlScheme } from './backends.js';
import { projectLayout, type ProjectLayout } from './layout.js';
import { SCHEMA_NAME } from './schema-name.js';

export { isDebug } from './debug.js';

/** The project config file's name, looked for in the current directory. */
export const CONFIG_FILE = 'loom.config.json';

/** A validated configuration: where the project is and what it runs on. */
export interface LoomConfig {
  /** The project's home folder (absolute). */
  home: string;
  /** Where `home` came from, for messages: `LOOM_HOME`, the config file, or `./.loom`. */
  homeFrom: string;
  /** The config file that was read, if there was one. */
  configFile?: string;
  /** The database URL (`sqlite:<absolute path>` or `postgres://…`) and, on PostgreSQL, the schema. */
  database: { url: string; schema?: string };
  /** The artifact store URL (`file:` for a local folder). */
  artifacts: { url: string };
  layout: ProjectLayout;
  /** Limits every DuckDB engine of this process runs with. */
  duckdb: DuckDBOptions;
  /** Who changes aliases and deployments, unless a command says otherwise. */
  actor: string;
  /** Authentication of the servers (`auth` in the config file; see docs/security.md). */
  auth: AuthSettings;
  /** How much `loom serve` and `loom server` log (pino JSON lines on stdout); default `info`. */
  logLevel: LogLevel;
  /** Monitoring: how long and how much of the prediction log is kept (none: all of it). */
  monitor: { retention: { maxAgeMs?: number; maxBytes?: number; everyMs?: number } };
  /** CORS origins, rate limits and load shedding of the servers (`http` in the config file; see docs/security.md). */
  http: HttpSettings;
  /** `loom serve`: the port of its KServe V2 gRPC endpoint (`serve.grpcPort`; none: no gRPC). */
  serve: { grpcPort?: number };
  /** `loom server`: how many worker processes share its port (`server.workers`; none: one process). */
  server: { workers?: number };
}

const text = z.string().trim().min(1);
const memoryLimit = text.regex(MEMORY_LIMIT, { error: (issue) => `${JSON.stringify(issue.input)} is not a memory size; write it like 64MB, 2GB or 512MiB` });
const schemaName = text.regex(SCHEMA_NAME, 'is not a usable PostgreSQL schema name (letters, digits and underscores, not starting with a digit)');

/** What the config file (and a caller's overrides) may set; unknown keys are refused, so a typo is caught. */
const fileSchema = z.strictObject({
  home: text.optional(),
  database: z.union([text, z.strictObject({ url: text, schema: schemaName.optional() })]).optional(),
  artifacts: text.optional(),
  duckdb: z.strictObject({ memoryLimit: memoryLimit.optional(), threads: z.number().int().min(1).optional(), tempDirectory: text.optional() }).optional(),
  actor: text.optional(),
  auth: authSettingsSchema.optional(),
  logLevel: logLevelSchema.optional(),
  monitor: z
    .strictObject({
      retention: z.strictObject({ maxAgeDays: z.number().positive().optional(), maxSize: memoryLimit.optional(), everyMinutes: z.number().positive().optional() }).optional(),
    })
    .optional(),
  http: httpSettingsSchema.optional(),
  serve: z.strictObject({ grpcPort: z.number().int().min(0).max(65535).optional() }).optional(),
  server: z.strictObject({ workers: z.number().int().min(1).max(256).optional() }).optional(),
});

/** Values that a caller (a test, a command's flag) sets over the environment and the file. */
export type ConfigOverrides = z.input<typeof fileSchema>;

// An empty variable counts as unset, as shells make it easy to set one to "".
const envText = z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), text.optional());
const envSchema = z.object({
  LOOM_HOME: envText,
  LOOM_DATABASE_URL: envText,
  LOOM_DUCKDB_MEMORY_LIMIT: z.preprocess((value) => (value === '' ? undefined : value), memoryLimit.optional()),
  LOOM_DUCKDB_THREADS: z.preprocess((value) => (value === '' || value === undefined ? undefined : Number(value)), z.number({ error: 'is not a number' }).int('is not a whole number').min(1, 'must be at least 1').optional()),
  LOOM_DUCKDB_TEMP_DIRECTORY: envText,
  LOOM_ACTOR: envText,
  LOOM_LOG_LEVEL: z.preprocess((value) => (typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : undefined), logLevelSchema.optional()),
  USER: envText,
});

export interface LoadConfigOptions {
  /** Default `process.env`; tests pass their own so the developer's settings do not leak in. */
  env?: Record<string, string | undefined>;
  /** Where `./.loom` and `loom.config.json` are looked for; default the current directory. */
  cwd?: string;
  overrides?: ConfigOverrides;
}

/**
 * Reads and validates the configuration. INVALID_ARGUMENT naming the variable or file
 * field, with the fix, for a value that cannot be used. Opens nothing.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoomConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = parseInput(envSchema, options.env ?? process.env, {
    what: 'the environment',
    fix: 'correct or unset the variables named above (see "Stores and configuration" in docs/architecture.md)',
  });
  const configFile = join(cwd, CONFIG_FILE);
  const hasFile = existsSync(configFile);
  const file = hasFile ? readConfigFile(configFile) : {};
  const overrides = parseInput(fileSchema, options.overrides ?? {}, { what: 'the config overrides' });
  const inFile = (field: string) => `${field} (${configFile})`;

  const home =
    overrides.home !== undefined ? { path: resolve(cwd, overrides.home), from: 'the caller' }
    : env.LOOM_HOME !== undefined ? { path: resolve(cwd, env.LOOM_HOME), from: 'LOOM_HOME' }
    : file.home !== undefined ? { path: resolve(cwd, file.home), from: inFile('home') }
    : { path: join(cwd, '.loom'), from: `./.loom in ${cwd}` };

  const artifactsValue = overrides.artifacts ?? file.artifacts;
  const artifacts = artifactsValue === undefined ? pathToFileURL(join(home.path, 'artifacts')).href : asUrl(artifactsValue, cwd, 'file:');
  const artifactsRoot = checkArtifactsUrl(artifacts, overrides.artifacts !== undefined ? 'artifacts' : inFile('artifacts'));
  const layout = projectLayout(home.path, artifactsRoot);

  const [databaseValue, databaseField] =
    overrides.database !== undefined ? [overrides.database, 'database']
    : env.LOOM_DATABASE_URL !== undefined ? [env.LOOM_DATABASE_URL, 'LOOM_DATABASE_URL']
    : file.database !== undefined ? [file.database, inFile('database')]
    : [`sqlite:${layout.database}`, 'database'];
  const database = typeof databaseValue === 'string' ? { url: databaseValue } : databaseValue;
  const databaseUrl = asUrl(database.url, cwd, 'sqlite:');
  if (checkDatabaseUrl(databaseUrl, databaseField) === 'sqlite' && database.schema !== undefined) {
    throw new LoomError('INVALID_ARGUMENT', `${databaseField}: a schema is only for PostgreSQL, and the database is SQLite`, { field: databaseField, fix: 'remove "schema", or give a postgres:// URL' });
  }

  const duckdb: DuckDBOptions = {
    ...defined({ memoryLimit: file.duckdb?.memoryLimit, threads: file.duckdb?.threads, tempDirectory: file.duckdb?.tempDirectory }),
    ...defined({ memoryLimit: env.LOOM_DUCKDB_MEMORY_LIMIT, threads: env.LOOM_DUCKDB_THREADS, tempDirectory: env.LOOM_DUCKDB_TEMP_DIRECTORY }),
    ...defined({ memoryLimit: overrides.duckdb?.memoryLimit, threads: overrides.duckdb?.threads, tempDirectory: overrides.duckdb?.tempDirectory }),
  };
  if (duckdb.tempDirectory) duckdb.tempDirectory = resolve(cwd, duckdb.tempDirectory);

  return {
    home: home.path,
    homeFrom: home.from,
    ...(hasFile && { configFile }),
    database: { url: databaseUrl, ...(database.schema !== undefined && { schema: database.schema }) },
    artifacts: { url: artifacts },
    layout,
    duckdb,
    actor: overrides.actor ?? env.LOOM_ACTOR ?? file.actor ?? env.USER ?? loginName(),
    auth: overrides.auth ?? file.auth ?? authSettingsSchema.parse({}),
    logLevel: overrides.logLevel ?? env.LOOM_LOG_LEVEL ?? file.logLevel ?? 'info',
    monitor: { retention: retentionOf(overrides.monitor?.retention ?? file.monitor?.retention) },
    http: overrides.http ?? file.http ?? httpSettingsSchema.parse({}),
    serve: defined({ grpcPort: overrides.serve?.grpcPort ?? file.serve?.grpcPort }),
    server: defined({ workers: overrides.server?.workers ?? file.server?.workers }),
  };
}

function readConfigFile(path: string): z.output<typeof fileSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('INVALID_ARGUMENT', `cannot read ${path}: ${message}`, { field: CONFIG_FILE, fix: `make ${CONFIG_FILE} one JSON object, or remove it` });
  }
  return parseInput(fileSchema, raw, { what: path, fix: `correct the fields named above; ${CONFIG_FILE} may set home, database, artifacts, duckdb, actor, auth, http, logLevel, monitor and serve` });
}

/** A URL as given, or a path (relative to `cwd`) made into one with `scheme`. */
function asUrl(value: string, cwd: string, scheme: 'sqlite:' | 'file:'): string {
  if (value === ':memory:') return 'sqlite::memory:';
  const sqlitePath = /^sqlite:(?:\/\/)?(.+)$/i.exec(value)?.[1];
  // A relative SQLite path is the caller's, not the one of whichever folder opens it later.
  if (sqlitePath && sqlitePath !== ':memory:' && !isAbsolute(sqlitePath)) return `sqlite:${resolve(cwd, sqlitePath)}`;
  if (urlScheme(value)) return value;
  const path = isAbsolute(value) ? value : resolve(cwd, value);
  return scheme === 'file:' ? pathToFileURL(path).href : `sqlite:${path}`;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** The retention policy in milliseconds and bytes (sizes are checked by the schema's pattern). */
function retentionOf(retention: { maxAgeDays?: number; maxSize?: string; everyMinutes?: number } | undefined): LoomConfig['monitor']['retention'] {
  const size = retention?.maxSize && /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(retention.maxSize);
  return defined({
    maxAgeMs: retention?.maxAgeDays === undefined ? undefined : retention.maxAgeDays * 86_400_000,
    maxBytes: size ? Math.floor(Number(size[1]) * SIZE_UNITS[size[2]!.toLowerCase()]!) : undefined,
    everyMs: retention?.everyMinutes === undefined ? undefined : retention.everyMinutes * 60_000,
  });
}

function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
