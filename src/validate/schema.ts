/**
 * The schema: what the data is expected to look like. It is inferred once from the
 * training statistics, then kept in the user's repository as a JSON file, reviewed and
 * edited like code. Every later dataset is validated against it (anomalies.ts), and
 * compared with the previous span (drift) and with serving data (skew) by the
 * comparators it names (drift.ts).
 *
 * File format (`schema.json`), TFDV's schema in JSON:
 *   {
 *     "version": 1,
 *     "label": "delayed",                       // optional; must name a feature
 *     "environments": ["TRAINING", "SERVING"],  // optional; default these two
 *     "rowCount": { "min": 1, "max": 5000000 }, // optional dataset size bounds
 *     "features": [
 *       { "name": "origin", "type": "STRING",     // INT | FLOAT | STRING | BOOL | TIMESTAMP
 *         "required": true,                     // every row must have a value
 *         "minFraction": 0.9,                   // optional when not required: least share of rows with a value
 *         "domain": ["ATL", "BOS", ...],        // optional, STRING only: the known values
 *         "maxUnseenShare": 0.01,               // share of rows with values outside the domain tolerated (warning) before it is an error
 *         "drift": { "measure": "linf", "threshold": 0.1 },  // optional: compared with the previous span
 *         "skew": { "measure": "linf", "threshold": 0.1 },   // optional: compared with serving data
 *         "description": "..." },               // optional, for people
 *       { "name": "distance", "type": "INT", "required": true,
 *         "range": { "min": 0, "max": 5000 },   // optional, INT and FLOAT only
 *         "allowNonFinite": false,              // FLOAT only: whether NaN and ±Infinity are allowed (default false)
 *         "maxUnseenShare": 0.01 },
 *       { "name": "delayed", "type": "BOOL", "required": true,
 *         "notInEnvironment": ["SERVING"] }     // absent in serving data: not expected there
 *     ]
 *   }
 * Measures: "linf" and "jensen_shannon" (TFDV), "psi", "ks", "chi_squared" and
 * "wasserstein" (Evidently); "ks" and "wasserstein" need a number feature. A threshold
 * left out takes the measure's default (`DEFAULT_THRESHOLDS`). Unknown keys are rejected,
 * so a misspelt field fails loudly instead of being ignored.
 *
 * Usage: `const schema = inferSchema(trainStats, { label: 'delayed' }); await writeSchemaFile('schema.json', schema)`
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { FEATURE_TYPES, type DatasetStatistics } from './statistics.js';

/** Default tolerated share of rows with values outside a feature's domain. */
export const DEFAULT_MAX_UNSEEN_SHARE = 0.01;
/** Strings with at most this many distinct values get a domain when inferred. */
export const MAX_INFERRED_DOMAIN_SIZE = 1000;
/** The environments of a schema that names none (TFDV's usual pair). */
export const DEFAULT_ENVIRONMENTS = ['TRAINING', 'SERVING'];

/** Drift and skew measures; `ks` and `chi_squared` thresholds are p-values (drift when below). */
export const DRIFT_MEASURES = ['linf', 'jensen_shannon', 'psi', 'ks', 'chi_squared', 'wasserstein'] as const;
export type DriftMeasure = (typeof DRIFT_MEASURES)[number];
/** Evidently's defaults for its measures; 0.1 for TFDV's, which it leaves to the user. */
export const DEFAULT_THRESHOLDS: Record<DriftMeasure, number> = { linf: 0.1, jensen_shannon: 0.1, psi: 0.1, ks: 0.05, chi_squared: 0.05, wasserstein: 0.1 };
const NUMERIC_ONLY_MEASURES: readonly DriftMeasure[] = ['ks', 'wasserstein'];

const ComparatorSchema = z.object({ measure: z.enum(DRIFT_MEASURES), threshold: z.number().positive().optional() }).strict();
export type Comparator = z.output<typeof ComparatorSchema>;

const SchemaFeatureSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(FEATURE_TYPES),
    required: z.boolean(),
    minFraction: z.number().min(0).max(1).optional(),
    domain: z.array(z.string()).optional(),
    range: z
      .object({ min: z.number(), max: z.number() })
      .strict()
      .refine((range) => range.min <= range.max, 'range.min must not exceed range.max')
      .optional(),
    allowNonFinite: z.boolean().optional(),
    maxUnseenShare: z.number().min(0).max(1).default(DEFAULT_MAX_UNSEEN_SHARE),
    notInEnvironment: z.array(z.string().min(1)).optional(),
    drift: ComparatorSchema.optional(),
    skew: ComparatorSchema.optional(),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((feature, ctx) => {
    const numeric = feature.type === 'INT' || feature.type === 'FLOAT';
    if (feature.domain && feature.type !== 'STRING') {
      ctx.addIssue({ code: 'custom', path: ['domain'], message: `a domain is only allowed for STRING features, not ${feature.type}` });
    }
    if (feature.range && !numeric) {
      ctx.addIssue({ code: 'custom', path: ['range'], message: `a range is only allowed for INT and FLOAT features, not ${feature.type}` });
    }
    if (feature.allowNonFinite !== undefined && feature.type !== 'FLOAT') {
      ctx.addIssue({ code: 'custom', path: ['allowNonFinite'], message: `allowNonFinite is only allowed for FLOAT features, not ${feature.type}` });
    }
    if (feature.required && feature.minFraction !== undefined && feature.minFraction < 1) {
      ctx.addIssue({ code: 'custom', path: ['minFraction'], message: 'a required feature is present in every row; set "required": false to allow a smaller minFraction' });
    }
    for (const kind of ['drift', 'skew'] as const) {
      const comparator = feature[kind];
      if (!comparator) continue;
      if (feature.type === 'TIMESTAMP') {
        ctx.addIssue({ code: 'custom', path: [kind], message: 'TIMESTAMP features have no drift or skew comparator' });
      } else if (NUMERIC_ONLY_MEASURES.includes(comparator.measure) && feature.type === 'STRING') {
        ctx.addIssue({ code: 'custom', path: [kind, 'measure'], message: `"${comparator.measure}" needs a number feature; for STRING use linf, jensen_shannon, psi or chi_squared` });
      }
    }
  });

