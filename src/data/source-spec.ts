/**
 * Where an ingest reads from, validated before anything is opened: files (one file, a
 * directory, or a glob, optionally with a `{SPAN}` placeholder as in TFX's input config)
 * or a PostgreSQL table or query. A plain string is a file path, as before sources
 * became specs.
 *
 * Usage:
 *   { kind: 'file', glob: 'landing/flights-{SPAN}.csv', format: 'csv' }
 *   { kind: 'postgres', url: 'postgres://u@host/db', table: 'public.flights' }
 */
import { z } from 'zod';
import { redactUrl } from '../core/redact.js';

export const FILE_FORMATS = ['csv', 'parquet', 'ndjson'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** DuckDB type names a user may force on CSV/NDJSON columns (the sniffer guesses the rest). */
const ColumnTypes = z.record(z.string().min(1), z.string().regex(/^[A-Za-z][A-Za-z0-9_ (),]*$/, 'expected a DuckDB type such as BIGINT, DOUBLE, VARCHAR or TIMESTAMP'));

export const FileSourceSchema = z
  .object({
    kind: z.literal('file'),
    /** A file, or a directory whose files of `format` (or of the first format found) are all read. */
    path: z.string().min(1).optional(),
    /** A glob such as `data/*.parquet` or `data/flights-{SPAN}.csv`; `{SPAN}` matches the span number. */
    glob: z.string().min(1).optional(),
    /** Default: from the file extension. */
    format: z.enum(FILE_FORMATS).optional(),
    /** Column → DuckDB type, for CSV and NDJSON; a value that does not parse as its type is a bad row. */
    columns: ColumnTypes.optional(),
    /** CSV only; default: detected. */
    delimiter: z.string().length(1).optional(),
  })
  .strict()
  .refine((s) => (s.path === undefined) !== (s.glob === undefined), { message: 'give exactly one of path or glob', path: ['path'] })
  .refine((s) => s.path === undefined || !s.path.includes('{SPAN}'), { message: 'a {SPAN} pattern belongs in glob, not path', path: ['path'] });

export const PostgresSourceSchema = z
  .object({
    kind: z.literal('postgres'),
    /** postgres://user:password@host:port/database; the password is never recorded. */
    url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
    /** `name` or `schema.name`. */
    table: z.string().regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$/, 'expected a table name such as flights or public.flights').optional(),
    /** One SELECT statement. */
    query: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.table === undefined) !== (s.query === undefined), { message: 'give exactly one of table or query', path: ['table'] });

export const SourceSpecSchema = z.union([
  z.string().min(1).transform((path) => ({ kind: 'file' as const, path })),
  z.discriminatedUnion('kind', [FileSourceSchema, PostgresSourceSchema]),
]);

export type FileSource = z.output<typeof FileSourceSchema>;
export type PostgresSource = z.output<typeof PostgresSourceSchema>;
export type SourceSpec = FileSource | PostgresSource;
export type SourceInput = z.input<typeof SourceSpecSchema>;

/** The source as it is recorded in metadata: a path, a glob, or a URL without its password. */
export function describeSource(spec: SourceSpec): string {
  if (spec.kind === 'file') return spec.path ?? spec.glob ?? '';
  const url = redactUrl(spec.url);
  return spec.table ? `${url} table ${spec.table}` : `${url} query ${spec.query}`;
}

