/**
 * Run artifacts as MLflow's proxied artifact store keeps them: files by path under one
 * root, `<root>/<experiment id>/<run id>/artifacts/<path>`, for the `mlflow-artifacts:`
 * URIs the tracking server gives runs. Unlike the content-addressed artifact store of
 * pipeline outputs, a run's files are written one by one while it runs. Each upload goes
 * to a temporary file renamed into place, so a reader never sees half a file.
 *
 * Usage: `const files = new RunArtifactFiles(root); await files.write('1/<run>/artifacts/a.txt', stream)`
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LoomError } from '../core/errors.js';

export interface ArtifactFileInfo {
  /** Relative to the listed directory. */
  path: string;
  isDir: boolean;
  fileSize?: number;
}

/** The path inside the root that an `mlflow-artifacts:` URI names (`mlflow-artifacts:/1/abc/artifacts` -> `1/abc/artifacts`). */
export function mlflowArtifactsPath(uri: string): string | undefined {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(uri);
  return match ? match[1]!.replace(/\/+$/, '') : undefined;
}

/** Longest file or directory name, and whole relative path, in bytes (common file-system limits, less room for the root). */
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 3072;

/** A file where a directory must go, or the reverse, is the caller's conflict (409), not a server fault. */
function pathConflict(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ENOTDIR' && code !== 'EISDIR' && code !== 'EEXIST') return error;
  return new LoomError('ALREADY_EXISTS', `artifact path "${path}" conflicts with an existing file or directory`, {
    field: 'path',
    fix: 'upload to a path that is not already a directory, under directories that are not files',
  });
}

export class RunArtifactFiles {
  constructor(readonly root: string) {}

  /** A checked relative path: no absolute paths, no `..`, no empty parts. */
  checkedPath(path: string): string {
    // Any ".." part is refused outright (as MLflow's server does), even one that stays inside the root.
    if (path.split(/[\\/]/).includes('..') || path.includes('\0')) {
      throw new LoomError('INVALID_ARGUMENT', `artifact path "${path}" is not a relative path inside the artifact root`, {
        field: 'path',
        fix: 'use a relative path without ".." parts',
      });
    }
    // File systems refuse longer names (ENAMETOOLONG): say so as a bad path, not a server fault.
    const long = path.split(/[\\/]/).find((part) => Buffer.byteLength(part) > MAX_NAME_BYTES);
    if (long !== undefined || Buffer.byteLength(path) > MAX_PATH_BYTES) {
      throw new LoomError('INVALID_ARGUMENT', `artifact path is too long (at most ${MAX_NAME_BYTES} bytes a name, ${MAX_PATH_BYTES} in all)`, {
        field: 'path',
        fix: 'use shorter file and directory names',
      });
    }
    const normalized = posix.normalize(path.replace(/^\/+/, '')).replace(/\/+$/, '');
    return normalized === '.' ? '' : normalized;
  }

  async write(path: string, content: Readable | Buffer): Promise<void> {
    const relative = this.checkedPath(path);
    if (relative === '') throw new LoomError('INVALID_ARGUMENT', 'an artifact upload needs a file path', { field: 'path' });
    const target = join(this.root, relative);
    await mkdir(dirname(target), { recursive: true }).catch((error: unknown) => {
      throw pathConflict(error, path);
    });
    const temporary = `${target}.${randomBytes(6).toString('hex')}.loom-upload`;
    try {
      const out = createWriteStream(temporary);
      if (Buffer.isBuffer(content)) {
        await new Promise<void>((resolve, reject) => out.end(content, () => resolve()).on('error', reject));
      } else {
        await pipeline(content, out);
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw pathConflict(error, path);
    }
  }

  /** A stream of the file and its size; NOT_FOUND if there is no such file. */
  async read(path: string): Promise<{ stream: ReadStream; size: number }> {
    const target = join(this.root, this.checkedPath(path));
    const info = await stat(target).catch(() => undefined);
    if (!info?.isFile()) throw new LoomError('NOT_FOUND', `no artifact file "${path}"`, { field: 'path' });
    return { stream: createReadStream(target), size: info.size };
  }

  /** The entries of a directory (none if it does not exist), sorted by name. */
  async list(path: string): Promise<ArtifactFileInfo[]> {
    const dir = join(this.root, this.checkedPath(path));
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const files: ArtifactFileInfo[] = [];
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.endsWith('.loom-upload')) continue;
      if (entry.isDirectory()) files.push({ path: entry.name, isDir: true });
      else if (entry.isFile()) files.push({ path: entry.name, isDir: false, fileSize: (await stat(join(dir, entry.name))).size });
    }
    return files;
  }
}
