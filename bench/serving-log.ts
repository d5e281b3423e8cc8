/**
 * What the prediction log costs serving (issue 13 goal: log-on ≥ 0.85× log-off throughput,
 * in the same run). Two `loom serve` processes (one worker each, the same model), one with
 * the Parquet prediction log and one without, both pinned to core 0 (`taskset`), loaded in
 * turns by autocannon (V2 infer of one flight, 50 connections then 1) from core 1; the order
 * alternates each round. Each round starts both servers afresh (and warms them): a server keeps
 * its own speed for its whole life (its JIT and heap settle one way or another: one log-off
 * server ran 45 µs per request in all five rounds where others ran 36–40), so rounds on the same
 * pair of processes do not vary independently, and only new processes make more rounds count
 * for more. Reported per mode and connection count: the median req/s and p99
 * over the rounds, the median of the per-round on/off ratios, and the server's CPU µs per
 * request (all its threads, the log's worker included: the figure sharing the machine
 * distorts least). The CPU is read `--settle` seconds after each run, after the log's idle
 * rotation (5 s) has turned the run's rows into a Parquet file, so the log's whole cost is
 * counted; the next run starts after it.
 *
 * Run: node --import tsx bench/serving-log.ts [--duration 8] [--rounds 5] [--settle 7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openTestPlatform } from '../test/support/databases.js';
import type { ModelSignature } from '../src/registry/types.js';
import { buildServingModel } from '../test/support/serving-model.js';
import { cannon, loadRun, startChild, type Load } from './serving-servers.js';

const BODY = JSON.stringify({ instances: [{ hour: 17, weekday: 5, distance: 1846, origin: 'SFO', destination: 'ORD' }] });
const INFER = '/v2/models/flights/infer';
const CONNECTIONS = [50, 1];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '8' }, rounds: { type: 'string', default: '5' }, settle: { type: 'string', default: '7' } } });
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const settleMs = Number(values.settle) * 1000;
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const dir = await mkdtemp(join(tmpdir(), 'loom-bench-serving-log-'));
  try {
    const model = await buildServingModel(dir);
    const signature = JSON.parse(await readFile(join(model.servingModel.path, 'signature.json'), 'utf8')) as ModelSignature;
    const db = await openTestPlatform(dir);
    await db.registry.ensureRegisteredModel('flights');
    const version = await db.registry.createModelVersion({ modelName: 'flights', source: model.servingModel.uri, status: 'READY', signature });
    await db.registry.setAlias('flights', 'champion', version.version, { actor: 'bench', reason: 'prediction log cost' });
    await db.close();

    const runs = CONNECTIONS.map((connections) => ({ connections, loads: { off: [] as Load[], on: [] as Load[] } }));
    for (let round = 0; round < rounds; round++) {
      const servers = { off: await startChild({ kind: 'model', dir, log: false, workers: 1 }, '0'), on: await startChild({ kind: 'model', dir, log: true, workers: 1 }, '0') };
      for (const server of Object.values(servers)) await cannon(`${server.url}${INFER}`, 50, 2, BODY);
      // The warm-up's rows are rotated into a file after the log's idle time: before the first measured run, not in it.
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const { connections, loads } of runs) {
        for (const mode of order) loads[mode].push(await loadRun(servers[mode], INFER, BODY, duration, { connections, settleMs }));
        process.stderr.write(`round ${round + 1}, ${connections} connections: off ${Math.round(loads.off.at(-1)!.rps)} req/s, on ${Math.round(loads.on.at(-1)!.rps)} req/s\n`);
      }
      for (const server of Object.values(servers)) await server.stop();
    }

    const lines = [`| \`loom serve\` (1 process, core 0), V2 infer | req/s (median of ${rounds}) | p99 | server CPU per request | failed |`, '|---|---|---|---|---|'];
    const summaries: string[] = [];
    for (const { connections, loads } of runs) {
      const cell = (mode: 'off' | 'on') =>
        `| ${connections} connection${connections > 1 ? 's' : ''}, log ${mode} | ${Math.round(median(loads[mode].map((l) => l.rps)))} | ${median(loads[mode].map((l) => l.p99)).toFixed(2)} ms | ${median(loads[mode].map((l) => l.cpuPerRequest)).toFixed(1)} µs | ${loads[mode].reduce((sum, l) => sum + l.failed, 0)} |`;
      lines.push(cell('off'), cell('on'));
      const ratios = loads.on.map((on, i) => on.rps / loads.off[i]!.rps);
      const cpuRatio = median(loads.off.map((l) => l.cpuPerRequest)) / median(loads.on.map((l) => l.cpuPerRequest));
      summaries.push(
        `${connections} connection${connections > 1 ? 's' : ''}: log on / log off **${median(ratios).toFixed(2)}×** throughput (median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}); by CPU per request ${cpuRatio.toFixed(2)}× (goal ≥ 0.85×)`,
      );
    }
    process.stdout.write([...lines, '', ...summaries].join('\n') + '\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
