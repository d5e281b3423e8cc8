/**
 * The one way outside input (config, request bodies, parameters, command-line options, files
 * Loom wrote earlier) becomes a typed value: a zod schema, and on failure one LoomError
 * (INVALID_ARGUMENT unless told otherwise) whose field is the path of the first bad value
 * (`hiddenUnits[0]`, `thresholds[2].metric`, `--batch-size`), whose message lists every
 * problem found, so one fix round catches them all, and whose fix says what to do. A
 * misspelt key is reported first, with the valid key nearest to it ("did you mean
 * `epochs`?"), before the required key it leaves missing. No other module formats a zod
 * error itself.
 *
 * Usage: `const options = parseInput(gbdtOptionsSchema, raw, { what: 'gradient-boosted trees', fix: '...' });`
 */
import type { z } from 'zod';
import { LoomError, type ErrorCode } from './errors.js';
import { unknownKeySuggestion } from './suggest.js';

export interface InputContext {
  /** What is being configured, as the message's prefix: "gradient-boosted trees", "the evaluation config"; empty for none. */
  what: string;
  /** What the user should do; default: correct the fields named. */
  fix?: string;
  /** Default INVALID_ARGUMENT; FAILED_PRECONDITION for a file written earlier, INTERNAL for Loom's own output. */
  code?: ErrorCode;
  retryable?: boolean;
  /** How the message names the field at a path, as the user wrote it: a flag (`--batch-size`), `parameter epochs`. Default `a.b[0].c`. */
  name?: (path: readonly PropertyKey[]) => string;
  /** The error's `field` for a path, when it differs from the name (`train.parameters.epochs`). */
  field?: (path: readonly PropertyKey[]) => string;
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
  // A misspelt key first: the required key it leaves missing follows from it.
  const issues = [...result.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  const name = context.name ?? fieldPath;
  const described = issues.map((issue) => `${name(issuePath(issue)) || '(top level)'}: ${issue.message}${unknownKeySuggestion(schema, issue)}`);
  const first = issues[0] ? (context.field ?? name)(issuePath(issues[0])) : '';
  throw new LoomError(context.code ?? 'INVALID_ARGUMENT', `${context.what ? `${context.what}: ` : ''}${described.join('; ')}`, {
    field: first || undefined,
    fix: context.fix ?? 'correct the fields named above',
    ...(context.retryable !== undefined ? { retryable: context.retryable } : {}),
  });
}

/** The path an issue is about; for unknown keys, the first unknown key itself. */
function issuePath(issue: z.core.$ZodIssue): PropertyKey[] {
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) return [...issue.path, issue.keys[0]!];
  return issue.path;
}
