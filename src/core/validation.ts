/**
 * The one way outside input (config, request bodies, parameters) becomes a typed value:
 * a zod schema, and on failure a LoomError INVALID_ARGUMENT whose field is the path of the
 * first bad value (`hiddenUnits.0`, `thresholds[2].metric`) and whose message lists every
 * problem found, so one fix round catches them all.
 *
 * Usage: `const options = parseInput(gbdtOptionsSchema, raw, { what: 'gradient-boosted trees', fix: '...' });`
 */
import type { z } from 'zod';
import { LoomError } from './errors.js';

export interface InputContext {
  /** What is being configured, as the message's prefix: "gradient-boosted trees", "the evaluation config". */
  what: string;
  /** What the user should do; default: the field list of the schema is in the docs. */
  fix?: string;
}

/** `a.b[0].c` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out;
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, context: InputContext): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const described = issues.map((issue) => `${issueField(issue) || '(top level)'}: ${issue.message}`);
  const first = issues[0] ? issueField(issues[0]) : '';
  throw new LoomError('INVALID_ARGUMENT', `${context.what}: ${described.join('; ')}`, {
    field: first || undefined,
    fix: context.fix ?? 'correct the fields named above',
  });
}

/** The field an issue is about; for unknown keys, the first unknown key itself. */
function issueField(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) return fieldPath([...issue.path, issue.keys[0]]);
  return fieldPath(issue.path);
}
