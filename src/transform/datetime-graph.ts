/**
 * The datetime analyzer's ONNX ops: from the raw timestamp a client sends to calendar
 * parts, all in int64 arithmetic inside the graph.
 *
 * 1. The instant. ISO 8601 text (`2001-01-15T08:30:00Z`, `2001-01-15 08:30`,
 *    `2001-01-15`, optional seconds, fraction and offset `Z`/`±HH`/`±HHMM`/`±HH:MM`) is
 *    checked by RegexFullMatch, its digit groups are cut out by com.microsoft Tokenizer
 *    and cast to int64, and H. Hinnant's days_from_civil turns the date into days.
 *    Text without an offset is wall-clock time in the feature's zone. Epoch seconds or
 *    milliseconds are floored to seconds.
 * 2. The zone: a fixed offset is added; an IANA zone's offset is looked up in its
 *    transition table (GreaterOrEqual against the transitions, ReduceSum, Gather).
 * 3. The parts, from local seconds: hour and minute by Mod/Div, weekday from the day
 *    number, year/month/day/day of year by Hinnant's civil_from_days; the sin and cos
 *    of a part come from a table of its values (Gather), so every ONNX Runtime build agrees.
 * Mod (fmod 0) takes the divisor's sign, which gives floor semantics before 1970 too.
 * Text that is not such a timestamp, or names an impossible one (2001-02-29, 25:00),
 * is missing, like null: its weight is 0, so its columns stay zero. Nothing throws on
 * a bad value, since Cast only ever sees digit groups.
 */
import { DEFAULT_OPSETS, ELEMENT_TYPES, GraphBuilder, STRING_OPSET, attr } from '../onnx/builder.js';
import { MISSING_INT64 } from '../onnx/tensors.js';
import { DATETIME_PART_WIDTH, type CyclicPart } from './config.js';
import type { DatetimeFeature } from './fitted.js';
import { MICROSOFT, float, int64, node, type Block } from './graph-ops.js';

/** The opsets of a graph that reads timestamp text: the string ops' opset, and com.microsoft for Tokenizer. */
export const TEXT_OPSETS: Record<string, number> = { ...DEFAULT_OPSETS, '': STRING_OPSET, [MICROSOFT]: 1 };

/** The output of the graph `datetimeYearGraph` builds. */
export const YEAR_OUTPUT = 'year';

/** A timestamp with an optional time of day and, after a time, an optional offset. */
export const ISO_8601 = '[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether the feature reads text, which needs the string opset and Tokenizer. */
export function readsText(feature: DatetimeFeature): boolean {
  return feature.format === 'iso8601';
}

type Ops = ReturnType<typeof ops>;

/** Small helpers naming every value after the feature. */
function ops(g: GraphBuilder, base: string) {
  const c = (name: string, value: number | bigint) => int64(g, `${base}/${name}`, value);
  const op = (type: string, inputs: string[], name: string, attributes = {}, domain = '') => node(g, type, inputs, `${base}/${name}`, attributes, domain);
  const bin = (type: string, a: string, b: string | number, name: string) => op(type, [a, typeof b === 'number' ? c(`${name}_by`, b) : b], name);
  return {
    c,
    op,
    bin,
    div: (a: string, n: number, name: string) => bin('Div', a, n, name),
    mod: (a: string, n: number, name: string) => bin('Mod', a, n, name),
    mul: (a: string, n: number, name: string) => bin('Mul', a, n, name),
    add: (a: string, b: string | number, name: string) => bin('Add', a, b, name),
    sub: (a: string, b: string | number, name: string) => bin('Sub', a, b, name),
    toInt: (a: string, name: string) => op('Cast', [a], name, { to: attr.int(ELEMENT_TYPES.int64) }),
    and: (flags: string[], name: string) => flags.reduce((all, flag, i) => (i === 0 ? flag : op('And', [all, flag], `${name}${i}`))),
    between: (a: string, lo: number, hi: number, name: string) => op('And', [bin('GreaterOrEqual', a, lo, `${name}_lo`), bin('LessOrEqual', a, hi, `${name}_hi`)], name),
  };
}

