import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { makeTempDir, writeFlightsSlice } from '../../../test/support/flights.js';
import { initProject } from './init.js';

test('loom init on a CSV: a pipeline on the file that loads, split by its timestamp, and a project around it', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  await writeFlightsSlice(join(dir, 'flights.csv'), { months: [1], every: 500 });
  const result = await initProject(join(dir, 'my project'), { data: join(dir, 'flights.csv'), label: 'delay' });
  const project = join(dir, 'my project');
  assert.equal(result.model, 'my-project');
  assert.deepEqual(result.written.sort(), ['.gitignore', 'README.md', 'package.json', 'pipeline.ts', join('schemas', 'README.md')].sort());
  const source = readFileSync(join(project, 'pipeline.ts'), 'utf8');
  assert.match(source, /from 'loom-mlops'/);
  assert.match(source, new RegExp(`const DATA = ${JSON.stringify(join(dir, 'flights.csv')).replaceAll('/', '\\/')}`), 'a file outside the project is named by its absolute path');
  assert.match(source, /overrides: \{ "date": \{ analyzer: 'datetime' \} \}/);
  assert.deepEqual(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).allowScripts, { 'onnxruntime-node': false });
  assert.equal(readFileSync(join(project, '.gitignore'), 'utf8'), '.loom/\nnode_modules/\n');

  const pipeline = await loadPipelineFile(join(project, 'pipeline.ts'));
  assert.deepEqual(pipeline.steps.map((step) => step.name), ['ingest', 'statistics', 'schema', 'validate', 'transform', 'train', 'compose', 'evaluate', 'push']);
  const split = pipeline.steps[0]!.parameters.split as { kind: string; column: string; evalFrom: string };
  assert.equal(split.kind, 'time');
  assert.equal(split.column, 'date');
  assert.match(split.evalFrom, /^2001-01-\d\d \d\d:\d\d:\d\d$/, 'the newest fifth of January evaluates');
  assert.equal(pipeline.steps[4]!.parameters.labelColumn, 'delay');
});

test('loom init keeps what exists: the pipeline without --force, and package.json gains only the install setting', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  writeFileSync(join(dir, 'package.json'), '{\n    "name": "mine",\n    "allowScripts": { "esbuild": true }\n}\n');
  writeFileSync(join(dir, '.gitignore'), 'dist\n.loom');
  const first = await initProject(dir, { model: 'flights' });
  assert.deepEqual(first.kept, []);
  assert.equal(readFileSync(join(dir, 'package.json'), 'utf8'), '{\n    "name": "mine",\n    "allowScripts": {\n        "esbuild": true,\n        "onnxruntime-node": false\n    }\n}\n');
  assert.equal(readFileSync(join(dir, '.gitignore'), 'utf8'), 'dist\n.loom\nnode_modules/\n');
  // Without --data the pipeline runs on the flights shipped with Loom.
  assert.match(readFileSync(join(dir, 'pipeline.ts'), 'utf8'), /const DATA = flightsParquetPath\(\);/);

  writeFileSync(join(dir, 'pipeline.ts'), '// mine\n');
  const second = await initProject(dir, { model: 'flights' });
  assert.deepEqual(second.written, []);
  assert.equal(readFileSync(join(dir, 'pipeline.ts'), 'utf8'), '// mine\n');
  await initProject(dir, { model: 'flights', force: true });
  assert.notEqual(readFileSync(join(dir, 'pipeline.ts'), 'utf8'), '// mine\n');
  assert.ok(existsSync(join(dir, 'schemas', 'README.md')));
});

test('loom init refuses a label that is not a column, naming the columns and the nearest', async (t) => {
  const dir = await makeTempDir((fn) => t.after(fn));
  await writeFlightsSlice(join(dir, 'flights.parquet'), { months: [1], every: 1000 });
  await assert.rejects(initProject(join(dir, 'p'), { data: join(dir, 'flights.parquet'), label: 'delya' }), (error: Error & { code?: string; fix?: string }) => {
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.message, /has no column "delya" \(did you mean "delay"\?\)/);
    assert.match(error.fix ?? '', /date, delay, distance, origin, destination/);
    return true;
  });
  await assert.rejects(initProject(join(dir, 'p'), { data: join(dir, 'flights.parquet') }), /which column should the model predict\?/);
  await assert.rejects(initProject(join(dir, 'p'), { data: join(dir, 'missing.csv'), label: 'x' }), (error: Error & { code?: string }) => error.code === 'NOT_FOUND');
  assert.ok(!existsSync(join(dir, 'p', 'pipeline.ts')), 'nothing is written when the data is wrong');
});
