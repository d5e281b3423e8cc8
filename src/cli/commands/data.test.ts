import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoom } from '../../../test/support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../../../test/support/flights.js';
import type { DatasetVersion, DatasetVersionDetail } from '../../queries/dataset-versions.js';

const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../${path}`, import.meta.url)));

test('loom data ls lists each span ingested as a version with its run; loom data show opens one by a prefix of its hash', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const landing = join(dir, 'landing');
  await mkdir(landing);
  const january = await writeFlightsSlice(join(landing, 'flights-1.csv'), { months: [1], every: 300 });
  const clean = join(dir, 'february.csv');
  const february = await writeFlightsSlice(clean, { months: [2], every: 300 });
  // Two real February rows lose their destination: they are quarantined, the rest is kept.
  const lines = (await readFile(clean, 'utf8')).trimEnd().split('\n');
  for (const n of [10, 20]) lines[n - 1] = lines[n - 1]!.split(',').slice(0, 4).join(',');
  await writeFile(join(landing, 'flights-2.csv'), `${lines.join('\n')}\n`);

  const pipelineFile = join(dir, 'pipeline.ts');
  await writeFile(
    pipelineFile,
    `import { definePipeline } from ${src('pipeline/dsl.ts')};
import { ingestComponent } from ${src('data/component.ts')};
export default definePipeline('landing', (p) => {
  p.step('ingest', ingestComponent, { parameters: {
    source: { kind: 'file', glob: ${JSON.stringify(join(landing, 'flights-{SPAN}.csv'))} },
    span: Number(process.env.SPAN), split: { kind: 'hash', key: 'origin', evalPercent: 25 }, maxBadRows: 5,
  } });
});
`,
  );
  const runIds: string[] = [];
  for (const span of ['1', '2']) {
    const run = await runLoom(['run', pipelineFile, '--json'], { cwd: dir, env: { SPAN: span } });
    assert.equal(run.code, 0, run.stderr);
    runIds.push((JSON.parse(run.stdout) as { runId: string }).runId);
  }

  const ls = await runLoom(['data', 'ls', '--json'], { cwd: dir });
  assert.equal(ls.code, 0, ls.stderr);
  const versions = (JSON.parse(ls.stdout) as { items: DatasetVersion[] }).items;
  assert.deepEqual(versions.map((v) => [v.span, v.badRows, v.madeBy?.runId, v.madeBy?.step]), [
    [2, 2, runIds[1], 'ingest'],
    [1, 0, runIds[0], 'ingest'],
  ]);
  const [feb, jan] = versions as [DatasetVersion, DatasetVersion];
  assert.equal(jan.rowCounts.train! + jan.rowCounts.eval!, january);
  assert.equal(feb.rowCounts.train! + feb.rowCounts.eval!, february - 2);
  assert.match(feb.version, /^[0-9a-f]{64}$/);
  assert.equal(feb.source, join(landing, 'flights-{SPAN}.csv'));

  const table = await runLoom(['data', 'ls'], { cwd: dir });
  assert.match(table.stdout, /^VERSION\s+SPAN\s+SOURCE\s+ROWS\s+BAD\s+CREATED\s+RUN/);
  assert.match(table.stdout, new RegExp(`${feb.version.slice(0, 12)}\\s+2\\s`));

  const show = await runLoom(['data', 'show', feb.version.slice(0, 8), '--json'], { cwd: dir });
  assert.equal(show.code, 0, show.stderr);
  const detail = JSON.parse(show.stdout) as DatasetVersionDetail;
  assert.equal(detail.version, feb.version);
  assert.deepEqual(detail.columns.map((c) => c.name), ['date', 'delay', 'distance', 'origin', 'destination']);
  assert.deepEqual(detail.sourceFiles, [join(landing, 'flights-2.csv')]);
  assert.deepEqual(detail.files.map((f) => f.path), ['eval/data.parquet', 'quarantine/rejects.ndjson', 'train/data.parquet']);
  assert.deepEqual(detail.quarantine?.sample.map((s) => [s.line, s.reason]), [[10, 'too_few_columns'], [20, 'too_few_columns']]);
  assert.equal(detail.madeBy?.runId, runIds[1]);

  const text = await runLoom(['data', 'show', jan.version.slice(0, 6)], { cwd: dir });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /span\s+1\n/);
  assert.match(text.stdout, /quarantine\s+no bad rows/);
  assert.match(text.stdout, new RegExp(`run ${runIds[0]} step ingest`));

  // The January file again with one broken row: the good rows hash to the same version, and
  // the new ingest's quarantined row is reachable from `loom data show` and counted by `loom data ls`.
  const januaryLines = (await readFile(join(landing, 'flights-1.csv'), 'utf8')).trimEnd().split('\n');
  await writeFile(join(landing, 'flights-1.csv'), `${[...januaryLines, 'BROKEN,ROW'].join('\n')}\n`);
  const again = await runLoom(['run', pipelineFile, '--json'], { cwd: dir, env: { SPAN: '1' } });
  assert.equal(again.code, 0, again.stderr);
  const againRun = (JSON.parse(again.stdout) as { runId: string }).runId;
  const relisted = (JSON.parse((await runLoom(['data', 'ls', '--json'], { cwd: dir })).stdout) as { items: DatasetVersion[] }).items;
  const janAgain = relisted.find((v) => v.version === jan.version)!;
  assert.equal(relisted.length, 2, 'the same good rows are the same version');
  assert.deepEqual([janAgain.badRows, janAgain.ingests, janAgain.madeBy?.runId], [1, 2, runIds[0]]);
  const reshown = JSON.parse((await runLoom(['data', 'show', jan.version.slice(0, 8), '--json'], { cwd: dir })).stdout) as DatasetVersionDetail;
  assert.deepEqual(reshown.quarantines.map((q) => [q.madeBy?.runId, q.badRows, q.sample.map((s) => s.line)]), [[againRun, 1, [januaryLines.length + 1]]]);
  assert.equal(await readFile(reshown.quarantines[0]!.path!, 'utf8').then((text) => text.includes('BROKEN,ROW')), true);
  const retext = await runLoom(['data', 'show', jan.version.slice(0, 8)], { cwd: dir });
  assert.match(retext.stdout, new RegExp(`quarantine\\s+ingest of run ${againRun} at .*: 1 bad rows of ${january + 1} read`));

  const unknownPrefix = ['0000', 'ffff', 'abcd'].find((p) => !versions.some((v) => v.version.startsWith(p)))!;
  const missing = await runLoom(['data', 'show', unknownPrefix], { cwd: dir });
  assert.equal(missing.code, 3, 'NOT_FOUND');
  assert.match(missing.stderr, /no dataset version starts with/);
  const invalid = await runLoom(['data', 'show', 'x1'], { cwd: dir });
  assert.equal(invalid.code, 2, 'INVALID_ARGUMENT');
});
