/**
 * `loom demo`: the whole life of a model on real data, end to end. Trains on January
 * 2001 flights and evaluates on February; trains again on February and evaluates on
 * March against the first champion; serves the champion and asks it about real March
 * flights; then says where to look next.
 */
import { join } from 'node:path';
import { Examples } from '../../pipeline/artifact-types.js';
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { sqlString, withDuckDB } from '../../data/duckdb.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import type { PipelineRunResult } from '../../pipeline/orchestrator.js';
import { startModelServer } from '../../serve/server.js';
import { parseOptions } from '../options.js';
import { printJson, printTable } from '../output.js';
import { openProject, type Project } from '../project.js';
import { changeContext } from '../security.js';
import { runLoop } from './demo-loop.js';
import { runAndReport } from './run.js';
import { waitForSignal } from './serve.js';

const demoOptions = z.object({
  json: z.boolean().optional(),
  serve: z.boolean().optional(),
  port: z.coerce.number().int().min(0).max(65535).optional(),
  source: z.string().min(1).optional(),
  loop: z.boolean().optional(),
  rows: z.coerce.number().int().min(50).max(200_000).default(2000),
  canaryWeight: z.coerce.number().gt(0).lt(1).default(0.2),
  months: z
    .string()
    .transform((text) => text.split(',').map((m) => Number(m.trim())))
    .pipe(z.array(z.number().int().min(2).max(5)).min(1))
    .optional(),
});

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('train, evaluate, register and serve a flight-delay model on real 2001 US flights, end to end')
    .option('--serve', 'keep serving the champion after the demo (until Ctrl-C)')
    .option('--port <n>', 'port for the model server (default: a free one; 8080 with --serve)')
    .option('--source <file>', 'flights file to use instead of vega-datasets flights-3m.parquet')
    .option('--loop', 'the closed loop: replay later months as live traffic, monitor, alert, retrain, canary, promote or roll back')
    .option('--rows <n>', 'with --loop: requests replayed per month', '2000')
    .option('--canary-weight <w>', "with --loop: the canary's share of the traffic", '0.2')
    .option('--months <list>', 'with --loop: the months of 2001 replayed before a retraining, e.g. 3,4 (default 2,3,4,5)')
    .option('--json', 'print one JSON summary instead of tables and progress')
    .action(async (raw: unknown) => {
      const options = parseOptions(demoOptions, raw);
      const project = await openProject({ create: true });
      try {
        // The demo's registry changes (versions, aliases, deployments) are made and audited as
        // the command's principal, like every other command's (`withProject`).
        const acting = project.actingAs(await changeContext(project));
        if (options.loop) {
          const say = (line = '') => options.json || process.stdout.write(`${line}\n`);
          const summary = await runLoop(acting, { source: options.source, rows: options.rows, canaryWeight: options.canaryWeight, months: options.months, pipelineFile: join(EXAMPLES_DIR, 'pipeline.ts'), codeDir: EXAMPLES_DIR }, say);
          if (options.json) printJson(summary);
          return;
        }
        await runDemo(acting, options);
      } finally {
        await project.close();
      }
    });
}

type DemoOptions = z.output<typeof demoOptions>;

/**
 * The demo's pipeline is Loom's own example, so its code version is the Loom checkout's. It is
 * loaded as a pipeline file, as a user's would be (it imports the public package, `loom-mlops`).
 */
const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/flights/', import.meta.url));

