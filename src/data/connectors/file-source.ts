/**
 * Files: one file, every file of one format in a directory, or a glob. A glob may hold
 * `{SPAN}` (as in TFX's input config, `data-{SPAN}.csv`): the files of the span asked
 * for are read, or those of the newest span.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { LoomError } from '../../core/errors.js';
import { queryRows, sqlString } from '../duckdb.js';
import type { FileFormat, FileSource } from '../source-spec.js';
import type { DataSource, LoadContext, LoadedSource } from './connector.js';
import { fileList, loadCsv } from './csv-reader.js';
import { loadNdjson } from './ndjson-reader.js';
import { filesOfSpan } from '../spans.js';

const EXTENSIONS: Record<string, FileFormat> = { '.csv': 'csv', '.tsv': 'csv', '.parquet': 'parquet', '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.json': 'ndjson' };

export class FileDataSource implements DataSource {
  constructor(readonly spec: FileSource) {}

  async load({ db, span }: LoadContext): Promise<LoadedSource> {
    const { files, span: fileSpan } = this.spec.glob ? await this.globFiles(db, this.spec.glob, span) : await this.pathFiles(this.spec.path ?? '');
    const format = this.spec.format ?? formatOf(files);
    if (format === 'parquet') {
      await db.run(`CREATE TEMP VIEW __loom_input AS SELECT * FROM read_parquet(${fileList(files)}, union_by_name = true)`);
    } else if (format === 'csv') {
      await loadCsv(db, files, { types: this.spec.columns, delimiter: this.spec.delimiter ?? (files.every((f) => f.endsWith('.tsv')) ? '\t' : undefined) });
    } else {
      await loadNdjson(db, files, this.spec.columns);
    }
    return { format, files, span: fileSpan };
  }

  private async pathFiles(path: string): Promise<{ files: string[]; span?: number }> {
    const absolute = resolve(path);
    const extension = extname(absolute).toLowerCase();
    if (!this.spec.format && extension && !(extension in EXTENSIONS)) formatOf([absolute]); // names the unknown type before looking for the file
    const info = await stat(absolute).catch(() => undefined);
    if (!info) {
      throw new LoomError('NOT_FOUND', `source file "${absolute}" does not exist`, { field: 'source', fix: `check the path; relative paths are resolved from ${process.cwd()}` });
    }
    if (info.isDirectory()) {
      const names = (await readdir(absolute)).filter((name) => (this.spec.format ? EXTENSIONS[extname(name).toLowerCase()] === this.spec.format : extname(name).toLowerCase() in EXTENSIONS));
      const files = names.sort().map((name) => join(absolute, name));
      if (files.length === 0) {
        throw new LoomError('NOT_FOUND', `the source directory "${absolute}" holds no ${this.spec.format ?? 'CSV, Parquet or NDJSON'} files`, { field: 'source' });
      }
      for (const file of files) await checkNotEmpty(file);
      return { files };
    }
    if (!info.isFile()) throw new LoomError('INVALID_ARGUMENT', `source "${absolute}" is not a file`, { field: 'source' });
    await checkNotEmpty(absolute);
    return { files: [absolute] };
  }

  private async globFiles(db: LoadContext['db'], glob: string, span: number | undefined): Promise<{ files: string[]; span?: number }> {
    const pattern = resolve(glob);
    const listed = (await queryRows(db, `SELECT file FROM glob(${sqlString(pattern.replaceAll('{SPAN}', '*'))}) ORDER BY file`)).map((row) => String(row.file));
    if (listed.length === 0) throw new LoomError('NOT_FOUND', `no file matches the source "${pattern}"`, { field: 'source', fix: 'check the glob' });
    if (!pattern.includes('{SPAN}')) return { files: listed };
    return filesOfSpan(pattern, listed, span);
  }
}

function formatOf(files: string[]): FileFormat {
  const formats = new Set(files.map((file) => EXTENSIONS[extname(file).toLowerCase()]));
  const [format] = formats;
  if (formats.size !== 1 || !format) {
    const kinds = [...new Set(files.map((file) => extname(file) || '(none)'))].join(', ');
    throw new LoomError('INVALID_ARGUMENT', `cannot read "${files[0]}": ${formats.size > 1 ? `the files mix types (${kinds})` : `unknown file type "${kinds}"`}`, {
      field: 'source',
      fix: 'give .csv, .parquet or .ndjson files of one kind, or set format',
    });
  }
  return format;
}

async function checkNotEmpty(file: string): Promise<void> {
  if ((await stat(file)).size === 0) {
    throw new LoomError('INVALID_ARGUMENT', `source file "${file}" is empty: it has no rows`, { field: 'source', fix: 'give a file with data' });
  }
}
