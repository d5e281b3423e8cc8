/**
 * The embedded artifact store: a local directory, content-addressed.
 *
 *   <root>/staging/<time>-<random>/owner.json   the process writing it (pid, host, start token)
 *   <root>/staging/<time>-<random>/files/...    private to that writer until committed
 *   <root>/objects/sha256/<hex>/...             committed, never modified again
 *
 * `commit` hashes the staged files and renames the staging directory to its content
 * address. A rename within one file system is atomic, so a reader finds either the
 * whole artifact or nothing; equal content is kept once. A writer killed before it
 * commits or discards leaves its staging behind (hundreds of MiB for a large split):
 * `reclaimAbandonedStaging` removes what writers that are gone left, and nothing else.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { LoomError } from '../core/errors.js';
import { currentOwner, ownerState, parseOwner } from '../core/process-owner.js';
import type { ArtifactStore, CommittedArtifact } from './artifact-store.js';

const URI_PREFIX = 'loom-artifact://sha256/';
const OWNER_FILE = 'owner.json';
const FILES_DIR = 'files';

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async stage(): Promise<string> {
    const slot = join(this.stagingRoot(), `${Date.now()}-${randomBytes(6).toString('hex')}`);
    const dir = join(slot, FILES_DIR);
    await mkdir(dir, { recursive: true });
    // Beside the files, not among them, so it is not part of the content hash.
    await writeFile(join(slot, OWNER_FILE), JSON.stringify(currentOwner()));
    return dir;
  }

  /**
   * Removes the staging directories whose writer process on this host has exited (or whose
   * pid now belongs to another process); returns their paths. Staging of live writers, of
   * writers on other hosts, and without a readable owner is left as it is.
   */
  async reclaimAbandonedStaging(): Promise<string[]> {
    const entries = await readdir(this.stagingRoot(), { withFileTypes: true }).catch(() => []);
    const removed: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const slot = join(this.stagingRoot(), entry.name);
      const owner = parseOwner(await readFile(join(slot, OWNER_FILE), 'utf8').catch(() => undefined));
      if (!owner || ownerState(owner) !== 'gone') continue;
      await rm(slot, { recursive: true, force: true });
      removed.push(slot);
    }
    return removed;
  }

  async commit(stagingDir: string): Promise<CommittedArtifact> {
    const { fingerprint, sizeBytes } = await hashDirectory(stagingDir);
    const target = this.objectPath(fingerprint);
    await mkdir(join(this.root, 'objects', 'sha256'), { recursive: true });
    try {
      await rename(stagingDir, target);
    } catch (error) {
      // The same content was committed before (or by a concurrent writer): keep that copy.
      if (!isAlreadyThere(error)) throw error;
      await rm(stagingDir, { recursive: true, force: true });
    }
    await this.releaseSlot(stagingDir);
    return { uri: URI_PREFIX + fingerprint, fingerprint, sizeBytes };
  }

  async discard(stagingDir: string): Promise<void> {
    await rm(stagingDir, { recursive: true, force: true });
    await this.releaseSlot(stagingDir);
  }

  private stagingRoot(): string {
    return join(this.root, 'staging');
  }

  /** Removes the writer's folder (its owner file) once its files are committed or discarded. */
  private async releaseSlot(stagingDir: string): Promise<void> {
    const slot = dirname(resolve(stagingDir));
    if (basename(stagingDir) === FILES_DIR && dirname(slot) === this.stagingRoot()) await rm(slot, { recursive: true, force: true });
  }

  async localPath(uri: string): Promise<string> {
    const path = this.objectPath(parseUri(uri));
    if (!(await isDirectory(path))) {
      throw new LoomError('NOT_FOUND', `artifact ${uri} is not in the artifact store at ${this.root}`, {
        fix: 'check that LOOM_HOME points at the project that produced it',
      });
    }
    return path;
  }

  async exists(uri: string): Promise<boolean> {
    return isDirectory(this.objectPath(parseUri(uri)));
  }

  private objectPath(fingerprint: string): string {
    return join(this.root, 'objects', 'sha256', fingerprint);
  }
}

function parseUri(uri: string): string {
  const hex = uri.startsWith(URI_PREFIX) ? uri.slice(URI_PREFIX.length) : '';
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new LoomError('INVALID_ARGUMENT', `"${uri}" is not an artifact URI`, { fix: `use ${URI_PREFIX}<64 hex digits>` });
  }
  return hex;
}

function isAlreadyThere(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST';
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** sha256 over every file's relative path, size and content hash, in path order. */
export async function hashDirectory(dir: string): Promise<{ fingerprint: string; sizeBytes: number }> {
  const files = (await listFiles(dir)).sort();
  const digest = createHash('sha256');
  let sizeBytes = 0;
  for (const file of files) {
    const { hash, size } = await hashFile(file);
    sizeBytes += size;
    digest.update(`${relative(dir, file).split('\\').join('/')}\u0000${size}\u0000${hash}\n`);
  }
  return { fingerprint: digest.digest('hex'), sizeBytes };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : Promise.resolve([join(dir, entry.name)]))),
  );
  return nested.flat();
}

function hashFile(path: string): Promise<{ hash: string; size: number }> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(path)
      .on('data', (chunk) => {
        size += chunk.length;
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => resolvePromise({ hash: hash.digest('hex'), size }));
  });
}
