/**
 * The CLI's stored tokens: one JSON file in the user's config folder (never in a project),
 * readable by its owner only (0600, in a 0700 folder), written atomically. A file others
 * can read is refused, as ssh refuses a readable private key. Keys are server URLs, or
 * `default` for projects opened directly.
 *
 * Usage: `await saveCredential(path, 'default', secret); const secret = (await readCredentials(path)).default`
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';

const credentialsSchema = z.record(z.string().min(1), z.string().min(1).max(4096));
export type Credentials = z.infer<typeof credentialsSchema>;

/** The stored tokens; empty when there is no file yet. */
export async function readCredentials(path: string): Promise<Credentials> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new LoomError('FAILED_PRECONDITION', `${path} can be read by other users (mode ${(mode & 0o777).toString(8)}), so its tokens are not used`, {
      fix: `chmod 600 ${path}, then revoke the tokens in it that others may have read (\`loom token revoke <id>\`)`,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new LoomError('INVALID_ARGUMENT', `${path} is not valid JSON`, { fix: `delete it and run \`loom login\` again` });
  }
  return parseInput(credentialsSchema, raw, { what: path, fix: 'delete it and run `loom login` again' });
}

/** Stores (or replaces) one token, keeping the others. */
export async function saveCredential(path: string, key: string, secret: string): Promise<void> {
  const credentials = { ...(await readCredentials(path)), [key]: secret };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  // Created 0600 and renamed over the old file, so the token is never readable by others, even briefly.
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
