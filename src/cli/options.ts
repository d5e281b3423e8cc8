/**
 * Command-line options are outside input: each command validates its options with a
 * zod schema, and a bad value is reported naming the flag and what it takes.
 */
import type { z } from 'zod';
import { LoomError } from '../core/errors.js';

export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = issue.path.length > 0 ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'arguments';
  throw new LoomError('INVALID_ARGUMENT', `${flag}: ${issue.message}`, { field: flag, fix: 'see --help for what it takes' });
}
