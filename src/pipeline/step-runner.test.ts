import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { makeTempDir, writeFlightsSlice } from '../../test/support/flights.js';
import { processLauncher } from '../../test/support/process-launcher.js';
import { testStepRunner } from '../../test/support/step-runner.js';
import { LoomError } from '../core/errors.js';
import { ingestComponent } from '../data/component.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { LocalArtifactStore } from '../store/local-artifact-store.js';
import { transformComponent } from '../transform/component.js';
import { schemaComponent, statisticsComponent } from '../validate/components.js';
import { artifactType, prop } from './artifact-types.js';
import { defineComponent } from './component.js';
import type { LaunchRequest, Launcher } from './launcher.js';
import { startPipelineRun } from './run-scope.js';
import { createStepRunner } from './step-runner.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

test("a step's context is plain data: its executor run in another process from the JSON gives the outputs of the in-process run", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const artifactsRoot = join(dir, 'artifacts');
  const artifacts = new LocalArtifactStore(artifactsRoot);
  const data = join(dir, 'flights.parquet');
  await writeFlightsSlice(data, { months: [1, 2], every: 400 });

  // Upstream steps in this process: ingest -> statistics -> schema.
  const local = testStepRunner(db, artifacts);
  const run = await startPipelineRun(db.metadata, { pipelineName: 'process-test', codeVersion: { commit: null, dirty: false } });
  const step = async (component: Parameters<typeof local.run>[0]['component'], inputs: Parameters<typeof local.run>[0]['inputs'], parameters: unknown) => {
    const outcome = await local.run({ component, stepName: component.name, inputs, parameters, run: run.scope });
    assert.equal(outcome.state, 'COMPLETE', outcome.error?.describe());
    return outcome.outputs;
  };
  const { examples } = await step(ingestComponent, {}, {
    source: { kind: 'file', path: data },
    select: { hour: 'hour(date)', distance: 'distance', origin: 'origin', delayed: 'delay > 15' },
    split: { kind: 'time', column: 'date', evalFrom: '2001-02-01' },
  });
  const { statistics } = await step(statisticsComponent, { examples }, {});
  const { schema } = await step(schemaComponent, { statistics }, { path: join(dir, 'flights.schema.json'), label: 'delayed' });

  // The transform step twice: in this process, and in a child process from the serialized context.
  const transform = { component: transformComponent, stepName: 'transform', inputs: { examples, schema }, parameters: { labelColumn: 'delayed', topK: 20 }, run: run.scope, cache: false };
  const inProcess = await local.run(transform);
  assert.equal(inProcess.state, 'COMPLETE', inProcess.error?.describe());

  const contexts: string[] = [];
  const childPids: number[] = [];
  const child = processLauncher({
    artifactsRoot,
    components: { transform: { module: here('../transform/component.ts'), exportName: 'transformComponent' } },
    onChild: (pid) => childPids.push(pid),
  });
  // Records each context as the JSON a queue would carry, and launches from that JSON alone.
  const recording: Launcher = {
    launch: (request: LaunchRequest) => {
      const json = JSON.stringify(request.context);
      contexts.push(json);
      return child.launch({ ...request, context: JSON.parse(json) as LaunchRequest['context'] });
    },
  };
  const remote = createStepRunner({ metadata: db.metadata, registry: db.registry, artifacts, launcher: recording });
  const outOfProcess = await remote.run(transform);
  assert.equal(outOfProcess.state, 'COMPLETE', outOfProcess.error?.describe());

  assert.equal(childPids.length, 1);
  assert.notEqual(childPids[0], process.pid, 'the executor ran in another process');
  const context = JSON.parse(contexts[0]!) as { inputs: Record<string, { path: string }>; outputs: Record<string, string>; parameters: unknown; run: { runId: string } };
  assert.deepEqual(Object.keys(context.inputs).sort(), ['examples', 'schema']);
  assert.deepEqual(Object.keys(context.outputs).sort(), ['transformGraph', 'transformedExamples']);
  assert.equal(context.run.runId, run.scope.runId);
  for (const name of ['transformGraph', 'transformedExamples']) {
    const [a, b] = [inProcess.outputs[name]!, outOfProcess.outputs[name]!];
    assert.equal(b.fingerprint, a.fingerprint, `${name}: the same files, byte for byte`);
    assert.deepEqual(b.properties, a.properties, `${name}: the same properties`);
    assert.notEqual(b.id, a.id, 'each run published its own artifact');
  }
});

