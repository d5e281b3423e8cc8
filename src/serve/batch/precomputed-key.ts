/**
 * The key of a precomputed prediction: the values of the declared key columns, in their
 * declared order, as text, joined by `|`. In a URL the key is one path segment, so it is
 * URL-encoded (`SFO%7CLAX%7C8`); Fastify decodes it, and a raw `|` works as well.
 *
 * Text of a value: integers in decimal (`8`), strings as they are, booleans `true`/`false`,
 * other numbers as JavaScript prints them. A value holding `|` cannot be part of a key, and
 * a row with a NULL key column has no key (precompute skips it and counts it).
 *
 * Usage: `precomputedKey(['SFO', 'LAX', 8n])` → `'SFO|LAX|8'`.
 */
import { LoomError } from '../../core/errors.js';

/** The separator between key values. */
export const KEY_SEPARATOR = '|';

/** A key from values in key-column order; undefined when a value is NULL. INVALID_ARGUMENT if a value holds `|`. */
export function precomputedKey(values: readonly unknown[], keyColumns: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value === null || value === undefined) return undefined;
    const text = keyText(value);
    if (text.includes(KEY_SEPARATOR)) {
      throw new LoomError('INVALID_ARGUMENT', `key column ${keyColumns[index]} has the value "${text}", which holds the key separator "${KEY_SEPARATOR}"`, {
        field: keyColumns[index],
        fix: `use key columns whose values have no "${KEY_SEPARATOR}", or clean the data first`,
      });
    }
    parts.push(text);
  }
  return parts.join(KEY_SEPARATOR);
}

/** A key from named values (`?origin=SFO&destination=LAX&hour=8`), in key-column order; INVALID_ARGUMENT naming a missing one. */
export function keyFromNamedValues(named: Record<string, unknown>, keyColumns: readonly string[]): string {
  const values = keyColumns.map((column) => {
    const value = named[column];
    if (typeof value !== 'string' || value === '') {
      throw new LoomError('INVALID_ARGUMENT', `the key column ${column} is missing`, {
        field: column,
        fix: `give every key column: ${keyColumns.join(', ')}`,
      });
    }
    return value;
  });
  return values.join(KEY_SEPARATOR);
}

function keyText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isInteger(value) ? value.toFixed(0) : String(value);
  return String(value);
}