/** The zod schema of a schema file; `Schema` is its output type. */
export const SchemaFileSchema = z
  .object({
    version: z.literal(1),
    label: z.string().min(1).optional(),
    environments: z.array(z.string().min(1)).min(1).optional(),
    rowCount: z
      .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
      .strict()
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'rowCount.min must not exceed rowCount.max')
      .optional(),
    features: z.array(SchemaFeatureSchema),
  })
  .strict()
  .superRefine((schema, ctx) => {
    const seen = new Set<string>();
    const environments = new Set(schema.environments ?? DEFAULT_ENVIRONMENTS);
    schema.features.forEach((feature, i) => {
      if (seen.has(feature.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `feature "${feature.name}" is listed twice` });
      seen.add(feature.name);
      feature.notInEnvironment?.forEach((env, j) => {
        if (!environments.has(env)) {
          ctx.addIssue({ code: 'custom', path: ['features', i, 'notInEnvironment', j], message: `"${env}" is not one of the environments ${[...environments].join(', ')}` });
        }
      });
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
 * value is missing, else `minFraction` at the observed share rounded down to a tenth; a
 * sorted domain for strings with few distinct values (all of them visible in the rank
 * histogram); `allowNonFinite` for floats that had NaN or ±inf; drift and skew
 * comparators (L-infinity for strings and booleans, Jensen-Shannon for numbers, as TFDV);
 * the label absent in SERVING; at least one row. Ranges and row-count maxima are left to
 * the user.
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
    const nonFinite = stat.numeric ? stat.numeric.nan + stat.numeric.posInf + stat.numeric.negInf : 0;
    const nulls = stat.missing - nonFinite;
    const feature: SchemaFeature = { name: stat.name, type: stat.type, required: nulls === 0, maxUnseenShare: DEFAULT_MAX_UNSEEN_SHARE };
    if (nulls > 0 && stats.rowCount > 0) feature.minFraction = Math.floor(((stats.rowCount - nulls) / stats.rowCount) * 10) / 10;
    if (stat.type === 'FLOAT') feature.allowNonFinite = nonFinite > 0;
    const strings = stat.string;
    if (strings && strings.unique > 0 && strings.unique <= maxDomainSize && strings.rankHistogram.length >= strings.unique) {
      feature.domain = strings.rankHistogram.map((v) => v.value).sort();
    }
    if (stat.type !== 'TIMESTAMP') {
      const measure = stat.type === 'INT' || stat.type === 'FLOAT' ? 'jensen_shannon' : 'linf';
      feature.drift = { measure, threshold: DEFAULT_THRESHOLDS[measure] };
      feature.skew = { measure, threshold: DEFAULT_THRESHOLDS[measure] };
    }
    if (stat.name === options.label) feature.notInEnvironment = ['SERVING'];
    return feature;
  });
  const schema: Schema = { version: 1, environments: [...DEFAULT_ENVIRONMENTS], rowCount: { min: 1 }, features };
  return options.label === undefined ? schema : { ...schema, label: options.label };
}

/** Parses a schema from JSON text; `origin` names the file in errors. */
export function parseSchema(text: string, origin: string): Schema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LoomError('INVALID_ARGUMENT', `schema file "${origin}" is not valid JSON: ${(error as Error).message}`, { fix: 'fix the JSON syntax' });
  }
  try {
    return parseInput(SchemaFileSchema, json, { what: `schema file "${origin}" is invalid`, fix: 'see the format in src/validate/schema.ts, or delete the file to infer it again' });
  } catch (error) {
    throw namingFeatures(error, json);
  }
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
    ...(checked.environments === undefined ? {} : { environments: checked.environments }),
    ...(checked.rowCount === undefined ? {} : { rowCount: checked.rowCount }),
    features: checked.features.map((f) => ({
      name: f.name,
      type: f.type,
      required: f.required,
      ...(f.minFraction === undefined ? {} : { minFraction: f.minFraction }),
      ...(f.description === undefined ? {} : { description: f.description }),
      ...(f.notInEnvironment === undefined ? {} : { notInEnvironment: f.notInEnvironment }),
      ...(f.domain === undefined ? {} : { domain: f.domain }),
      ...(f.range === undefined ? {} : { range: f.range }),
      ...(f.allowNonFinite === undefined ? {} : { allowNonFinite: f.allowNonFinite }),
      maxUnseenShare: f.maxUnseenShare,
      ...(f.drift === undefined ? {} : { drift: f.drift }),
      ...(f.skew === undefined ? {} : { skew: f.skew }),
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

/**
 * Adds ` (feature "origin")` after each `features[i]...` field the error names, so the user
 * finds the feature without counting.
 */
function namingFeatures(error: unknown, json: unknown): unknown {
  const features = (json as { features?: unknown } | null)?.features;
  if (!(error instanceof LoomError) || !Array.isArray(features)) return error;
  const message = error.message.replace(/features\[(\d+)\][^\s:;]*(?=: )/g, (path, index: string) => {
    const name = (features[Number(index)] as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' ? `${path} (feature "${name}")` : path;
  });
  return new LoomError(error.code, message, { field: error.field, fix: error.fix });
}