async function runDemo(project: Project, options: DemoOptions): Promise<void> {
  const say = (line = '') => options.json || process.stdout.write(`${line}\n`);
  say('Loom demo: will a US flight of 2001 be more than 15 minutes late? (flights-3m.parquet from vega-datasets)');
  const runs: PipelineRunResult[] = [];
  for (const trainMonth of [1, 2]) {
    say(`\n== train on ${monthName(trainMonth)}, evaluate on ${monthName(trainMonth + 1)} ==`);
    const pipeline = await loadPipelineFile(join(EXAMPLES_DIR, 'pipeline.ts'), { trainMonth, source: options.source });
    const result = await runAndReport(project, pipeline, { json: true === options.json, codeDir: EXAMPLES_DIR, quietSummary: options.json });
    if (result.failure) throw result.failure.error;
    runs.push(result);
    say(blessingLine(result));
  }

  const port = options.port ?? (options.serve ? 8080 : 0);
  const server = await startModelServer({ port, models: ['flights@champion'], registry: project.registry, artifacts: project.artifacts });
  try {
    const champion = server.loaded[0]!;
    say(`\n== serving flights@champion (version ${champion.version.version}) at ${server.url} ==`);
    const flights = await sampleFlights(project, runs.at(-1)!);
    const response = await fetch(`${server.url}/v2/models/flights/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: flights.map(({ delayed: _label, ...features }) => features) }),
    });
    const body = (await response.json()) as { predictions?: { probability: number }[]; error?: string };
    if (!response.ok || !body.predictions) throw new Error(`the model server answered ${response.status}: ${body.error ?? JSON.stringify(body)}`);
    const rows = flights.map((flight, i) => ({ ...flight, probability: body.predictions![i]!.probability }));
    if (options.json) {
      printJson({ runs: runs.map((r) => ({ runId: r.runId, state: r.state, steps: r.steps.map((s) => ({ step: s.step, state: s.state })) })), server: server.url, champion: champion.version.version, predictions: rows });
    } else {
      printTable(
        ['departure (local)', 'origin', 'dest', 'miles', 'P(late > 15 min)', 'was late'],
        rows.map((r) => [r.date, r.origin, r.destination, r.distance, r.probability.toFixed(3), r.delayed ? 'yes' : 'no']),
      );
      say('\nwhere to look next:');
      say(`  loom runs                         every pipeline run (loom runs show ${runs.at(-1)!.runId})`);
      say('  loom lineage flights@champion     the data snapshot, code and parameters behind the served model');
      say('  loom models versions flights      versions, metrics and aliases');
      say('  loom serve flights                serve the champion (KServe V2 at /v2/models/flights/infer)');
      say(`  project files: ${project.layout.home}`);
    }
    const request = `curl -s URL/v2/models/flights/infer -H 'content-type: application/json' \\\n    -d '${JSON.stringify({ instances: [withoutLabel(flights[0]!)] })}'`;
    if (options.serve) {
      say(`\nthe same request by hand:\n  ${request.replace('URL', server.url)}`);
      say(`\nserving at ${server.url} until Ctrl-C`);
      await waitForSignal();
    } else {
      // The server above closes with the demo: a curl at its port would meet nothing.
      say(`\nthe demo's server has stopped; to send it the same request by hand, serve the champion with \`loom serve flights\` (or \`loom demo --serve\`), then:\n  ${request.replace('URL', 'http://127.0.0.1:8080')}`);
    }
  } finally {
    await server.close();
  }
}

/** A flight as a client sends it: the raw departure time as ISO 8601 text, no derived columns. */
interface SampleFlight {
  date: string;
  distance: number;
  origin: string;
  destination: string;
  delayed: boolean;
}

/** Real flights from the last run's evaluation split, spread over the month. */
async function sampleFlights(project: Project, run: PipelineRunResult): Promise<SampleFlight[]> {
  const examples = run.steps.find((s) => s.step === 'ingest')!.outputs.examples!;
  const file = Examples.files.split(await project.artifacts.localPath(examples.uri), 'eval');
  return withDuckDB(async (db) => {
    const reader = await db.runAndReadAll(
      `SELECT strftime(date, '%Y-%m-%dT%H:%M') AS date, distance::INTEGER AS distance, origin, destination, delayed
       FROM read_parquet(${sqlString(file)}) ORDER BY md5(concat_ws('|', date, distance, origin, destination)) LIMIT 6`,
    );
    return reader.getRowObjectsJson() as unknown as SampleFlight[];
  });
}

function withoutLabel(flight: SampleFlight): Omit<SampleFlight, 'delayed'> {
  const { delayed: _label, ...features } = flight;
  return features;
}

function blessingLine(result: PipelineRunResult): string {
  const evaluate = result.steps.find((s) => s.step === 'evaluate');
  const blessing = evaluate?.outputs.blessing?.properties;
  const push = result.steps.find((s) => s.step === 'push');
  const pushed = push?.outputs.pushed?.properties;
  const where = pushed ? `registered as flights version ${pushed.version}${pushed.alias ? `, now @${pushed.alias}` : ''}` : 'not pushed';
  return `${String(blessing?.reason ?? 'no blessing')} -> ${where}`;
}

function monthName(month: number): string {
  return new Date(Date.UTC(2001, month - 1, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' });
}
