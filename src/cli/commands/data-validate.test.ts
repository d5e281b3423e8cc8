import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoom } from '../../../test/support/cli.js';
import { makeTempDir, writeFlightsSlice } from '../../../test/support/flights.js';
import { sqlString, withDuckDB } from '../../data/duckdb.js';
import type { DatasetVersion } from '../../queries/dataset-versions.js';
import type { AnomalyReport } from '../../validate/anomalies.js';

const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../${path}`, import.meta.url)));

test('loom data validate: infer and save a schema, drift of February against January passes, a shifted March exits 5', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const landing = join(dir, 'landing');
  await mkdir(landing);
  await writeFlightsSlice(join(landing, 'flights-1.parquet'), { months: [1], every: 100 });
  await writeFlightsSlice(join(landing, 'flights-2.parquet'), { months: [2], every: 100 });
  // March as an upstream change would deliver it: ORD and DFW flights filed under ATL.
  const march = join(dir, 'march.parquet');
  await writeFlightsSlice(march, { months: [3], every: 100 });
  await withDuckDB((db) =>
    db.run(`COPY (SELECT * REPLACE (CASE WHEN origin IN ('ORD', 'DFW') THEN 'ATL' ELSE origin END AS origin) FROM read_parquet(${sqlString(march)}))
      TO ${sqlString(join(landing, 'flights-3.parquet'))} (FORMAT PARQUET)`),
  );
  const pipelineFile = join(dir, 'pipeline.ts');
  await writeFile(
    pipelineFile,
    `import { definePipeline } from ${src('pipeline/dsl.ts')};
