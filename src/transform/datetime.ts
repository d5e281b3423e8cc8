/**
 * Fitting the datetime analyzer: which raw form a served request sends (`format`), the
 * time zone the parts are read in (UTC, a fixed offset, or an IANA zone as a table of
 * its UTC-offset transitions), the output columns, and for the year part the training
 * years' range. The graph (datetime-graph.ts) does all the reading and arithmetic, so a
 * client sends the raw timestamp and computes nothing.
 *
 * Usage: `const feature = await fitDatetime(trainPath, { name: 'date', type: 'VARCHAR' }, 'string', { timeZone: 'America/Chicago' });`
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { runModelOverParquet } from '../data/batch-runner.js';
import { DATETIME_PART_FIRST, DATETIME_PART_WIDTH, type CyclicPart, type DatetimeEncoding, type DatetimePart, type FeatureOverride } from './config.js';
import { datetimeYearGraph, YEAR_OUTPUT } from './datetime-graph.js';
import type { DatetimeFeature, FittedTimeZone, RawType } from './fitted.js';

/** The parts a datetime feature gets when its override names none. */
export const DEFAULT_DATETIME_PARTS: DatetimePart[] = ['hour', 'weekday', 'month'];

/**
 * The years an IANA zone's transition table covers. Before the first transition the
 * zone's 1900 offset holds, after the last its 2100 one; ICU projects today's rules
 * for future years, so the table is as right as the tz data of the Node that fitted it.
 */
export const ZONE_TABLE_YEARS = { from: 1900, to: 2100 } as const;

const FIXED_OFFSET = /^([+-])(\d{2})(?::?(\d{2}))?$/;
const UTC_NAMES = new Set(['UTC', 'Z', 'Etc/UTC', 'GMT', 'Etc/GMT']);

/** The datetime feature of `column`, checked against the column's type; the year range is fitted on `parquetPath`. */
export async function fitDatetime(parquetPath: string, column: { name: string; type: string }, rawType: RawType, override: FeatureOverride): Promise<DatetimeFeature> {
  const { name } = column;
  const parts = override.parts ?? DEFAULT_DATETIME_PARTS;
  const encoding = override.encoding ?? 'onehot';
  const field = `overrides.${name}.format`;
  const wrong = (message: string, fix: string): LoomError => new LoomError('INVALID_ARGUMENT', `feature "${name}" is a ${column.type} column: ${message}`, { field, fix });
  // JSON has no timestamp type: a client holds a date as text, so text is what a served model takes unless told otherwise.
  const format = override.format ?? (rawType === 'int' ? undefined : 'iso8601');
  if (format === undefined) throw wrong('an integer timestamp needs its unit', 'add format: "epoch_seconds" or format: "epoch_milliseconds"');
  if (rawType === 'string' && format !== 'iso8601') throw wrong(`text is read as ISO 8601, not ${format}`, 'use format "iso8601", or store the epoch numbers as BIGINT');
  if (rawType === 'int' && format === 'iso8601') throw wrong('an integer cannot be ISO 8601 text', 'use format "epoch_seconds" or "epoch_milliseconds"');
  if (rawType === 'timestamp' && format === 'epoch_seconds') {
    throw wrong('batch scoring and training read a TIMESTAMP as epoch milliseconds', 'use format "epoch_milliseconds" or "iso8601"');
  }
  const timeZone = resolveTimeZone(override.timeZone ?? 'UTC', `overrides.${name}.timeZone`);
  const naive = rawType === 'timestamp' && !/WITH TIME ZONE|TIMESTAMPTZ/i.test(column.type);
  if (naive && format !== 'iso8601' && timeZone.name !== 'UTC') {
    // A wall-clock time has no epoch number until a zone says which instant it is; in a zone with DST some have two.
    throw wrong(`a TIMESTAMP without a time zone has no epoch number in ${timeZone.name}`, 'use format "iso8601" (clients send the local time as text), or store the column as TIMESTAMPTZ');
  }
  const feature: DatetimeFeature = { name, analyzer: 'datetime', rawType: 'timestamp', parts, format, encoding, timeZone, outputs: datetimeOutputs(name, parts, encoding) };
  if (parts.includes('year')) feature.years = await fitYears(parquetPath, feature);
  return feature;
}

