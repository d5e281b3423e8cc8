/**
 * Spans: data arrives in slices (a file, a day, a month), each numbered. The number comes
 * from a `{SPAN}` placeholder in a file glob (TFX's input config), from bucketing a date
 * column (`YYYYMM` for a month, `YYYYMMDD` for a day, so numbers sort in time), or is
 * given; 0 when there is none. A resolver in the pipeline (`p.previousSpan`) finds span
 * N-1 by these numbers.
 */
import { LoomError } from '../core/errors.js';
import { sqlIdent } from './duckdb.js';

export const SPAN_UNITS = ['day', 'month'] as const;
export type SpanUnit = (typeof SPAN_UNITS)[number];

/** A glob (already absolute) as a regular expression capturing `{SPAN}`. */
export function spanPattern(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    if (glob.startsWith('{SPAN}', i)) {
      source += '(\\d+)';
      i += 5;
    } else if (glob.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (glob[i] === '*') source += '[^/]*';
    else if (glob[i] === '?') source += '[^/]';
    else source += glob[i]!.replace(/[.+^$()|[\]\\{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The files of `span` among `files` matched by a `{SPAN}` glob (default: the newest span). */
export function filesOfSpan(glob: string, files: string[], span: number | undefined): { files: string[]; span: number } {
  const pattern = spanPattern(glob);
  const bySpan = new Map<number, string[]>();
  for (const file of files) {
    const match = pattern.exec(file);
    if (!match) continue;
    const numbers = match.slice(1).map(Number);
    if (new Set(numbers).size !== 1) continue; // `{SPAN}` twice must name one span
    bySpan.set(numbers[0]!, [...(bySpan.get(numbers[0]!) ?? []), file]);
  }
  const spans = [...bySpan.keys()].sort((a, b) => a - b);
  if (spans.length === 0) throw new LoomError('NOT_FOUND', `no file matches "${glob}" with a number for {SPAN}`, { field: 'source.glob', fix: 'name files like data-3.csv for span 3' });
  const chosen = span ?? spans[spans.length - 1]!;
  const chosenFiles = bySpan.get(chosen);
  if (!chosenFiles) {
    throw new LoomError('NOT_FOUND', `span ${chosen} has no file matching "${glob}"`, { field: 'span', fix: `spans found: ${spans.join(', ')}` });
  }
  return { files: chosenFiles.sort(), span: chosen };
}

/** SQL for the span number of a row by a date or timestamp column. */
export function spanBucket(column: string, unit: SpanUnit): string {
  return `CAST(strftime(CAST(${sqlIdent(column)} AS TIMESTAMP), '${unit === 'month' ? '%Y%m' : '%Y%m%d'}') AS INTEGER)`;
}
