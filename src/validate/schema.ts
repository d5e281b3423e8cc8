/**
 * The schema: what the data is expected to look like. It is inferred once from the
 * training statistics, then kept in the user's repository as a JSON file, reviewed and
 * edited like code. Every later dataset is validated against it.
 *
 * File format (`schema.json`):
 *   {
 *     "version": 1,
 *     "label": "delayed",                       // optional; must name a feature
 *     "features": [
 *       { "name": "origin", "type": "STRING",     // INT | FLOAT | STRING | BOOL | TIMESTAMP
 *         "required": true,                     // every row must have a value
 *         "domain": ["ATL", "BOS", ...],        // optional, STRING only: the known values
 *         "maxUnseenShare": 0.01,               // share of rows with values outside the domain tolerated (warning) before it is an error
 *         "description": "..." },               // optional, for people
 *       { "name": "distance", "type": "INT", "required": true,
 *         "range": { "min": 0, "max": 5000 },   // optional, INT and FLOAT only
 *         "maxUnseenShare": 0.01 }
 *     ]
 *   }
 * Unknown keys are rejected, so a misspelt field fails loudly instead of being ignored.
 *
 * Usage: `const schema = inferSchema(trainStats, { label: 'delayed' }); await writeSchemaFile('schema.json', schema)`
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { FEATURE_TYPES, type DatasetStatistics } from './statistics.js';

/** Default tolerated share of rows with values outside a feature's domain. */
export const DEFAULT_MAX_UNSEEN_SHARE = 0.01;
/** Strings with at most this many distinct values get a domain when inferred. */
export const MAX_INFERRED_DOMAIN_SIZE = 1000;

const SchemaFeatureSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(FEATURE_TYPES),
    required: z.boolean(),
    domain: z.array(z.string()).optional(),
    range: z
      .object({ min: z.number(), max: z.number() })
      .strict()
      .refine((range) => range.min <= range.max, 'range.min must not exceed range.max')
      .optional(),
    maxUnseenShare: z.number().min(0).max(1).default(DEFAULT_MAX_UNSEEN_SHARE),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((feature, ctx) => {
    if (feature.domain && feature.type !== 'STRING') {
      ctx.addIssue({ code: 'custom', path: ['domain'], message: `a domain is only allowed for STRING features, not ${feature.type}` });
    }
    if (feature.range && feature.type !== 'INT' && feature.type !== 'FLOAT') {
      ctx.addIssue({ code: 'custom', path: ['range'], message: `a range is only allowed for INT and FLOAT features, not ${feature.type}` });
    }
  });

/** The zod schema of a schema file; `Schema` is its output type. */
export const SchemaFileSchema = z
  .object({
    version: z.literal(1),
    features: z.array(SchemaFeatureSchema),
    label: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((schema, ctx) => {
    const seen = new Set<string>();
    schema.features.forEach((feature, i) => {
      if (seen.has(feature.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `feature "${feature.name}" is listed twice` });
      seen.add(feature.name);
    });
    if (schema.label !== undefined && !seen.has(schema.label)) {
      ctx.addIssue({ code: 'custom', path: ['label'], message: `label "${schema.label}" is not one of the features` });
    }
  });

export type Schema = z.output<typeof SchemaFileSchema>;
export type SchemaFeature = Schema['features'][number];

export interface InferSchemaOptions {
  /** The label column, recorded in the schema. */
  label?: string;
  /** Default `MAX_INFERRED_DOMAIN_SIZE`. */
  maxDomainSize?: number;
}

/**
 * A schema that the given statistics satisfy: each feature's type; `required` when no
 * value is missing; a sorted domain for strings with few distinct values (all of them
 * visible in the rank histogram). Ranges are left to the user.
 */
export function inferSchema(stats: DatasetStatistics, options: InferSchemaOptions = {}): Schema {
  const maxDomainSize = options.maxDomainSize ?? MAX_INFERRED_DOMAIN_SIZE;
  if (options.label !== undefined && !stats.features.some((f) => f.name === options.label)) {
    throw new LoomError('INVALID_ARGUMENT', `label "${options.label}" is not a column of the data`, {
      field: 'label',
      fix: `use one of: ${stats.features.map((f) => f.name).join(', ')}`,
    });
  }
  const features = stats.features.map((stat): SchemaFeature => {
    const feature: SchemaFeature = { name: stat.name, type: stat.type, required: stat.missing === 0, maxUnseenShare: DEFAULT_MAX_UNSEEN_SHARE };
    const strings = stat.string;
    if (strings && strings.unique > 0 && strings.unique <= maxDomainSize && strings.rankHistogram.length >= strings.unique) {
      feature.domain = strings.rankHistogram.map((v) => v.value).sort();
    }
    return feature;
  });
  return options.label === undefined ? { version: 1, features } : { version: 1, label: options.label, features };
}

/** Parses a schema from JSON text; `origin` names the file in errors. */
export function parseSchema(text: string, origin: string): Schema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LoomError('INVALID_ARGUMENT', `schema file "${origin}" is not valid JSON: ${(error as Error).message}`, { fix: 'fix the JSON syntax' });
  }
  const parsed = SchemaFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = formatPath(issue.path);
    const name = featureName(json, issue.path);
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : '';
    throw new LoomError('INVALID_ARGUMENT', `schema file "${origin}" is invalid at ${field || '(root)'}${name}: ${issue.message}${more}`, {
      field,
      fix: 'see the format in src/validate/schema.ts, or delete the file to infer it again',
    });
  }
  return parsed.data;
}

/** Reads and validates a schema file. */
export async function readSchemaFile(path: string): Promise<Schema> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new LoomError('NOT_FOUND', `schema file "${path}" does not exist`, { fix: 'check the path' });
    throw error;
  });
  return parseSchema(text, path);
}

/** Writes a schema as pretty JSON; atomic (temp file and rename), so readers never see half a file. */
export async function writeSchemaFile(path: string, schema: Schema): Promise<void> {
  const checked = SchemaFileSchema.parse(schema);
  // Fixed key order keeps the file stable under review.
  const ordered = {
    version: checked.version,
    ...(checked.label === undefined ? {} : { label: checked.label }),
    features: checked.features.map((f) => ({
      name: f.name,
      type: f.type,
      required: f.required,
      ...(f.description === undefined ? {} : { description: f.description }),
      ...(f.domain === undefined ? {} : { domain: f.domain }),
      ...(f.range === undefined ? {} : { range: f.range }),
      maxUnseenShare: f.maxUnseenShare,
    })),
  };
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(ordered, null, 2)}\n`);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** ` (feature "origin")` when the path points into a named feature, so the user finds it without counting. */
function featureName(json: unknown, path: PropertyKey[]): string {
  if (path[0] !== 'features' || typeof path[1] !== 'number') return '';
  const features = (json as { features?: unknown }).features;
  const name = Array.isArray(features) ? (features[path[1]] as { name?: unknown } | undefined)?.name : undefined;
  return typeof name === 'string' ? ` (feature "${name}")` : '';
}

function formatPath(path: PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}
