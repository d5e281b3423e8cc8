/**
 * The embedded artifact store: a local directory, content-addressed.
 *
 *   <root>/staging/<random>/...         private to one writer until committed
 *   <root>/objects/sha256/<hex>/...     committed, never modified again
 *
 * `commit` hashes the staged files and renames the staging directory to its content
 * address. A rename within one file system is atomic, so a reader finds either the
 * whole artifact or nothing; equal content is kept once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { LoomError } from '../core/errors.js';
import type { ArtifactStore, CommittedArtifact } from './artifact-store.js';

const URI_PREFIX = 'loom-artifact://sha256/';

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async stage(): Promise<string> {
    const dir = join(this.root, 'staging', `${Date.now()}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
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
    return { uri: URI_PREFIX + fingerprint, fingerprint, sizeBytes };
  }

  async discard(stagingDir: string): Promise<void> {
    await rm(stagingDir, { recursive: true, force: true });
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
