/**
 * Command-line options are outside input: each command validates its options with a
 * zod schema, and a bad value is reported naming the flag and what it takes.
 */
import type { z } from 'zod';
import { parseInput } from '../core/validation.js';

export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  return parseInput(schema, raw, { what: '', name: flagOf, fix: 'see --help for what it takes' });
}

/** The flag an option's path is about: `batchSize` (or `slice[2]`) -> `--batch-size` (`--slice`). */
function flagOf(path: readonly PropertyKey[]): string {
  return path.length > 0 ? `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'arguments';
}