const Counted = artifactType({ name: 'TestCounted', description: 'count.json', properties: { count: prop.int() }, files: { count: (dir: string) => join(dir, 'count.json') } });

test('a verdict publishes the outputs and then fails the step, unretried; properties its type does not allow fail it before anything is published', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  let calls = 0;
  const judge = defineComponent({
    name: 'judge', version: '1', description: 'counts, and fails above a limit; returns a bad property when told',
    inputs: {}, outputs: { counted: Counted },
    parameters: z.object({ count: z.number().int(), limit: z.number().int(), badProperty: z.boolean().default(false) }),
    async execute({ outputs, parameters }) {
      calls += 1;
      await writeFile(Counted.files.count(outputs.counted), JSON.stringify(parameters.count));
      if (parameters.badProperty) return { properties: { counted: { count: 'many' as unknown as number } } };
      const failure = parameters.count > parameters.limit ? { code: 'FAILED_PRECONDITION' as const, message: `count ${parameters.count} is above ${parameters.limit}`, fix: 'count less' } : undefined;
      return { properties: { counted: { count: parameters.count } }, ...(failure ? { failure } : {}) };
    },
  });
  const runner = testStepRunner(db, artifacts);
  const scope = { runId: 'r', pipelineName: 'p', contextIds: [], codeVersion: { commit: null, dirty: false } };
  const request = (parameters: object) => ({ component: judge, stepName: 'judge', inputs: {}, parameters, run: scope, retries: 3, retryDelayMs: 1 });

  const failed = await runner.run(request({ count: 9, limit: 3 }));
  assert.equal(failed.state, 'FAILED');
  assert.equal(calls, 1, 'a verdict is not retried');
  assert.deepEqual([failed.error?.code, failed.error?.retryable, failed.error?.fix], ['FAILED_PRECONDITION', false, 'count less']);
  const execution = await db.metadata.getExecution(failed.executionId);
  assert.equal(execution?.state, 'FAILED');
  assert.match(execution?.error ?? '', /count 9 is above 3/);
  assert.equal(failed.outputs.counted?.properties.count, 9, 'the output is published with the failed execution');
  assert.equal(await readFile(Counted.files.count(await artifacts.localPath(failed.outputs.counted!.uri)), 'utf8'), '9');
  const again = await runner.run(request({ count: 9, limit: 3 }));
  assert.equal(again.state, 'FAILED', 'a failed verdict is never a cache hit');
  assert.equal(calls, 2);

  const bad = await runner.run(request({ count: 1, limit: 3, badProperty: true }));
  assert.equal(bad.state, 'FAILED');
  assert.equal(bad.error?.code, 'INTERNAL');
  assert.match(bad.error!.message, /TestCounted properties for "counted" that its type does not allow: count: /);
  assert.deepEqual(bad.outputs, {});
  assert.deepEqual((await db.metadata.getEvents({ executionIds: [bad.executionId] })).filter((e) => e.type === 'OUTPUT'), [], 'nothing was published');
});

