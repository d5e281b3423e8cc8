import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { testStepRunner } from '../../test/support/step-runner.js';
import { artifactType, Examples, prop } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { definePipeline } from '../pipeline/dsl.js';
import { runPipeline } from '../pipeline/orchestrator.js';
import { LocalArtifactStore } from '../store/local-artifact-store.js';
import { ingestComponent } from './component.js';
import { queryRows, sqlString, withDuckDB } from './duckdb.js';
import { ingestSnapshot } from './ingest.js';
import { filesOfSpan, spanPattern } from './spans.js';

const split = { kind: 'hash', key: 'origin', evalPercent: 20 } as const;

async function monthlyFiles(dir: string, months: number[], name = (m: number) => `flights-${m}.parquet`): Promise<Record<number, number>> {
  const rows: Record<number, number> = {};
  for (const month of months) rows[month] = await writeFlightsSlice(join(dir, name(month)), { months: [month], every: 200 });
  return rows;
}

test('a {SPAN} glob reads the newest span by default, or the one asked for, and records its number', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const rows = await monthlyFiles(dir, [1, 2, 3]);
  const glob = join(dir, 'flights-{SPAN}.parquet');
  const latest = await ingestSnapshot({ source: { kind: 'file', glob }, split }, join(dir, 'a'));
  assert.equal(latest.span, 3);
  assert.deepEqual(latest.files, [join(dir, 'flights-3.parquet')]);
  assert.equal(latest.rowCounts.train + latest.rowCounts.eval, rows[3]);
  const second = await ingestSnapshot({ source: { kind: 'file', glob }, span: 2, split }, join(dir, 'b'));
  assert.equal(second.span, 2);
  assert.equal(second.rowCounts.train + second.rowCounts.eval, rows[2]);
  await assert.rejects(ingestSnapshot({ source: { kind: 'file', glob }, span: 9, split }, join(dir, 'c')), (e: LoomError) => e.code === 'NOT_FOUND' && /span 9 has no file[\s\S]*spans found: 1, 2, 3/.test(e.describe()));
});

test('span patterns: numbers are captured only where {SPAN} stands, and one span may have several files', () => {
  const pattern = spanPattern('/data/day-{SPAN}/part-*.csv');
  assert.deepEqual(pattern.exec('/data/day-20010102/part-1.csv')?.slice(1), ['20010102']);
  assert.equal(pattern.exec('/data/day-x/part-1.csv'), null);
  const picked = filesOfSpan('/d/s{SPAN}/*.csv', ['/d/s1/a.csv', '/d/s10/a.csv', '/d/s10/b.csv', '/d/s2/a.csv'], undefined);
  assert.deepEqual(picked, { span: 10, files: ['/d/s10/a.csv', '/d/s10/b.csv'] });
});

test('spans by a date column: months become YYYYMM spans and only that month is read', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'q1.parquet');
  await writeFlightsSlice(source, { months: [1, 2, 3], every: 200 });
  const feb = await ingestSnapshot({ source, spanColumn: { column: 'date', unit: 'month' }, span: 200102, split }, join(dir, 'a'));
  const expected = await withDuckDB(async (db) =>
    Number((await queryRows(db, `SELECT count(*)::INT AS n FROM read_parquet(${sqlString(source)}) WHERE month(date) = 2`))[0]!.n),
  );
  assert.equal(feb.span, 200102);
  assert.equal(feb.rowCounts.train + feb.rowCounts.eval, expected);
  assert.equal(feb.timeRange, '2001-02-01..2001-02-28');
  const newest = await ingestSnapshot({ source, spanColumn: { column: 'date', unit: 'month' }, split }, join(dir, 'b'));
  assert.equal(newest.span, 200103);
  await assert.rejects(ingestSnapshot({ source, spanColumn: { column: 'delay', unit: 'month' }, split }, join(dir, 'c')), /spanColumn.column "delay" is BIGINT/);
});

/** A test component that records which spans its two inputs carried. */
const SpanPair = artifactType({ name: 'TestSpanPair', description: 'the spans of two Examples', properties: { current: prop.int(), baseline: prop.int() }, files: {} });
const comparePair = defineComponent({
  name: 'compare-spans',
  version: '1',
  description: 'writes the spans of its inputs',
  inputs: { examples: { type: Examples }, baseline: { type: Examples, optional: true } },
  outputs: { pair: SpanPair },
  parameters: z.object({}),
  async execute({ inputs, outputs }) {
    const pair = { current: inputs.examples.properties.span as number, baseline: (inputs.baseline?.properties.span as number | undefined) ?? -1 };
    // The files are read, not only the properties: the resolved artifact is a real snapshot.
    const rows = await withDuckDB(async (db) =>
      inputs.baseline ? Number((await queryRows(db, `SELECT count(*)::INT AS n FROM read_parquet(${sqlString(join(inputs.baseline.path, 'train', 'data.parquet'))})`))[0]!.n) : 0,
    );
    await writeFile(join(outputs.pair, 'pair.json'), JSON.stringify({ ...pair, baselineTrainRows: rows }));
    return { properties: { pair } };
  },
});

