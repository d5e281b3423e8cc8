/**
 * Hyperparameter search spaces, as Optuna and Katib name them: `uniform` and `loguniform`
 * floats, `int` (optionally on a log scale) and `choice` among listed values. Samplers work
 * in an internal numeric space (logs for log scales, an index for choices) and decode back.
 *
 * Usage: `const space = parseSearchSpace({ learningRate: { type: 'loguniform', low: 0.01, high: 0.3 }, numLeaves: { type: 'int', low: 7, high: 63 } });`
 */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';

const choiceValue = z.union([z.string(), z.number(), z.boolean()]);

const dimensionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('uniform'), low: z.number(), high: z.number() }).strict(),
  z.object({ type: z.literal('loguniform'), low: z.number().positive(), high: z.number().positive() }).strict(),
  z.object({ type: z.literal('int'), low: z.number().int(), high: z.number().int(), log: z.boolean().default(false) }).strict(),
  z.object({ type: z.literal('choice'), values: z.array(choiceValue).min(1) }).strict(),
]);

export const searchSpaceSchema = z
  .record(z.string().min(1), dimensionSchema)
  .refine((space) => Object.keys(space).length > 0, 'a search space needs at least one parameter')
  .superRefine((space, context) => {
    for (const [name, dimension] of Object.entries(space)) {
      if (dimension.type !== 'choice' && !(dimension.low < dimension.high)) {
        context.addIssue({ code: 'custom', path: [name, 'high'], message: `high (${dimension.high}) must be greater than low (${dimension.low})` });
      }
      if (dimension.type === 'int' && dimension.log && dimension.low < 1) {
        context.addIssue({ code: 'custom', path: [name, 'low'], message: 'a log-scale int needs low >= 1' });
      }
    }
  });
export type SearchSpace = z.output<typeof searchSpaceSchema>;
export type Dimension = SearchSpace[string];
export type ParamValue = z.infer<typeof choiceValue>;
export type Params = Record<string, ParamValue>;

export function parseSearchSpace(raw: unknown): SearchSpace {
  return parseInput(searchSpaceSchema, raw, {
    what: 'the search space',
    fix: 'each parameter is {type: "uniform"|"loguniform", low, high}, {type: "int", low, high, log?} or {type: "choice", values: [...]}',
  });
}

/** Bounds of a numeric dimension in the internal space (logs for log scales). */
export function internalBounds(dimension: Exclude<Dimension, { type: 'choice' }>): [number, number] {
  const log = dimension.type === 'loguniform' || (dimension.type === 'int' && dimension.log);
  // Ints widen by half a step each side so both ends are as likely as the middle values.
  const low = dimension.type === 'int' ? dimension.low - 0.4999 : dimension.low;
  const high = dimension.type === 'int' ? dimension.high + 0.4999 : dimension.high;
  return log ? [Math.log(Math.max(low, 1e-300)), Math.log(high)] : [low, high];
}

/** Internal number -> the value a trial gets. */
export function decode(dimension: Dimension, internal: number): ParamValue {
  if (dimension.type === 'choice') return dimension.values[Math.min(dimension.values.length - 1, Math.max(0, Math.round(internal)))];
  const log = dimension.type === 'loguniform' || (dimension.type === 'int' && dimension.log);
  const value = log ? Math.exp(internal) : internal;
  if (dimension.type === 'int') return Math.min(dimension.high, Math.max(dimension.low, Math.round(value)));
  return Math.min(dimension.high, Math.max(dimension.low, value));
}

/** A trial's value -> the internal number (for the model-based sampler's observations). */
export function encode(dimension: Dimension, value: ParamValue): number {
  if (dimension.type === 'choice') return dimension.values.indexOf(value);
  const log = dimension.type === 'loguniform' || (dimension.type === 'int' && dimension.log);
  return log ? Math.log(Number(value)) : Number(value);
}

/** Uniform in the internal space: log-uniform for log scales, equal odds for choices. */
export function sampleUniform(dimension: Dimension, random: () => number): ParamValue {
  if (dimension.type === 'choice') return dimension.values[Math.floor(random() * dimension.values.length)];
  const [low, high] = internalBounds(dimension);
  return decode(dimension, low + random() * (high - low));
}
