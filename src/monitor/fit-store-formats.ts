/**
 * How a kept fit is written to the fit store and read back (`fit-store.ts`): JSON with a
 * `format` number, validated on the way in. A payload that does not parse, has another
 * format or fails its schema is not trusted: `VersionFits` fits again and overwrites it.
 * A fit's format number goes up whenever its shape or meaning changes, so an older
 * process's row is refitted instead of misread.
 *
 * JSON cannot hold everything a fit may: non-finite numbers and -0 are written as
 * `{"$number": "NaN"}` and the like, a Float64Array as `{"$float64": <base64 of its
 * little-endian bytes>}`, so a stored fit gives the same figures as a fresh one.
 *
 * Usage: `const text = encodeFit(CBPE_FIT, estimator); const back = decodeFit(CBPE_FIT, text)`
 */
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import type { CbpeEstimator } from './cbpe.js';
import type { ReconstructionFit } from './multivariate.js';

/** How one fit is validated when read back, and the format number its payloads carry. */
export interface FitFormat<T> {
  format: number;
  schema: z.ZodType<T>;
}

/** A decoded payload, or why it cannot be trusted. */
export type DecodedFit<T> = { ok: true; fit: T } | { ok: false; reason: string };

const SPECIAL_NUMBERS = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, '-0': -0 } as const;
type SpecialNumber = keyof typeof SPECIAL_NUMBERS;

/** The fit as payload text. INTERNAL when it holds a value JSON cannot carry and no encoding above covers. */
export function encodeFit<T>(format: FitFormat<T>, fit: T): string {
  return JSON.stringify({ format: format.format, fit }, (_key, value: unknown) => {
    if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? value : { $number: specialName(value) };
    if (value instanceof Float64Array) return { $float64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
    if (ArrayBuffer.isView(value) || typeof value === 'bigint' || typeof value === 'function') {
      throw new LoomError('INTERNAL', `a kept fit holds a ${value.constructor.name}, which the fit store has no encoding for`, { fix: 'keep the fit as numbers, arrays, Float64Arrays and plain objects' });
    }
    return value;
  });
}

/** The fit a payload holds, when it parses, has `format`'s number and passes its schema. */
export function decodeFit<T>(format: FitFormat<T>, payload: string): DecodedFit<T> {
  let value: unknown;
  try {
    value = JSON.parse(payload, (_key, v: unknown) => revive(v));
  } catch (error) {
    return { ok: false, reason: `unreadable (${(error as Error).message})` };
  }
  const parsed = z.object({ format: z.literal(format.format), fit: format.schema }).safeParse(value);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ') };
  return { ok: true, fit: parsed.data.fit };
}

function specialName(value: number): SpecialNumber {
  return Object.is(value, -0) ? '-0' : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** The JSON value with the encodings above turned back into what they encode. */
function revive(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const { $number, $float64 } = value as { $number?: unknown; $float64?: unknown };
  if (typeof $number === 'string' && Object.hasOwn(SPECIAL_NUMBERS, $number)) return SPECIAL_NUMBERS[$number as SpecialNumber];
  if (typeof $float64 === 'string') {
    const bytes = Buffer.from($float64, 'base64');
    if (bytes.byteLength % 8 !== 0) throw new Error('a Float64Array of a length not a multiple of 8 bytes');
    // Copied into a fresh buffer: Buffer's pool offset need not be 8-byte aligned.
    return new Float64Array(Uint8Array.from(bytes).buffer);
  }
  return value;
}

/** Any number, finite or not (zod's `number()` refuses NaN and the infinities, which a fit may hold). */
const anyNumber = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });

/** The PCA of multivariate drift (`multivariate.ts`); null when the version has too few usable columns. */
export const RECONSTRUCTION_FIT: FitFormat<ReconstructionFit | null> = {
  // 2: the error taken from the left-out directions; a format-1 band was made by the old
  // formula (with every direction kept, rounding noise above 0) and would flag the exact 0 now.
  format: 2,
  schema: z
    .object({
      columns: z.array(z.object({ name: z.string(), mean: anyNumber, std: anyNumber })).min(2),
      components: z.array(z.array(anyNumber).min(1)),
      lower: anyNumber,
      upper: anyNumber,
      referenceErrors: z.array(anyNumber),
    })
    // d × k: one row per column, every row as long; the scoring SQL indexes it so.
    .refine((f) => f.components.length === f.columns.length && f.components.every((row) => row.length === f.components[0]!.length), { message: 'components must be one row of equal length per column' })
    .nullable(),
};

/** CBPE's estimator (`cbpe.ts`): the decision threshold and the isotonic calibration map. */
export const CBPE_FIT: FitFormat<CbpeEstimator> = {
  format: 1,
  schema: z.object({
    threshold: anyNumber,
    calibration: z
      .object({ scores: z.array(anyNumber).min(1), probabilities: z.array(anyNumber).min(1) })
      .refine((m) => m.scores.length === m.probabilities.length, { message: 'scores and probabilities must be as many' })
      .optional(),
    referenceRows: z.number().int().nonnegative(),
  }),
};
