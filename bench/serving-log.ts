/**
 * What the prediction log costs serving (issue 13 goal: log-on ≥ 0.85× log-off throughput,
 * in the same run). Two `loom serve` processes (one worker each, the same model), one with
 * the Parquet prediction log and one without, both pinned to core 0 (`taskset`), loaded in
 * turns by autocannon (50 connections, V2 infer of one flight) from core 1; the order
 * alternates each round. Reported per mode: the median req/s over the rounds, the median of
 * the per-round on/off ratios, and the server's CPU µs per request (all its threads, the
 * log's worker included: the figure sharing the machine distorts least).
 *
 * Run: node --import tsx bench/serving-log.ts [--duration 8] [--rounds 5]
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

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '8' }, rounds: { type: 'string', default: '5' } } });
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
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

    const servers = { off: await startChild({ kind: 'model', dir, log: false, workers: 1 }, '0'), on: await startChild({ kind: 'model', dir, log: true, workers: 1 }, '0') };
    for (const server of Object.values(servers)) await cannon(`${server.url}${INFER}`, 50, 2, BODY);
    const loads: Record<'off' | 'on', Load[]> = { off: [], on: [] };
    for (let round = 0; round < rounds; round++) {
      const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const mode of order) loads[mode].push(await loadRun(servers[mode], INFER, BODY, duration));
      process.stderr.write(`round ${round + 1}: off ${Math.round(loads.off.at(-1)!.rps)} req/s, on ${Math.round(loads.on.at(-1)!.rps)} req/s\n`);
    }
    for (const server of Object.values(servers)) await server.stop();

    const ratios = loads.on.map((on, i) => on.rps / loads.off[i]!.rps);
    const cell = (mode: 'off' | 'on') =>
      `| log ${mode} | ${Math.round(median(loads[mode].map((l) => l.rps)))} | ${median(loads[mode].map((l) => l.p99)).toFixed(1)} ms | ${median(loads[mode].map((l) => l.cpuPerRequest)).toFixed(1)} µs | ${loads[mode].reduce((sum, l) => sum + l.failed, 0)} |`;
    const cpuRatio = median(loads.off.map((l) => l.cpuPerRequest)) / median(loads.on.map((l) => l.cpuPerRequest));
    process.stdout.write(
      [
        `| \`loom serve\` (1 process, core 0), V2 infer, 50 connections | req/s (median of ${rounds}) | p99 | server CPU per request | failed |`,
        '|---|---|---|---|---|',
        cell('off'),
        cell('on'),
        '',
        `log on / log off: **${median(ratios).toFixed(2)}×** throughput (median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}); by CPU per request ${cpuRatio.toFixed(2)}× (goal ≥ 0.85×)`,
      ].join('\n') + '\n',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