test('secrets in parameters are recorded as *** (and left out of the cache key) while the executor gets the real values', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const seen: unknown[] = [];
  const connect = defineComponent({
    name: 'connect', version: '1', description: 'records the parameters it was given',
    inputs: {}, outputs: { counted: Counted },
    parameters: z.object({ url: z.string(), apiKey: z.string(), table: z.string() }),
    async execute({ outputs, parameters }) {
      seen.push(parameters);
      await writeFile(Counted.files.count(outputs.counted), '1');
      return { properties: { counted: { count: 1 } } };
    },
  });
  const runner = testStepRunner(db, artifacts);
  const scope = { runId: 'r', pipelineName: 'p', contextIds: [], codeVersion: { commit: null, dirty: false } };
  const parameters = (password: string) => ({ url: `postgres://loom:${password}@db.example:5432/warehouse?sslmode=require&access_token=t0k`, apiKey: `key-${password}`, table: 'flights' });

  const first = await runner.run({ component: connect, stepName: 'connect', inputs: {}, parameters: parameters('s3cret'), run: scope });
  assert.equal(first.state, 'COMPLETE', first.error?.describe());
  assert.deepEqual(seen, [parameters('s3cret')], 'the executor got the real values');
  const execution = await db.metadata.getExecution(first.executionId);
  assert.deepEqual(execution?.parameters, {
    url: 'postgres://loom:***@db.example:5432/warehouse?sslmode=require&access_token=***',
    apiKey: '***',
    table: 'flights',
  });
  assert.doesNotMatch(JSON.stringify(execution), /s3cret|t0k/);

  // Another password reads the same data: a cache hit, recorded without the new password either.
  const second = await runner.run({ component: connect, stepName: 'connect', inputs: {}, parameters: parameters('other'), run: scope });
  assert.equal(second.state, 'CACHED');
  assert.equal(seen.length, 1);
  const skipped = await runner.recordNotRun({ component: connect, stepName: 'connect', parameters: parameters('s3cret'), run: scope }, 'CANCELED', 'upstream failed');
  assert.doesNotMatch(JSON.stringify(await db.metadata.getExecution(skipped.executionId)), /s3cret|t0k/);
});

test("a step's log lines are stored with its execution in order, live while it runs, retry notes included; a failing log store never fails the step", async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  let attempts = 0;
  const chatty = defineComponent({
    name: 'chatty', version: '1', description: 'logs, fails once with a retryable error, then logs until its first line is stored',
    inputs: {}, outputs: { counted: Counted },
    parameters: z.object({ waitForLog: z.boolean() }),
    async execute({ outputs, parameters, run }, services) {
      attempts += 1;
      services.log(`attempt ${attempts} starts`);
      if (attempts === 1) throw new LoomError('UNAVAILABLE', 'the warehouse is busy');
      if (parameters.waitForLog) {
        const executionId = run?.executionId ?? assert.fail('the step runner names the execution');
        // The step is still running: its first lines reach the store on their own, not only at the end.
        for (let tries = 0; (await db.metadata.getExecutionLog(executionId)).lines.length < 3; tries += 1) {
          if (tries > 200) throw new LoomError('INTERNAL', 'the log of a running step never reached the store');
          await sleep(50);
        }
      }
      services.log('password=hunter2 done');
      await writeFile(Counted.files.count(outputs.counted), '1');
      return { properties: { counted: { count: 1 } } };
    },
  });
  const scope = { runId: 'r', pipelineName: 'p', contextIds: [], codeVersion: { commit: null, dirty: false } };
  const shown: string[] = [];
  const request = { component: chatty, stepName: 'chatty', inputs: {}, parameters: { waitForLog: true }, run: scope, retries: 1, retryDelayMs: 1, cache: false, log: (line: string) => shown.push(line) };

  const outcome = await testStepRunner(db, artifacts).run(request);
  assert.equal(outcome.state, 'COMPLETE', outcome.error?.describe());
  const stored = (await db.metadata.getExecutionLog(outcome.executionId)).lines.map((l) => l.line);
  assert.deepEqual(stored, ['attempt 1 starts', 'step chatty attempt 1 failed (the warehouse is busy); retrying in 1 ms', 'attempt 2 starts', 'password=*** done']);
  assert.deepEqual(shown, ['  · attempt 1 starts', 'step chatty attempt 1 failed (the warehouse is busy); retrying in 1 ms', '  · attempt 2 starts', '  · password=hunter2 done'], 'the caller sees what it saw before');

  // A store whose log writes fail: the step completes, and the caller is warned once.
  const failingLog = Object.create(db.metadata) as typeof db.metadata;
  failingLog.appendExecutionLog = () => Promise.reject(new LoomError('UNAVAILABLE', 'the log table is locked'));
  attempts = 0;
  shown.length = 0;
  const runner = createStepRunner({ metadata: failingLog, registry: db.registry, artifacts });
  const unlogged = await runner.run({ ...request, parameters: { waitForLog: false } });
  assert.equal(unlogged.state, 'COMPLETE', unlogged.error?.describe());
  assert.equal(shown.filter((line) => /^warning: the log of execution \d+ could not be stored \(the log table is locked\); the step goes on$/.test(line)).length, 1);
  assert.deepEqual((await db.metadata.getExecutionLog(unlogged.executionId)).lines, []);
});
