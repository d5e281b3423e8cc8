import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlString, withDuckDB } from '../data/duckdb.js';
import { makeTempDir } from '../../test/support/flights.js';
import { queryRows, runTransformGraph, type Row } from '../../test/support/transform-graph.js';
import { fitTransform } from './analyzers.js';
import type { DatetimeFormat, DatetimePart } from './config.js';
import { datetimeOutputs, resolveTimeZone } from './datetime.js';
import type { DatetimeFeature, FittedTransform } from './fitted.js';
import { transformInputs } from './graph.js';

const PARTS: DatetimePart[] = ['hour', 'minute', 'weekday', 'day', 'month', 'dayofyear', 'year'];
const CYCLIC = ['hour', 'minute', 'weekday', 'day', 'month', 'dayofyear'] as const;

/** A one-feature transform over column `t`; years scaled by [0, 1] so the year column holds the year itself. */
function transform(format: DatetimeFormat, timeZone: string, encoding: 'onehot' | 'cyclical' = 'onehot'): FittedTransform {
  const feature: DatetimeFeature = { name: 't', analyzer: 'datetime', rawType: 'timestamp', parts: PARTS, format, encoding, timeZone: resolveTimeZone(timeZone), years: { min: 0, max: 1 }, outputs: datetimeOutputs('t', PARTS, encoding) };
  return { version: 4, labelColumn: 'y', rowCount: 1, features: [feature], featureNames: feature.outputs, outputWidth: feature.outputs.length };
}

/** Each row's parts as the graph set them (one-hot columns read back), or undefined where all its columns are zero. */
async function graphParts(fitted: FittedTransform, values: unknown[]): Promise<(Record<string, number> | undefined)[]> {
  const { data } = await runTransformGraph(fitted, values.map((t) => ({ t })));
  const names = fitted.featureNames;
  const width = names.length;
  return values.map((_, row) => {
    const cells = data.subarray(row * width, (row + 1) * width);
    if (cells.every((cell) => cell === 0)) return undefined;
    const parts: Record<string, number> = { year: cells[names.indexOf('t.year')]! };
    for (const part of CYCLIC) {
      const hot = names.filter((name, j) => name.startsWith(`t.${part}=`) && cells[j] === 1);
      assert.equal(hot.length, 1, `row ${row}: one ${part} column is hot`);
      parts[part] = Number(hot[0]!.split('=')[1]);
    }
    return parts;
  });
}

/** DuckDB's parts of local TIMESTAMPs given as SQL expressions. */
async function duckdbParts(locals: string[]): Promise<Record<string, number>[]> {
  const rows = await queryRows(`SELECT hour(l) AS hour, minute(l) AS minute, dayofweek(l) AS weekday, day(l) AS day, month(l) AS month, dayofyear(l) AS dayofyear, year(l) AS year
    FROM (SELECT unnest([${locals.join(', ')}]) AS l, generate_subscripts([${locals.join(', ')}], 1) AS i) ORDER BY i`);
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])));
}