/** `floor(a / n)` for int64 `a` and positive `n`: exact, as `a - (a mod n)` is a multiple of n. */
function floorDiv(o: Ops, a: string, n: number, name: string): string {
  return o.div(o.sub(a, o.mod(a, n, `${name}_rem`), `${name}_exact`), n, name);
}

/** Leap years of the Gregorian calendar (proleptic, year 0 included). */
function isLeap(o: Ops, year: string, name: string): string {
  const by = (n: number) => o.bin('Equal', o.mod(year, n, `${name}_mod${n}`), o.c(`${name}_zero${n}`, 0), `${name}_by${n}`);
  return o.op('Or', [o.op('And', [by(4), o.op('Not', [by(100)], `${name}_not100`)], `${name}_julian`), by(400)], name);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(o: Ops, year: string, month: string, day: string): string {
  const early = o.op('Cast', [o.bin('LessOrEqual', month, 2, 'jan_feb')], 'jan_feb_int', { to: attr.int(ELEMENT_TYPES.int64) });
  const y = o.sub(year, early, 'march_year');
  const yoe = o.mod(y, 400, 'civil_yoe');
  const era = o.div(o.sub(y, yoe, 'civil_era_years'), 400, 'civil_era');
  const mp = o.mod(o.add(month, 9, 'civil_m9'), 12, 'civil_mp');
  const doy = o.add(o.sub(day, 1, 'civil_d0'), o.div(o.add(o.mul(mp, 153, 'civil_mp153'), 2, 'civil_mp2'), 5, 'civil_mdays'), 'civil_doy');
  const doe = o.add(o.sub(o.add(o.mul(yoe, 365, 'civil_y365'), o.div(yoe, 4, 'civil_y4'), 'civil_e1'), o.div(yoe, 100, 'civil_y100'), 'civil_e2'), doy, 'civil_doe');
  return o.sub(o.add(o.mul(era, 146_097, 'civil_era_days'), doe, 'civil_days0'), 719_468, 'civil_days');
}

/**
 * ISO 8601 text to its instant (epoch seconds, when the text has an offset) and its wall
 * clock (seconds since 1970-01-01 of the written time), with whether it is valid and
 * whether it names an instant.
 */
function readIso(g: GraphBuilder, o: Ops, input: string): { valid: string; hasOffset: string; instant: string; wall: string } {
  const regex = (pattern: string, of: string, name: string) => o.op('RegexFullMatch', [of], name, { pattern: attr.string(pattern) });
  const matches = regex(ISO_8601, input, 'iso');
  const text = o.op('Where', [matches, input, g.addInitializer(g.uniqueName(`${input}/epoch_text`), ['1970-01-01'], [])], 'text');
  // Padding groups so every row has at least 8 digit groups, whatever the batch holds.
  const padded = o.op('StringConcat', [text, g.addInitializer(g.uniqueName(`${input}/pad`), [' 0 0 0 0 0 0 0 0'], [])], 'padded');
  const groups = o.op('Tokenizer', [padded], 'groups', { tokenexp: attr.string('[0-9]+'), mark: attr.int(0), pad_value: attr.string('0'), mincharnum: attr.int(1) }, MICROSOFT);
  const flag = (pattern: string, name: string) => o.toInt(regex(pattern, text, name), `${name}_int`);
  const hasSeconds = flag('.{16}:.*', 'has_seconds');
  const hasFraction = flag('.{19}[.,].*', 'has_fraction');
  const hasOffset = regex('.{10}.*[+-].*', text, 'has_offset');
  const hasZ = regex('.*[Zz]', text, 'has_z');
  // Groups: year month day hour minute [second [fraction]] [offset hours [offset minutes]], or ±HHMM as one group.
  const offsetAt = o.add(o.add(hasSeconds, hasFraction, 'offset_skip'), 5, 'offset_group');
  const at = o.op('Unsqueeze', [offsetAt, g.addInitializer(g.uniqueName(`${input}/axis2`), new BigInt64Array([2n]), [1])], 'offset_group_3d');
  const picks = g.addInitializer(g.uniqueName(`${input}/picks`), new BigInt64Array([0n, 1n, 2n, 3n, 4n, 5n, 0n, 1n]), [1, 1, 8]);
  const shift = g.addInitializer(g.uniqueName(`${input}/shift`), new BigInt64Array([0n, 0n, 0n, 0n, 0n, 0n, 1n, 1n]), [1, 1, 8]);
  const indices = o.op('Add', [picks, o.op('Mul', [at, shift], 'offset_shift')], 'group_indices');
  const numbers = o.toInt(o.op('GatherElements', [groups, indices], 'picked', { axis: attr.int(2) }), 'numbers');
  const part = (k: number, name: string) => o.op('Gather', [numbers, o.c(`group${k}`, k)], name, { axis: attr.int(2) });
  const [year, month, day, hour, minute] = ['year', 'month', 'day', 'hour', 'minute'].map((name, k) => part(k, `text_${name}`));
  const second = o.op('Mul', [part(5, 'text_second'), hasSeconds], 'second');
  const [first, next] = [part(6, 'offset_first'), part(7, 'offset_next')];
  const compact = regex('.*[+-][0-9]{4}', text, 'offset_compact');
  const colon = o.toInt(regex('.*[+-][0-9]{2}:[0-9]{2}', text, 'offset_colon'), 'offset_colon_int');
  const offsetHours = o.op('Where', [compact, o.div(first, 100, 'compact_hours'), first], 'offset_hours');
  const offsetMinutes = o.op('Where', [compact, o.mod(first, 100, 'compact_minutes'), o.op('Mul', [next, colon], 'colon_minutes')], 'offset_minutes');
  const negative = regex('.{10}.*-.*', text, 'offset_negative');
  const magnitude = o.add(o.mul(offsetHours, 3600, 'offset_h_s'), o.mul(offsetMinutes, 60, 'offset_m_s'), 'offset_magnitude');
  const signed = o.op('Where', [negative, o.op('Neg', [magnitude], 'offset_neg'), magnitude], 'offset_signed');
  const offset = o.op('Where', [hasOffset, signed, o.c('no_offset', 0)], 'offset');

  const leap = o.toInt(isLeap(o, year, 'text_leap'), 'text_leap_int');
  const monthIndex = o.op('Where', [o.between(month, 1, 12, 'month_ok'), o.sub(month, 1, 'month0'), o.c('january', 0)], 'month_index');
  const monthDays = o.op('Gather', [g.addInitializer(g.uniqueName(`${input}/month_days`), BigInt64Array.from(DAYS_IN_MONTH, BigInt), [12]), monthIndex], 'month_days');
  const february = o.toInt(o.bin('Equal', month, 2, 'is_february'), 'is_february_int');
  const lastDay = o.add(monthDays, o.op('Mul', [leap, february], 'leap_day'), 'last_day');
  const valid = o.and(
    [matches, o.between(month, 1, 12, 'month_range'), o.bin('GreaterOrEqual', day, 1, 'day_lo'), o.op('LessOrEqual', [day, lastDay], 'day_hi'),
      o.between(hour, 0, 23, 'hour_range'), o.between(minute, 0, 59, 'minute_range'), o.between(second, 0, 60, 'second_range'),
      o.between(offsetHours, 0, 23, 'offset_h_range'), o.between(offsetMinutes, 0, 59, 'offset_m_range')],
    'valid',
  );
  const days = daysFromCivil(o, year, month, day);
  // Seconds are checked, never added: no part depends on them (offsets are whole minutes), and a leap second 23:59:60 stays in its day.
  const clock = o.add(o.mul(hour, 3600, 'hour_s'), o.mul(minute, 60, 'minute_s'), 'clock');
  const wall = o.add(o.mul(days, 86_400, 'day_s'), clock, 'wall');
  return { valid, hasOffset: o.op('Or', [hasOffset, hasZ], 'has_zone'), instant: o.sub(wall, offset, 'instant'), wall };
}

/** Local seconds of an instant in the feature's zone. */
function toZone(g: GraphBuilder, o: Ops, feature: DatetimeFeature, instant: string): string {
  const { offsets, transitions } = feature.timeZone;
  if (transitions.length === 0) return offsets[0] === 0 ? instant : o.add(instant, offsets[0]!, 'zone_local');
  const table = g.addInitializer(g.uniqueName(`${feature.name}/zone_transitions`), BigInt64Array.from(transitions, BigInt), [1, transitions.length]);
  const passed = o.toInt(o.op('GreaterOrEqual', [instant, table], 'zone_passed'), 'zone_passed_int');
  const index = o.op('ReduceSum', [passed, g.addInitializer(g.uniqueName(`${feature.name}/zone_axis`), new BigInt64Array([1n]), [1])], 'zone_index', { keepdims: attr.int(1) });
  const offset = o.op('Gather', [g.addInitializer(g.uniqueName(`${feature.name}/zone_offsets`), BigInt64Array.from(offsets, BigInt), [offsets.length]), index], 'zone_offset');
  return o.add(instant, offset, 'zone_local');
}

/** Whether each row holds a timestamp, and its local seconds (0 where it does not). */
function localSeconds(g: GraphBuilder, o: Ops, feature: DatetimeFeature): { present: string; local: string } {
  const input = feature.name;
  if (readsText(feature)) {
    const text = readIso(g, o, input);
    const zoned = toZone(g, o, feature, text.instant);
    const local = o.op('Where', [text.hasOffset, zoned, text.wall], 'local_any');
    return { present: text.valid, local: o.op('Where', [text.valid, local, o.c('local_none', 0)], 'local') };
  }
  const missing = o.bin('Equal', input, o.c('missing_value', MISSING_INT64), 'missing');
  const value = o.op('Where', [missing, o.c('zero', 0), input], 'epoch');
  const instant = feature.format === 'epoch_milliseconds' ? floorDiv(o, value, 1000, 'epoch_s') : value;
  return { present: o.op('Not', [missing], 'present'), local: toZone(g, o, feature, instant) };
}

/** Each part's 0-based index (day, month, day of year from 0) and the year, from local seconds. */
function calendar(o: Ops, local: string): Record<CyclicPart | 'year', string> {
  const secondOfDay = o.mod(local, 86_400, 'second_of_day');
  const days = o.div(o.sub(local, secondOfDay, 'midnight'), 86_400, 'days');
  // civil_from_days, March-based years: z days since 0000-03-01.
  const z = o.add(days, 719_468, 'z');
  const doe = o.mod(z, 146_097, 'day_of_era');
  const era = o.div(o.sub(z, doe, 'era_days'), 146_097, 'era');
  const yoeNumerator = o.sub(o.add(o.sub(doe, o.div(doe, 1460, 'd1460'), 'y1'), o.div(doe, 36_524, 'd36524'), 'y2'), o.div(doe, 146_096, 'd146096'), 'y3');
  const yoe = o.div(yoeNumerator, 365, 'year_of_era');
  const doyMarch = o.sub(doe, o.sub(o.add(o.mul(yoe, 365, 'y365'), o.div(yoe, 4, 'y4'), 'ys1'), o.div(yoe, 100, 'y100'), 'year_start'), 'day_of_march_year');
  const mp = o.div(o.add(o.mul(doyMarch, 5, 'doy5'), 2, 'mp1'), 153, 'month_from_march');
  const janFeb = o.bin('GreaterOrEqual', mp, 10, 'in_jan_feb');
  const year = o.add(o.add(yoe, o.mul(era, 400, 'era_years'), 'march_year_of'), o.toInt(janFeb, 'jan_feb_add'), 'year');
  const leap = o.toInt(isLeap(o, year, 'leap'), 'leap_int');
  // Day of year from 0: Jan and Feb are the March year's days 306 on; March 1 is day 59 (60 in leap years).
  const fromMarch = o.add(o.add(doyMarch, 59, 'doy_after_feb'), leap, 'doy_after_feb_leap');
  return {
    hour: o.div(secondOfDay, 3600, 'hour'),
    minute: o.mod(o.div(secondOfDay, 60, 'minute_of_day'), 60, 'minute'),
    // 1970-01-01 was a Thursday: weekday 4 with Sunday = 0, as DuckDB's dayofweek.
    weekday: o.mod(o.add(days, 4, 'days_from_sunday'), 7, 'weekday'),
    day: o.sub(doyMarch, o.div(o.add(o.mul(mp, 153, 'mp153'), 2, 'md1'), 5, 'md2'), 'day0'),
    month: o.mod(o.add(mp, 2, 'm1'), 12, 'month0'),
    dayofyear: o.op('Where', [janFeb, o.sub(doyMarch, 306, 'doy_jan_feb'), fromMarch], 'dayofyear0'),
    year,
  };
}

/** The feature's blocks: one-hot parts weighted by presence, or sin/cos columns; the year scaled by the training years. */
export function addDatetime(g: GraphBuilder, feature: DatetimeFeature, offset: number): Block[] {
  const o = ops(g, feature.name);
  const { present, local } = localSeconds(g, o, feature);
  const values = calendar(o, local);
  const weight = o.op('Cast', [present], 'weight', { to: attr.int(ELEMENT_TYPES.float32) });
  // Made on first use: ONNX Runtime warns about an unused initializer.
  let zeroName: string | undefined;
  const zero = () => (zeroName ??= float(g, `${feature.name}/float_zero`, 0));
  const blocks: Block[] = [];
  let column = 0;
  for (const part of feature.parts) {
    if (part === 'year') {
      const { min, max } = feature.years ?? { min: 0, max: 1 };
      const years = o.op('Cast', [o.sub(values.year, min, 'year_from_min')], 'year_float', { to: attr.int(ELEMENT_TYPES.float32) });
      const scaled = o.op('Div', [years, float(g, `${feature.name}/year_range`, Math.max(max - min, 1))], 'year_scaled');
      blocks.push({ kind: 'dense', value: o.op('Where', [present, scaled, zero()], 'year_value'), column: column++ });
    } else if (feature.encoding === 'cyclical') {
      // A table of the part's n values, not Sin/Cos ops: WebAssembly's sin differs from the native one in the last bit, a Gather never does.
      const n = DATETIME_PART_WIDTH[part];
      for (const [fn, name] of [[Math.sin, 'sin'], [Math.cos, 'cos']] as const) {
        const table = g.addInitializer(g.uniqueName(`${feature.name}/${part}_${name}_table`), Float32Array.from({ length: n }, (_, k) => fn((2 * Math.PI * k) / n)), [n]);
        const value = o.op('Where', [present, o.op('Gather', [table, values[part]], `${part}_${name}_raw`), zero()], `${part}_${name}`);
        blocks.push({ kind: 'dense', value, column: column++ });
      }
    } else {
      blocks.push({ kind: 'hot', index: o.add(values[part], offset + column, `${part}_column`), weight });
      column += DATETIME_PART_WIDTH[part];
    }
  }
  return blocks;
}

/** A graph from the feature's raw input to its year (float, NaN when missing): fitting reads the training years with it. */
export function datetimeYearGraph(feature: DatetimeFeature): Uint8Array {
  const g = new GraphBuilder('loom_datetime_years', TEXT_OPSETS);
  g.addInput(feature.name, readsText(feature) ? 'string' : 'int64', [-1, 1]);
  const o = ops(g, feature.name);
  const { present, local } = localSeconds(g, o, feature);
  const year = o.op('Cast', [calendar(o, local).year], 'year_float', { to: attr.int(ELEMENT_TYPES.float32) });
  g.addNode('Where', [present, year, float(g, 'nan', NaN)], [YEAR_OUTPUT]);
  g.addOutput(YEAR_OUTPUT, 'float32', [-1, 1]);
  return g.toBytes();
}
