import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoom } from '../support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../support/flights.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/flights/pipeline.ts', import.meta.url));

interface RunJson {
  state: string;
  steps: { step: string; state: string }[];
}
const states = (out: string) => Object.fromEntries((JSON.parse(out) as RunJson).steps.map((s) => [s.step, s.state]));

test('loom run records a pipeline; a second run executes nothing; an edited schema stops the pipeline with a report', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = join(dir, 'flights.csv');
  await writeFlightsSlice(source, { months: [1, 2], every: 60, format: 'csv' });
  const schemaPath = join(dir, 'flights.schema.json');
  const pipelineFile = join(dir, 'pipeline.ts');
  await writeFile(
    pipelineFile,
    `import { flightsPipeline } from ${JSON.stringify(EXAMPLE)};\nexport default flightsPipeline({ source: ${JSON.stringify(source)}, schemaPath: ${JSON.stringify(schemaPath)}, epochs: 2 });\n`,
  );

  const first = await runLoom(['run', pipelineFile, '--json'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(new Set(Object.values(states(first.stdout))), new Set(['COMPLETE']));

  const second = await runLoom(['run', pipelineFile, '--json'], { cwd: dir });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(new Set(Object.values(states(second.stdout))), new Set(['CACHED']), 'nothing is executed again');

  // A reviewer narrows the origin airports the schema allows: February's data breaks it.
  const schema = JSON.parse(await readFile(schemaPath, 'utf8')) as { features: { name: string; domain?: string[] }[] };
  schema.features.find((f) => f.name === 'origin')!.domain = ['ATL', 'ORD'];
  await writeFile(schemaPath, JSON.stringify(schema, null, 2));
  const third = await runLoom(['run', pipelineFile, '--json'], { cwd: dir });
  assert.equal(third.code, 5, 'an error-level anomaly exits with FAILED_PRECONDITION');
  assert.match(third.stderr, /origin/);
  assert.match(third.stderr, /unseen|UNSEEN/i);
  const after = states(third.stdout);
  assert.equal(after.ingest, 'CACHED');
  assert.equal(after.schema, 'COMPLETE', 'the edited schema file is read again');
  assert.equal(after.validate, 'FAILED');
  assert.equal(after.transform, 'CANCELED');
  assert.equal(after.push, 'CANCELED');
});

test('bad command lines get a clear message naming the thing and a non-zero exit', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const missing = await runLoom(['run', 'no-such-pipeline.ts'], { cwd: dir });
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /no-such-pipeline\.ts does not exist/);

  await writeFile(join(dir, 'cycle.ts'), `
import { definePipeline } from ${JSON.stringify(fileURLToPath(new URL('../../src/pipeline/dsl.ts', import.meta.url)))};
import { statisticsComponent } from ${JSON.stringify(fileURLToPath(new URL('../../src/validate/components.ts', import.meta.url)))};
import { ingestComponent } from ${JSON.stringify(fileURLToPath(new URL('../../src/data/component.ts', import.meta.url)))};
export default definePipeline('cycle', (p) => {
  p.step('stats', statisticsComponent, { inputs: { examples: p.ref('ingest', 'examples') } });
  p.step('ingest', ingestComponent, { parameters: { source: 'x.csv', split: { kind: 'hash', key: 'k', evalPercent: 10 } }, after: [{ name: 'stats' }] });
});
`);
  const cycle = await runLoom(['run', 'cycle.ts'], { cwd: dir });
  assert.equal(cycle.code, 2);
  assert.match(cycle.stderr, /cycle: (stats -> ingest -> stats|ingest -> stats -> ingest)/);

  const noSource = await runLoom(['demo', '--source', join(dir, 'missing.parquet'), '--json'], { cwd: dir });
  assert.equal(noSource.code, 3, noSource.stderr);
  assert.match(noSource.stderr, /missing\.parquet/);

  await writeFile(join(dir, 'empty.csv'), 'date,delay,distance,origin,destination\n');
  const empty = await runLoom(['demo', '--source', join(dir, 'empty.csv'), '--json'], { cwd: dir });
  assert.equal(empty.code, 2, empty.stderr);
  assert.match(empty.stderr, /empty\.csv/);

  const port = await runLoom(['serve', '--port', 'eighty'], { cwd: dir });
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port/);

  const unknownModel = await runLoom(['lineage', 'nosuchmodel@champion'], { cwd: dir });
  assert.equal(unknownModel.code, 3);
  assert.match(unknownModel.stderr, /nosuchmodel/);
});

test('every command answers --help', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  for (const command of [[], ['demo'], ['run'], ['runs'], ['runs', 'show'], ['lineage'], ['serve'], ['models'], ['models', 'ls'], ['models', 'versions']]) {
    const result = await runLoom([...command, '--help'], { cwd: dir });
    assert.equal(result.code, 0, `${command.join(' ')} --help: ${result.stderr}`);
    assert.match(result.stdout, /Usage: loom/);
  }
});