/** Reads the pair made from the previous span: an artifact with no span of its own. */
const SpanOfPair = artifactType({ name: 'TestSpanOfPair', description: 'the span a previous pair was made from', properties: { previous: prop.int() }, files: {} });
const previousPair = defineComponent({
  name: 'previous-pair',
  version: '1',
  description: 'records the current span of the previous pair',
  inputs: { pair: { type: SpanPair }, previous: { type: SpanPair, optional: true } },
  outputs: { result: SpanOfPair },
  parameters: z.object({}),
  async execute({ inputs, outputs }) {
    const previous = (inputs.previous?.properties.current as number | undefined) ?? -1;
    await writeFile(join(outputs.result, 'pair.json'), JSON.stringify({ current: inputs.pair.properties.current, baseline: previous, baselineTrainRows: 0 }));
    return { properties: { result: { previous } } };
  },
});

test('p.previousSpan resolves span N-1 of the same step from the metadata store; p.latestSpan the newest', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  await monthlyFiles(dir, [1, 2, 3, 4]);
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const glob = join(dir, 'flights-{SPAN}.parquet');
  const pipeline = (span: number) =>
    definePipeline('spans', (p) => {
      const ingest = p.step('ingest', ingestComponent, { parameters: { source: { kind: 'file', glob }, span, split } });
      // Another step of the same type in the same pipeline must not be mistaken for span N-1.
      p.step('other-ingest', ingestComponent, { parameters: { source: { kind: 'file', glob }, span: span - 1 === 0 ? 1 : span - 1, split } });
      const drift = p.step('drift', comparePair, { inputs: { examples: ingest.outputs.examples, baseline: p.previousSpan(ingest.outputs.examples) } });
      p.step('latest', comparePair, { inputs: { examples: ingest.outputs.examples, baseline: p.latestSpan(ingest.outputs.examples) } });
      // An output with no span of its own takes the span of the data it was made from.
      p.step('pair-of-previous', previousPair, { inputs: { pair: drift.outputs.pair, previous: p.previousSpan(drift.outputs.pair) } });
    });
  const run = async (span: number) => {
    const result = await runPipeline(pipeline(span), { runner: testStepRunner(db, artifacts), codeVersion: { commit: null, dirty: false } });
    assert.equal(result.state, 'COMPLETE', result.failure?.error.message);
    const read = async (step: string) => {
      const outputs = result.steps.find((s) => s.step === step)!.outputs;
      const out = (outputs.pair ?? outputs.result)!;
      return JSON.parse(await readFile(join(await artifacts.localPath(out.uri), 'pair.json'), 'utf8')) as { current: number; baseline: number; baselineTrainRows: number };
    };
    return { drift: await read('drift'), latest: await read('latest'), pairs: await read('pair-of-previous') };
  };
  const first = await run(1);
  assert.deepEqual([first.drift.current, first.drift.baseline], [1, -1], 'the first span has no previous');
  const second = await run(2);
  assert.deepEqual([second.drift.current, second.drift.baseline], [2, 1]);
  assert.ok(second.drift.baselineTrainRows > 0);
  const fourth = await run(4);
  assert.deepEqual([fourth.drift.current, fourth.drift.baseline], [4, 2], 'span 3 was never ingested by this step: the highest lower span is 2');
  assert.deepEqual([first.pairs.baseline, second.pairs.baseline, fourth.pairs.baseline], [-1, 1, 2], 'the pair made from span N-1, found through lineage');
  assert.equal(fourth.latest.baseline, 4);
  // A backfill of span 3 compares with span 2, and its newest span is still 4.
  const backfill = await run(3);
  assert.deepEqual([backfill.drift.current, backfill.drift.baseline, backfill.latest.baseline], [3, 2, 4]);
});

test('span inputs are checked when the pipeline is defined: the type must match, and a previous span must be optional', () => {
  const required = defineComponent({
    name: 'needs-baseline', version: '1', description: 'a baseline it cannot do without',
    inputs: { examples: { type: Examples }, baseline: { type: Examples } }, outputs: { pair: SpanPair }, parameters: z.object({}),
    async execute() {
      return { properties: { pair: { current: 0, baseline: 0 } } };
    },
  });
  const ingestStep = { source: 'x.parquet', split } as const;
  assert.throws(
    () => definePipeline('p', (p) => {
      const ingest = p.step('ingest', ingestComponent, { parameters: ingestStep });
      p.step('drift', required, { inputs: { examples: ingest.outputs.examples, baseline: p.previousSpan(ingest.outputs.examples) } });
    }),
    (e: LoomError) => e.code === 'INVALID_ARGUMENT' && /reads the previous span/.test(e.message) && /optional/.test(e.fix ?? ''),
  );
  assert.throws(
    () => definePipeline('p', (p) => {
      const ingest = p.step('ingest', ingestComponent, { parameters: ingestStep });
      const pair = p.step('pair', comparePair, { inputs: { examples: ingest.outputs.examples } });
      p.step('drift', comparePair, { inputs: { examples: ingest.outputs.examples, baseline: p.previousSpan(pair.outputs.pair) } });
    }),
    /takes Examples, but "pair\.pair" is TestSpanPair/,
  );
});
