import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { openTestPlatform } from '../../test/support/databases.js';
import { LocalArtifactStore } from '../store/local-artifact-store.js';
import { makeTempDir } from '../../test/support/flights.js';
import { testStepRunner } from '../../test/support/step-runner.js';
import { artifactType, prop } from './artifact-types.js';
import { defineComponent } from './component.js';
import { definePipeline, type Pipeline } from './dsl.js';
import { runPipeline, type PipelineRunResult } from './orchestrator.js';

const Numbers = artifactType({ name: 'TestNumbers', description: 'numbers in numbers.json', properties: { count: prop.int(), total: prop.double() }, files: {} });

/** Counts executor calls per component, so tests can tell cached steps from executed ones. */
const calls = new Map<string, number>();
const called = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);

async function writeNumbers(dir: string, values: number[]) {
  await writeFile(join(dir, 'numbers.json'), JSON.stringify(values));
  return { count: values.length, total: values.reduce((a, b) => a + b, 0) };
}
async function readNumbers(dir: string): Promise<number[]> {
  return JSON.parse(await readFile(join(dir, 'numbers.json'), 'utf8')) as number[];
}

const generate = defineComponent({
  name: 'generate', version: '1', description: 'writes 1..n',
  inputs: {}, outputs: { numbers: Numbers },
  parameters: z.object({ n: z.number().int().positive() }),
  async execute({ outputs, parameters }) {
    called('generate');
    return { properties: { numbers: await writeNumbers(outputs.numbers, Array.from({ length: parameters.n }, (_, i) => i + 1)) } };
  },
});

const scale = defineComponent({
  name: 'scale', version: '1', description: 'multiplies, after a pause so parallel steps overlap',
  inputs: { numbers: { type: Numbers } }, outputs: { numbers: Numbers },
  parameters: z.object({ factor: z.number(), pauseMs: z.number().default(0) }),
  async execute({ inputs, outputs, parameters }) {
    called('scale');
    await new Promise((resolve) => setTimeout(resolve, parameters.pauseMs));
    const values = (await readNumbers(inputs.numbers.path)).map((v) => v * parameters.factor);
    return { properties: { numbers: await writeNumbers(outputs.numbers, values) } };
  },
});

const failures = { remaining: 0, retryable: true };
const combine = defineComponent({
  name: 'combine', version: '1', description: 'adds two lists; fails while `failures.remaining` > 0',
  inputs: { left: { type: Numbers }, right: { type: Numbers } }, outputs: { numbers: Numbers },
  parameters: z.object({}),
  async execute({ inputs, outputs }) {
    called('combine');
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      throw new LoomError(failures.retryable ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', 'combine failed on purpose');
    }
    const [left, right] = [await readNumbers(inputs.left.path), await readNumbers(inputs.right.path)];
    return { properties: { numbers: await writeNumbers(outputs.numbers, left.map((v, i) => v + (right[i] ?? 0))) } };
  },
});

function diamond(options: { n?: number; minTotal?: number } = {}): Pipeline {
  return definePipeline('diamond', (p) => {
    const source = p.step('generate', generate, { parameters: { n: options.n ?? 4 } });
    const doubled = p.step('double', scale, { inputs: { numbers: source.outputs.numbers }, parameters: { factor: 2, pauseMs: 150 } });
    const tripled = p.step('triple', scale, { inputs: { numbers: source.outputs.numbers }, parameters: { factor: 3, pauseMs: 150 } });
    const sum = p.step('combine', combine, { inputs: { left: doubled.outputs.numbers, right: tripled.outputs.numbers } });
    p.step('report', scale, {
      inputs: { numbers: sum.outputs.numbers },
      parameters: { factor: 1 },
      when: { input: 'numbers', property: 'total', equals: options.minTotal ?? 50 },
    });
  });
}

async function setUp(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await makeTempDir((fn) => t.after(fn));
  const db = await openTestPlatform(dir);
  t.after(() => db.close());
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  calls.clear();
  failures.remaining = 0;
  const run = (pipeline: Pipeline) => runPipeline(pipeline, { runner: testStepRunner(db, artifacts), codeVersion: { commit: 'abc123', dirty: false }, retryDelayMs: 5 });
  return { db, artifacts, run };
}

const stateOf = (result: PipelineRunResult) => Object.fromEntries(result.steps.map((s) => [s.step, s.state]));

test('a pipeline runs every step, in parallel where it can, and records executions, events and contexts', async (t) => {
  const { db, artifacts, run } = await setUp(t);
  const result = await run(diamond());
  assert.equal(result.state, 'COMPLETE');
  assert.deepEqual(stateOf(result), { generate: 'COMPLETE', double: 'COMPLETE', triple: 'COMPLETE', combine: 'COMPLETE', report: 'COMPLETE' });
  const combined = result.steps.find((s) => s.step === 'combine')!.outputs.numbers!;
  assert.deepEqual(await readNumbers(await artifacts.localPath(combined.uri)), [5, 10, 15, 20]);
  assert.equal(combined.properties.total, 50);

  const executions = (await db.metadata.listExecutions({ contextId: result.contextId })).items;
  assert.equal(executions.length, 5);
  for (const execution of executions) assert.deepEqual(execution.codeVersion, { commit: 'abc123', dirty: false });
  const [double, triple] = ['double', 'triple'].map((name) => executions.find((e) => e.stepName === name)!);
  assert.ok(double!.startedAt! < triple!.endedAt! && triple!.startedAt! < double!.endedAt!, 'independent steps overlap in time');

  const lineage = await db.metadata.lineage(combined.id, { direction: 'upstream', maxHops: 5 });
  assert.deepEqual(lineage.executions.map((e) => e.stepName).sort(), ['combine', 'double', 'generate', 'triple']);
});

