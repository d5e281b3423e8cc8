/**
 * The options DuckDB engines run with, and the process's defaults, apart from `duckdb.ts`
 * (which re-exports them): every `loom` start checks the configured sizes, and every command
 * that opens a project sets the defaults, and neither should load DuckDB's native binding
 * (about 0.4 s of CPU) unless a step then runs DuckDB.
 */
import { LoomError } from '../core/errors.js';

/** A DuckDB memory size such as `64MB`, `1.5GB` or `512MiB`. */
export const MEMORY_LIMIT = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

export interface DuckDBOptions {
  /** e.g. '2GB'; default the process's (`setDuckDBDefaults`), else DuckDB's own (80% of RAM). */
  memoryLimit?: string;
  threads?: number;
  /** Where DuckDB spills past the memory limit; default the process's, else DuckDB's own. */
  tempDirectory?: string;
}

let processDefaults: DuckDBOptions = {};

/**
 * Sets the limits every DuckDB engine of this process runs with unless a call gives its
 * own. `openPlatform` sets them from the config (LOOM_DUCKDB_MEMORY_LIMIT, …), so every
 * step of a command runs under the project's limits without passing them down.
 */
export function setDuckDBDefaults(options: DuckDBOptions): void {
  duckDBSettings(options);
  processDefaults = { ...options };
}

/** The limits set by `setDuckDBDefaults` (the config's). */
export function duckDBDefaults(): Readonly<DuckDBOptions> {
  return processDefaults;
}

/** The options every data step runs DuckDB with: explicit ones win over the process's defaults. */
export function duckDBSettings(options: DuckDBOptions = {}): Record<string, string> {
  const settings: Record<string, string> = {};
  const memoryLimit = options.memoryLimit ?? processDefaults.memoryLimit;
  if (memoryLimit) {
    if (!MEMORY_LIMIT.test(memoryLimit)) {
      throw new LoomError('INVALID_ARGUMENT', `memoryLimit "${memoryLimit}" is not a memory size`, { field: 'memoryLimit', fix: 'write it like 64MB, 2GB or 512MiB' });
    }
    settings.memory_limit = memoryLimit;
  }
  const threads = options.threads ?? processDefaults.threads;
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new LoomError('INVALID_ARGUMENT', `DuckDB threads "${threads}" is not a positive integer`, { field: 'threads' });
    }
    settings.threads = String(threads);
  }
  const tempDirectory = options.tempDirectory ?? processDefaults.tempDirectory;
  if (tempDirectory) settings.temp_directory = tempDirectory;
  return settings;
}
