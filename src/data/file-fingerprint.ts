import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { sqlString, withDuckDB } from './duckdb.js';

/**
 * A cheap fingerprint of files read by path: their paths, sizes and modification times
 * (a glob is expanded). Content hashes would be exact but read gigabytes on every run;
 * size and time change whenever a file is rewritten.
 */
export async function filesFingerprint(pattern: string): Promise<string> {
  const hash = createHash('sha256');
  const paths = pattern.includes('*') ? await expandGlob(pattern) : [pattern];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    hash.update(`${path}\u0000${info ? `${info.size}:${info.mtimeMs}` : 'absent'}\n`);
  }
  return hash.digest('hex');
}

/** The sha256 of a small file's content, or 'absent'. */
export async function smallFileFingerprint(path: string): Promise<string> {
  const content = await readFile(path).catch(() => undefined);
  return content ? createHash('sha256').update(content).digest('hex') : 'absent';
}

/** Node 20 has no fs glob; DuckDB's is the one its readers use, so it matches the same files. */
async function expandGlob(pattern: string): Promise<string[]> {
  return withDuckDB(async (db) => {
    const reader = await db.runAndReadAll(`SELECT file FROM glob(${sqlString(pattern)}) ORDER BY file`);
    return reader.getRowObjects().map((row) => String(row.file));
  });
}