test('a second run with nothing changed executes nothing and records every step CACHED', async (t) => {
  const { run } = await setUp(t);
  const first = await run(diamond());
  const before = new Map(calls);
  const second = await run(diamond());
  assert.deepEqual(calls, before, 'no executor was called again');
  assert.deepEqual(new Set(Object.values(stateOf(second))), new Set(['CACHED']));
  const uri = (r: PipelineRunResult) => r.steps.find((s) => s.step === 'combine')!.outputs.numbers!.uri;
  assert.equal(uri(second), uri(first));
});

test('a changed parameter re-executes that step and what depends on it, and nothing else', async (t) => {
  const { run } = await setUp(t);
  await run(diamond({ n: 4 }));
  const changed = await run(diamond({ n: 5, minTotal: 75 }));
  assert.deepEqual(stateOf(changed), { generate: 'COMPLETE', double: 'COMPLETE', triple: 'COMPLETE', combine: 'COMPLETE', report: 'COMPLETE' });
  await run(diamond({ n: 4 }));
  assert.equal(calls.get('generate'), 2, 'going back to n=4 reuses the first run');
});

test('a failing step is recorded FAILED, its dependents do not run, and a re-run reuses the cached upstream steps', async (t) => {
  const { db, artifacts, run } = await setUp(t);
  failures.remaining = 1;
  failures.retryable = false;
  const failed = await run(diamond());
  assert.equal(failed.state, 'FAILED');
  assert.deepEqual(stateOf(failed), { generate: 'COMPLETE', double: 'COMPLETE', triple: 'COMPLETE', combine: 'FAILED', report: 'CANCELED' });
  assert.equal(failed.failure?.step, 'combine');
  assert.equal(failed.failure?.error.code, 'FAILED_PRECONDITION');
  const execution = await db.metadata.getExecution(failed.steps.find((s) => s.step === 'combine')!.executionId);
  assert.equal(execution?.state, 'FAILED');
  assert.equal(execution?.attempts, 1, 'an error that cannot pass is not retried');
  assert.match(execution?.error ?? '', /combine failed on purpose/);
  assert.deepEqual(await readdir(join(artifacts.root, 'staging')), [], 'a failed step leaves no half-written artifact');
  const failedEvents = await db.metadata.getEvents({ executionIds: [execution!.id] });
  assert.deepEqual(failedEvents.filter((e) => e.type === 'OUTPUT'), [], 'and no output recorded');

  const rerun = await run(diamond());
  assert.deepEqual(stateOf(rerun), { generate: 'CACHED', double: 'CACHED', triple: 'CACHED', combine: 'COMPLETE', report: 'COMPLETE' });
});

test('a step whose error may pass is retried with backoff until it succeeds', async (t) => {
  const { db, run } = await setUp(t);
  failures.remaining = 2;
  failures.retryable = true;
  const result = await run(diamond());
  assert.equal(result.state, 'COMPLETE');
  const execution = await db.metadata.getExecution(result.steps.find((s) => s.step === 'combine')!.executionId);
  assert.equal(execution?.attempts, 3);
  assert.equal(calls.get('combine'), 3);
});

test('a step whose condition does not hold is SKIPPED, with the reason recorded', async (t) => {
  const { db, run } = await setUp(t);
  const result = await run(diamond({ minTotal: 1000 }));
  assert.equal(result.state, 'COMPLETE');
  const report = result.steps.find((s) => s.step === 'report')!;
  assert.equal(report.state, 'SKIPPED');
  const execution = await db.metadata.getExecution(report.executionId);
  assert.match(String(execution?.properties.reason), /numbers\.total is 50, not 1000/);
});

test('wiring mistakes are refused before anything runs, naming the step and the fix', () => {
  const invalid = (build: Parameters<typeof definePipeline>[1], pattern: RegExp) =>
    assert.throws(() => definePipeline('bad', build), (e: unknown) => e instanceof LoomError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message));
  invalid((p) => {
    const a = p.step('a', scale, { inputs: { numbers: p.ref('b', 'numbers') }, parameters: { factor: 1 } });
    p.step('b', scale, { inputs: { numbers: a.outputs.numbers }, parameters: { factor: 1 } });
  }, /cycle: a -> b -> a|cycle: b -> a -> b/);
  invalid((p) => p.step('a', scale, { inputs: { numbers: p.ref('missing', 'numbers') }, parameters: { factor: 1 } }), /step "missing", which does not exist/);
  invalid((p) => {
    const g = p.step('g', generate, { parameters: { n: 1 } });
    p.step('a', scale, { inputs: { numbers: g.outputs.numbers, extra: g.outputs.numbers } as never, parameters: { factor: 1 } });
  }, /unknown input "extra"/);
  invalid((p) => p.step('a', scale, { parameters: { factor: 1 } } as never), /missing its input "numbers"/);
  invalid((p) => p.step('g', generate, { parameters: { n: -1 } }), /parameter n/);
});
