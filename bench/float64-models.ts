/**
 * What float64 model arithmetic costs: the served graph (transform + model) of each
 * trainer as exported now (dense layers, tree sums and the link in float64, rounded to
 * float32 once, so the server and the browser give the same bits) against the same graph
 * in float32 (the Casts removed: the float32 export Loom used before), measured in the
 * same run. ONNX Runtime for Node, one thread as the model server opens it, on real
 * flights rows: one row per call (online serving) and whole batches (batch scoring).
 * Measured as CPU time per row, best of the runs, so that other work on a shared machine
 * disturbs the ratio as little as possible.
 *
 * Run: node --import tsx bench/float64-models.ts [--repeat 21]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { queryRows, sqlString, withDuckDB } from '../src/data/duckdb.js';
import { composeGraphs } from '../src/onnx/compose.js';
import { readSignature } from '../src/onnx/inspect.js';
import { decodeModel, encodeModel, type ModelProto } from '../src/onnx/proto.js';
import { toTensor } from '../src/onnx/tensors.js';
import type { TrainParameters } from '../src/train/component.js';
import { buildServingModel, RAW_FEATURES } from '../test/support/serving-model.js';

const { values: args } = parseArgs({ options: { repeat: { type: 'string', default: '21' } } });
const repeat = Number(args.repeat);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const TRAINERS: [string, TrainParameters][] = [
  ['logistic regression', { epochs: 3 }],
  ['gbdt (100 trees, 31 leaves)', { algorithm: 'gbdt', numTrees: 100, numLeaves: 31 }],
  ['mlp (64, 32)', { algorithm: 'mlp', hiddenUnits: [64, 32], epochs: 2 }],
];

/** The float32 graph: every Cast removed, each Cast's output read from its input (the model's initializers are float32 already). */
function withoutCasts(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const outputs = new Set((graph.output ?? []).map((output) => output.name ?? ''));
  const casts = (graph.node ?? []).filter((node) => node.op_type === 'Cast');
  const source = new Map(casts.map((node) => [node.output![0]!, node.input![0]!]));
  const resolve = (name: string): string => (source.has(name) ? resolve(source.get(name)!) : name);
  // A graph output produced by a Cast is renamed onto the value the Cast read.
  const renamed = new Map<string, string>();
  for (const name of outputs) if (source.has(name)) renamed.set(resolve(name), name);
  const node = (graph.node ?? [])
    .filter((n) => n.op_type !== 'Cast')
    .map((n) => ({ ...n, input: n.input!.map((name) => renamed.get(resolve(name)) ?? resolve(name)), output: n.output!.map((name) => renamed.get(name) ?? name) }));
  return { ...model, graph: { ...graph, node } };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-float64-'));
  try {
    const table: (string | number)[][] = [
      ['model', 'rows per call', 'float32 CPU µs/row (best)', 'float64 CPU µs/row (best)', 'ratio (best)', 'ratio (median)'],
    ];
    for (const [name, train] of TRAINERS) {
      process.stderr.write(`training ${name}...\n`);
      const fixture = await buildServingModel(dir, { every: 50, train });
      const served = await readFile(join(fixture.servingModel.path, 'model.onnx'));
      const transform = await readFile(join(fixture.transformGraph.path, 'transform.onnx'));
      const float32 = encodeModel(
        composeGraphs(transform, withoutCasts(decodeModel(await readFile(join(fixture.model.path, 'model.onnx')))), {
          connect: { features: 'features' },
          prefixes: ['transform/', 'model/'],
        }),
      );
      const signature = readSignature(served);
      const rows = await withDuckDB((db) =>
        queryRows(db, `SELECT ${RAW_FEATURES.join(', ')} FROM read_parquet(${sqlString(join(fixture.examples.path, 'eval', 'data.parquet'))})`),
      );
      const feeds = (from: number, to: number) =>
        Object.fromEntries(signature.inputs.map((spec) => [spec.name, toTensor(spec, rows.slice(from, to).map((row) => row[spec.name]))]));
      const single = Array.from({ length: 500 }, (_, i) => feeds(i, i + 1));
      const batch = [feeds(0, rows.length)];
      // The reference must be the same model: its probabilities agree to float32 rounding noise.
      const [p32, p64] = await Promise.all([float32, served].map(async (bytes) => {
        const s = await session(bytes);
        const out = (await s.run(batch[0]!)).probability!.data as Float32Array;
        await s.release();
        return out;
      }));
      const largest = p64!.reduce((max, value, i) => Math.max(max, Math.abs(value - p32![i]!)), 0);
      if (!(largest < 1e-5)) throw new Error(`${name}: the float32 reference differs by ${largest}`);
      process.stderr.write(`${name}: float32 and float64 graphs agree within ${largest.toExponential(1)}\n`);
      for (const [label, calls] of [['1', single], [String(rows.length), batch]] as const) {
        const times = { float32: [] as number[], float64: [] as number[] };
        const sessions = { float32: await session(float32), float64: await session(served) };
        for (let run = 0; run < repeat; run++) {
          // Alternate the two graphs so load from other work on the machine hits both alike.
          for (const kind of ['float32', 'float64'] as const) times[kind].push(await microsecondsPerRow(sessions[kind], calls));
        }
        await Promise.all(Object.values(sessions).map((s) => s.release()));
        // Best of the runs: on a machine shared with other work, the fastest run is the one least disturbed.
        const [a, b] = [Math.min(...times.float32), Math.min(...times.float64)];
        table.push([name, label, a.toFixed(2), b.toFixed(2), (b / a).toFixed(2), (median(times.float64) / median(times.float32)).toFixed(2)]);
      }
    }
    const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => String(row[column]).length)));
    process.stdout.write(`${table.map((row) => `| ${row.map((cell, column) => String(cell).padEnd(widths[column]!)).join(' | ')} |`).join('\n')}\n`);
    process.stdout.write(`runs: ${repeat} per cell, the two graphs alternating; 1-row cells: 500 calls per run\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/**
 * CPU time (this process, all threads) per row: other work on a shared machine stretches
 * wall time by whatever share of the cores it takes, CPU time much less.
 */
async function microsecondsPerRow(session: ort.InferenceSession, calls: Record<string, ort.Tensor>[]): Promise<number> {
  await session.run(calls[0]!); // warm
  let rows = 0;
  const started = process.cpuUsage();
  for (const feeds of calls) rows += Number((await session.run(feeds)).probability!.dims[0]);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / rows;
}

await main();