/** The output columns: `date.hour=0`… one-hot, `date.hour_sin`/`date.hour_cos` cyclical, `date.year` either way. */
export function datetimeOutputs(name: string, parts: readonly DatetimePart[], encoding: DatetimeEncoding): string[] {
  return parts.flatMap((part) => {
    if (part === 'year') return [`${name}.year`];
    if (encoding === 'cyclical') return [`${name}.${part}_sin`, `${name}.${part}_cos`];
    return Array.from({ length: DATETIME_PART_WIDTH[part] }, (_, k) => `${name}.${part}=${k + DATETIME_PART_FIRST[part]}`);
  });
}

/** How many output columns a part takes. */
export function partWidth(part: DatetimePart, encoding: DatetimeEncoding): number {
  if (part === 'year') return 1;
  return encoding === 'cyclical' ? 2 : DATETIME_PART_WIDTH[part as CyclicPart];
}

/** `UTC`, a fixed offset (`+05:30`, `-0800`, `+09`) or an IANA zone name, as the graph applies it. */
export function resolveTimeZone(zone: string, field = 'timeZone'): FittedTimeZone {
  if (UTC_NAMES.has(zone)) return { name: 'UTC', offsets: [0], transitions: [] };
  const fixed = FIXED_OFFSET.exec(zone);
  if (fixed) {
    const hours = Number(fixed[2]);
    const minutes = Number(fixed[3] ?? 0);
    if (hours > 23 || minutes > 59) throw new LoomError('INVALID_ARGUMENT', `time zone offset ${zone} is out of range`, { field, fix: 'give ±HH:MM with hours up to 23, e.g. +05:30' });
    const seconds = (fixed[1] === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
    return { name: seconds === 0 ? 'UTC' : zone, offsets: [seconds], transitions: [] };
  }
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    throw new LoomError('INVALID_ARGUMENT', `unknown time zone "${zone}"`, { field, fix: 'give UTC, a fixed offset such as +05:30, or an IANA zone such as America/Chicago' });
  }
  const name = formatter.resolvedOptions().timeZone;
  const cached = zoneTables.get(name);
  if (cached) return cached;
  const table = transitionTable(name, formatter);
  zoneTables.set(name, table);
  return table;
}

const zoneTables = new Map<string, FittedTimeZone>();

/**
 * The zone's offsets from 1900 to 2100: its offset read daily (Intl, from Node's ICU tz
 * data), each change narrowed to the second by bisection. Two changes within one day
 * would be missed; no zone has had them.
 */
function transitionTable(name: string, formatter: Intl.DateTimeFormat): FittedTimeZone {
  const offsetAt = (seconds: number): number => {
    const parts: Record<string, string> = {};
    for (const part of formatter.formatToParts(new Date(seconds * 1000))) parts[part.type] = part.value;
    const year = parts.era === 'BC' || parts.era === 'B' ? 1 - Number(parts.year) : Number(parts.year);
    const wall = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) / 1000;
    return wall - seconds;
  };
  const day = 86_400;
  const start = Date.UTC(ZONE_TABLE_YEARS.from, 0, 1) / 1000;
  const end = Date.UTC(ZONE_TABLE_YEARS.to, 0, 1) / 1000;
  const offsets = [offsetAt(start)];
  const transitions: number[] = [];
  for (let t = start + day; t <= end; t += day) {
    const offset = offsetAt(t);
    if (offset === offsets.at(-1)) continue;
    let [before, after] = [t - day, t];
    while (after - before > 1) {
      const middle = Math.floor((before + after) / 2);
      if (offsetAt(middle) === offsets.at(-1)) before = middle;
      else after = middle;
    }
    transitions.push(after);
    offsets.push(offset);
  }
  return { name, offsets, transitions };
}

/** The first and last year of the training split's timestamps, read by the graph itself so they mean what serving computes. */
async function fitYears(parquetPath: string, feature: DatetimeFeature): Promise<{ min: number; max: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-years-'));
  try {
    const graphPath = join(dir, 'years.onnx');
    await writeFile(graphPath, datetimeYearGraph(feature));
    let min = Infinity;
    let max = -Infinity;
    await runModelOverParquet(graphPath, parquetPath, {
      onBatch({ outputs }) {
        for (const year of outputs[YEAR_OUTPUT]!) {
          if (Number.isNaN(year)) continue;
          if (year < min) min = year;
          if (year > max) max = year;
        }
      },
    });
    if (min > max) throw new LoomError('INVALID_ARGUMENT', `feature "${feature.name}" has no readable timestamps in the training split`, { field: feature.name, fix: 'drop the year part, or the feature' });
    return { min, max };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