import { ingestComponent } from ${src('data/component.ts')};
export default definePipeline('landing', (p) => {
  p.step('ingest', ingestComponent, { parameters: {
    source: { kind: 'file', glob: ${JSON.stringify(join(landing, 'flights-{SPAN}.parquet'))} },
    span: Number(process.env.SPAN), split: { kind: 'hash', key: 'origin', evalPercent: 20 },
  } });
});
`,
  );
  for (const span of ['1', '2', '3']) {
    const run = await runLoom(['run', pipelineFile, '--json'], { cwd: dir, env: { SPAN: span } });
    assert.equal(run.code, 0, run.stderr);
  }
  const ls = await runLoom(['data', 'ls', '--json'], { cwd: dir });
  const bySpan = new Map((JSON.parse(ls.stdout) as { items: DatasetVersion[] }).items.map((v) => [v.span, v.version.slice(0, 10)]));
  const [jan, feb, mar] = [bySpan.get(1)!, bySpan.get(2)!, bySpan.get(3)!];

  // January alone, with the schema inferred from it saved for review.
  const schemaFile = join(dir, 'flights.schema.json');
  const first = await runLoom(['data', 'validate', jan, '--write-schema', schemaFile], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^version ${jan}\\w*: \\d+ rows, schema inferred from version ${jan}`));
  assert.match(first.stdout, /^FEATURE\s+TYPE\s+COUNT\s+MISSING\s+SUMMARY$/m);
  assert.match(first.stdout, /^distance\s+INT\s+\d+\s+0\s+mean [\d.]+\s+std [\d.]+\s+min \d+\s+median \d+(\.\d+)?\s+max \d+/m);
  assert.match(first.stdout, /^origin\s+STRING\s+\d+\s+0\s+\d+ unique\s+top [A-Z]{3} \(\d+\), [A-Z]{3} \(\d+\), [A-Z]{3} \(\d+\)$/m);
  assert.match(first.stdout, /^data: no anomalies in \d+ rows$/m);
  // The reviewer allows a few more unseen airports than a small January sample holds.
  const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as { features: { name: string; maxUnseenShare: number; drift?: unknown }[] };
  for (const f of schema.features) if (f.name === 'origin' || f.name === 'destination') f.maxUnseenShare = 0.05;
  await writeFile(schemaFile, JSON.stringify(schema, null, 2));

  const february = await runLoom(['data', 'validate', feb, '--against', jan, '--schema', schemaFile], { cwd: dir });
  assert.equal(february.code, 0, february.stderr);
  assert.match(february.stdout, /^drift:$/m);
  assert.match(february.stdout, /^ {2}drift origin +linf +0\.\d{4} +threshold 0\.1 +ok$/m);

  const shifted = await runLoom(['data', 'validate', mar, '--against', feb, '--schema', schemaFile], { cwd: dir });
  assert.equal(shifted.code, 5, 'error-level anomalies exit with FAILED_PRECONDITION');
  assert.match(shifted.stdout, /ERROR {3}DRIFT {11}origin: "origin" differs from the previous span: linf 0\.\d{4} is above the threshold 0\.1/);
  assert.match(shifted.stdout, /^ {2}drift origin +linf +0\.\d{4} +threshold 0\.1 +EXCEEDED$/m);
  assert.match(shifted.stderr, new RegExp(`error: dataset version ${mar}\\w* has 1 error-level anomaly\\n {2}fix: fix the data, or edit ${schemaFile.replaceAll('/', '\\/')}`));

  const json = await runLoom(['data', 'validate', mar, '--against', feb, '--schema', schemaFile, '--json'], { cwd: dir });
  assert.equal(json.code, 5);
  const parsed = JSON.parse(json.stdout) as { version: string; against: string; report: AnomalyReport; schemaUsed?: unknown; runId: string; executionId: number };
  assert.ok(parsed.version.startsWith(mar) && parsed.against.startsWith(feb));
  assert.deepEqual(parsed.report.anomalies.filter((a) => a.severity === 'ERROR').map((a) => [a.type, a.feature]), [['DRIFT', 'origin']]);
  assert.equal(parsed.schemaUsed, undefined);

  // Every check is a recorded run: listed by `loom runs`, its inputs and outputs in the metadata store.
  assert.match(first.stderr, /recorded as run data-validate-\S+ \(execution \d+\)/);
  const runs = (JSON.parse((await runLoom(['runs', '--json'], { cwd: dir })).stdout) as { items: { runId: string; pipeline: string; state: string }[] }).items;
  const checks = runs.filter((r) => r.pipeline === 'data-validate');
  assert.equal(checks.length, 4, 'January, February, March in text and in JSON');
  assert.equal(checks.find((r) => r.runId === parsed.runId)?.state, 'FAILED', 'a version with error-level anomalies fails its run');
  const shown = await runLoom(['runs', 'show', parsed.runId, '--json'], { cwd: dir });
  type Io = { name: string; artifact: { id: number; typeName: string; uri: string; properties: Record<string, unknown> } };
  const [step] = (JSON.parse(shown.stdout) as { steps: { executionId: number; step: string; component: string; state: string; inputs: Io[]; outputs: Io[] }[] }).steps;
  // A failed validation publishes its anomalies, then fails the step: the execution is FAILED with its outputs.
  assert.deepEqual([step!.executionId, step!.step, step!.component, step!.state], [parsed.executionId, 'data-validate', 'validate', 'FAILED']);
  assert.deepEqual(step!.inputs.map((i) => [i.name, i.artifact.typeName]).sort(), [['examples', 'Examples'], ['previous', 'Examples']]);
  const outputs = new Map(step!.outputs.map((o) => [o.name, o.artifact]));
  assert.deepEqual([...outputs.values()].map((a) => a.typeName).sort(), ['ExampleAnomalies', 'ExampleStatistics', 'Schema']);
  assert.equal(outputs.get('anomalies')!.properties.errorCount, 1);
  assert.deepEqual([...(outputs.get('statistics')!.properties.splits as string[])].sort(), ['eval', 'train']);
  const marVersion = JSON.parse((await runLoom(['data', 'show', mar, '--json'], { cwd: dir })).stdout) as { usedBy: { runId: string; executionId: number }[] };
  assert.ok(marVersion.usedBy.some((u) => u.runId === parsed.runId && u.executionId === parsed.executionId), 'the version lists the check among its readers');

  // A schema edited wrongly is named with the field at fault (exit 2).
  (schema.features.find((f) => f.name === 'origin')! as { drift?: unknown }).drift = { measure: 'ks' };
  await writeFile(schemaFile, JSON.stringify(schema, null, 2));
  const bad = await runLoom(['data', 'validate', feb, '--schema', schemaFile], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /features\[3\]\.drift\.measure \(feature "origin"\): "ks" needs a number feature/);
  const unknown = await runLoom(['data', 'validate', 'ffffffff'], { cwd: dir });
  assert.equal(unknown.code, 3);
  const after = (JSON.parse((await runLoom(['runs', '--json'], { cwd: dir })).stdout) as { items: { pipeline: string }[] }).items;
  assert.equal(after.filter((r) => r.pipeline === 'data-validate').length, 4, 'a bad schema file or an unknown version records nothing');
});
