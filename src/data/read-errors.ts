/**
 * DuckDB's reading and binding errors turned into one readable LoomError that names the
 * source, the line and the field at fault (without DuckDB's SQL excerpts and hints).
 */
import { extname } from 'node:path';
import { LoomError } from '../core/errors.js';

export interface Column {
  name: string;
  type: string;
}

/** Runs work that reads the source, turning DuckDB's reading errors into a readable LoomError. */
export async function guard<T>(source: string, work: () => Promise<T>, onlyReading = true): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LoomError) throw error;
    throw readError(source, error instanceof Error ? error.message : String(error), onlyReading);
  }
}

/** `onlyReading`: the failed work only read the source, so any error is the source's. */
export function readError(source: string, message: string, onlyReading = true): LoomError {
  if (/No files found that match/.test(message)) {
    return new LoomError('NOT_FOUND', `no file matches the source "${source}"`, { field: 'source' });
  }
  if (/Out of Memory|could not allocate block/.test(message)) {
    return new LoomError('RESOURCE_EXHAUSTED', `reading "${source}" needs more memory than DuckDB's limit: ${cleanDuckDBMessage(message)}`, {
      fix: 'raise memoryLimit (or LOOM_DUCKDB_MEMORY_LIMIT), or lower LOOM_DUCKDB_THREADS',
    });
  }
  const kind = extname(source).slice(1).toUpperCase() || 'source';
  if (/Error when sniffing file/.test(message)) {
    return new LoomError('INVALID_ARGUMENT', `cannot read ${kind} file "${source}": its layout (delimiter, quoting, columns per row) could not be detected`, {
      field: 'source',
      fix: 'check that every row has as many fields as the header and that quotes are closed',
    });
  }
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const original = /Original Line: (.*)/.exec(message)?.[1];
  const problem = cleanDuckDBMessage(message).replace(/Expected Number of Columns: (\d+) Found: (\d+)/, 'expected $1 fields, found $2');
  if (line || onlyReading) {
    return new LoomError('INVALID_ARGUMENT', `cannot read ${kind} file "${source}"${line ? ` line ${line}` : ''}${original ? ` (${JSON.stringify(original)})` : ''}: ${problem}`, {
      field: 'source',
    });
  }
  // Not a reading problem: a select or where expression failed on some row.
  return new LoomError('INVALID_ARGUMENT', `cannot ingest "${source}": ${problem}`, { fix: 'check the select and where expressions against the data' });
}

/** DuckDB's message on one line, without its error class, its list of possible fixes, its SQL excerpt and the CSV line it quotes. */
export function cleanDuckDBMessage(message: string): string {
  return message
    .split(/\n\s*(?:Possible fixes:|LINE \d+:|\n)/)[0]!
    .replace(/^[A-Za-z ]+ Error: /, '')
    .split('\n')
    .filter((l) => !/^(CSV Error on Line|Original Line)/.test(l))
    .map((l) => l.trim())
    .join(' ');
}

export function describeColumns(columns: Column[]): string {
  return columns.map((c) => `${c.name} (${c.type})`).join(', ');
}

export function unknownColumn(name: string, field: string, available: string[]): LoomError {
  return new LoomError('INVALID_ARGUMENT', `${field} refers to an unknown column "${name}"`, {
    field,
    fix: `use one of: ${available.join(', ')}`,
  });
}
