/**
 * Checkpoint files: JSON written to a temporary name and renamed, so a process killed while
 * writing leaves the previous checkpoint whole. Typed arrays are stored as plain number
 * lists (a float32 written as the shortest decimal of its double reads back bit for bit).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CHECKPOINT_FILE = 'checkpoint.json';

export async function writeCheckpoint(dir: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `${CHECKPOINT_FILE}.${process.pid}.tmp`);
  await writeFile(temporary, JSON.stringify(value, (_key, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as Float32Array) : v)));
  await rename(temporary, join(dir, CHECKPOINT_FILE));
}

/** The checkpoint in `dir`, or undefined if there is none. */
export async function readCheckpoint(dir: string | undefined): Promise<unknown> {
  if (!dir) return undefined;
  const text = await readFile(join(dir, CHECKPOINT_FILE), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : JSON.parse(text);
}