/** A deterministic spread of instants (epoch seconds) between `from` and `to` years, plus the edges that matter. */
function instants(count: number, from: number, to: number, edges: number[]): number[] {
  let state = 12_345;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const [lo, hi] = [Date.UTC(from, 0, 1) / 1000, Date.UTC(to, 0, 1) / 1000];
  return [...edges, ...Array.from({ length: count }, () => Math.floor(lo + random() * (hi - lo)))];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** ISO text of wall-clock seconds since 1970 (read as UTC), in the layout asked for. */
function isoText(wall: number, layout: number, suffix: string): string {
  const d = new Date(wall * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (layout === 0) return `${date}T${hm}:${pad(d.getUTCSeconds())}${suffix}`;
  if (layout === 1) return `${date} ${hm}${suffix}`;
  return `${date}T${hm}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}123${suffix}`;
}

const OFFSETS: [string, number][] = [['Z', 0], ['+05:30', 19_800], ['-0800', -28_800], ['+09', 32_400], ['-03:30', -12_600], ['', 0]];

for (const zone of ['UTC', '+05:45', 'America/New_York', 'Australia/Lord_Howe']) {
  test(`ISO 8601 text in ${zone}: every part equals DuckDB's, with offsets, fractions, naive wall-clock text and DST boundaries`, async () => {
    const iana = zone.includes('/');
    // New York's spring-forward and fall-back instants of 2001, a second either side; a leap day; the last second of 1969.
    const edges = [986108399, 986108400, 1004247999, 1004248000, 951782400, -1, 0];
    const seconds = instants(400, iana ? 1901 : 1600, iana ? 2037 : 2400, edges);
    const texts: string[] = [];
    const locals: string[] = [];
    const zoneLocal = (instant: number) => (iana ? `timezone(${sqlString(zone)}, to_timestamp(${instant}))` : `make_timestamp(${(instant + resolveTimeZone(zone).offsets[0]!) * 1_000_000})`);
    seconds.forEach((instant, i) => {
      const [suffix, offset] = OFFSETS[i % OFFSETS.length]!;
      texts.push(isoText(instant + offset, i % 3, suffix));
      // Text without an offset is wall-clock time in the zone: its parts are its own fields.
      locals.push(suffix === '' ? `make_timestamp(${(instant + offset) * 1_000_000})` : zoneLocal(instant));
    });
    texts.push('2001-01-15');
    locals.push(`TIMESTAMP '2001-01-15'`);
    const got = await graphParts(transform('iso8601', zone), texts);
    const expected = await duckdbParts(locals);
    texts.forEach((text, i) => assert.deepEqual(got[i], expected[i], `${text} in ${zone}`));
  });
}

test('epoch seconds and milliseconds, before 1970 too, give the parts DuckDB gives; the missing value sets nothing', async () => {
  for (const zone of ['UTC', '-09:30', 'Europe/London']) {
    const iana = zone.includes('/');
    const seconds = instants(300, iana ? 1901 : 1700, iana ? 2037 : 2300, [-1, 0, 1, -86_400, 951_868_800, -14_256_000]);
    const { offsets } = resolveTimeZone(zone);
    const locals = seconds.map((s) => (iana ? `timezone(${sqlString(zone)}, to_timestamp(${s}))` : `make_timestamp(${(s + offsets[0]!) * 1_000_000})`));
    const expected = await duckdbParts(locals);
    for (const [format, values] of [['epoch_seconds', seconds], ['epoch_milliseconds', seconds.map((s) => s * 1000 + 999)]] as const) {
      // Milliseconds just short of the next second: flooring, not rounding, picks the second.
      const got = await graphParts(transform(format, zone), [...values, null]);
      values.forEach((value, i) => assert.deepEqual(got[i], expected[i], `${format} ${value} in ${zone}`));
      assert.equal(got.at(-1), undefined, 'null is missing');
    }
  }
});

test('text that is no timestamp, or an impossible one, is missing: all its columns stay zero and nothing throws', async () => {
  const bad = ['garbage', '', '2001-02-29', '1900-02-29T00:00:00Z', '2001-13-01', '2001-00-10', '2001-04-31', '2001-01-15T24:00', '2001-01-15T08:60',
    '2001-01-15T08:30:61', '2001-01-15T08:30+24:00', '2001-01-15T08:30+05:60', '2001-01-15+05:00', '20010115', '2001-1-15', ' 2001-01-15', '2001-01-15T08:30:00Zjunk',
    '99999-01-01', '٢٠٠١-٠١-١٥'];
  // A leap second stays in its minute; a fraction of any length is read (and ignored).
  const good = ['2000-02-29T23:59:60Z', '2001-01-15t08:30:00z', '2001-01-15T08:30:00,5+05:30', `2001-01-15T08:30:00.${'9'.repeat(40)}Z`];
  const got = await graphParts(transform('iso8601', 'UTC'), [...bad, ...good, null]);
  bad.forEach((text, i) => assert.equal(got[i], undefined, JSON.stringify(text)));
  assert.deepEqual(got.slice(bad.length, -1).map((parts) => [parts?.year, parts?.month, parts?.day, parts?.hour, parts?.minute]), [[2000, 2, 29, 23, 59], [2001, 1, 15, 8, 30], [2001, 1, 15, 3, 0], [2001, 1, 15, 8, 30]]);
  assert.equal(got.at(-1), undefined);
});

test('cyclical encoding: sin and cos of each periodic part, zero for a missing timestamp', async () => {
  const fitted = transform('iso8601', 'UTC', 'cyclical');
  assert.equal(fitted.outputWidth, 6 * 2 + 1);
  const { data } = await runTransformGraph(fitted, [{ t: '2001-03-04T18:45:00Z' }, { t: 'nope' }]);
  // 18:45 on Sunday 4 March, day 63 of the year.
  const indices = { hour: 18, minute: 45, weekday: 0, day: 3, month: 2, dayofyear: 62 };
  const periods = { hour: 24, minute: 60, weekday: 7, day: 31, month: 12, dayofyear: 366 };
  for (const part of CYCLIC) {
    const angle = (2 * Math.PI * indices[part]) / periods[part];
    assert.equal(data[fitted.featureNames.indexOf(`t.${part}_sin`)], Math.fround(Math.sin(angle)), `${part} sin`);
    assert.equal(data[fitted.featureNames.indexOf(`t.${part}_cos`)], Math.fround(Math.cos(angle)), `${part} cos`);
  }
  assert.ok(data.subarray(fitted.outputWidth).every((value) => value === 0));
});

test('fitted on text and integer columns: string and int64 inputs, the year scaled by the training years', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const path = join(dir, 'times.parquet');
  await withDuckDB((db) =>
    db.run(`COPY (SELECT strftime(TIMESTAMP '1998-06-01' + INTERVAL (i * 97) DAY, '%Y-%m-%dT%H:%M:%S') || '-05:00' AS text_time, epoch(TIMESTAMP '1998-06-01' + INTERVAL (i * 97) DAY)::BIGINT AS epoch_time,
      CASE WHEN i % 7 = 0 THEN 'not a date' ELSE NULL END AS junk, i % 2 = 0 AS y FROM range(40) r(i)) TO ${sqlString(path)} (FORMAT PARQUET)`),
  );
  const fitted = await fitTransform(path, {
    labelColumn: 'y',
    features: ['text_time', 'epoch_time'],
    overrides: { text_time: { analyzer: 'datetime', parts: ['year', 'month'], timeZone: 'America/Chicago' }, epoch_time: { analyzer: 'datetime', format: 'epoch_seconds', parts: ['year'], encoding: 'cyclical' } },
  });
  assert.equal(fitted.version, 4);
  assert.deepEqual(transformInputs(fitted).map((input) => [input.name, input.type]), [['text_time', 'string'], ['epoch_time', 'int64']]);
  const [text, epoch] = fitted.features as DatetimeFeature[];
  assert.deepEqual([text!.format, text!.timeZone.name, text!.years, epoch!.years], ['iso8601', 'America/Chicago', { min: 1998, max: 2008 }, { min: 1998, max: 2008 }]);
  assert.ok(text!.timeZone.transitions.length > 200, 'Chicago has DST transitions');
  assert.deepEqual(fitted.featureNames.slice(0, 2), ['text_time.year', 'text_time.month=1']);
  const rows: Row[] = [{ text_time: '2003-01-01T05:30:00Z', epoch_time: 1_041_399_000 }];
  const { data } = await runTransformGraph(fitted, rows);
  // 2003-01-01 05:30 UTC is 2002-12-31 23:30 in Chicago; the epoch column is read in UTC.
  assert.equal(data[0], Math.fround(4 / 10));
  assert.equal(data[1 + 11], 1, 'December');
  assert.equal(data[fitted.featureNames.indexOf('epoch_time.year')], Math.fround(5 / 10));
});
