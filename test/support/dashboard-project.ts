/**
 * A small real project for the dashboard's browser tests and benchmark: the flights example
 * pipeline run once (complete), once with a tune step in place of train (a tuning study, its
 * model registered as `delays-tuned`), and once more with a narrowed schema (its validate step
 * fails with an error and a fix), served by a real `loom server` process. Plus the browser-side
 * checks every page gets: no console errors and no serious axe-core violations.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { LOOM_BIN, runLoom } from './cli.js';
import { writeFlightsSlice } from './flights.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/flights/pipeline.ts', import.meta.url));

export interface DashboardProject {
  dir: string;
  /** The run that completed and pushed `flights` version 1 with the alias champion. */
  completeRunId: string;
  /** The run whose validate step failed on the narrowed schema. */
  failedRunId: string;
  /** The run with a tune step of TUNE_TRIALS trials (the steps before it cached), and the file it ran. */
  tunedRunId: string;
  tunedPipelineFile: string;
}

/** Trials of the tuned run's study: each a nested tracking run with its params and hold-out loss. */
export const TUNE_TRIALS = 3;

/** Runs the flights pipeline three times in `dir`: complete, with a tune step, then failed at validate. */
export async function makeDashboardProject(dir: string): Promise<DashboardProject> {
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
  const tunedPipelineFile = join(dir, 'tuned.ts');
  const tune = { trainer: 'gbdt', space: { learningRate: { type: 'loguniform', low: 0.05, high: 0.3 }, numLeaves: { type: 'int', low: 4, high: 31 } }, fixed: { numTrees: 5, earlyStoppingRounds: 0 }, trials: TUNE_TRIALS, parallelism: 2, seed: 3 };
  await writeFile(
    tunedPipelineFile,
    `import { flightsPipeline } from ${JSON.stringify(EXAMPLE)};\nexport default flightsPipeline({ source: ${JSON.stringify(source)}, schemaPath: ${JSON.stringify(schemaPath)}, modelName: 'delays-tuned', tune: ${JSON.stringify(tune)} });\n`,
  );
  const tuned = await runLoom(['run', tunedPipelineFile, '--json'], { cwd: dir });
  assert.equal(tuned.code, 0, tuned.stderr);
  // A reviewer narrows the origin airports the schema allows: the data breaks it.
  const schema = JSON.parse(await readFile(schemaPath, 'utf8')) as { features: { name: string; domain?: string[] }[] };
  schema.features.find((f) => f.name === 'origin')!.domain = ['ATL', 'ORD'];
  await writeFile(schemaPath, JSON.stringify(schema, null, 2));
  const second = await runLoom(['run', pipelineFile, '--json'], { cwd: dir });
  assert.equal(second.code, 5, second.stderr);
  const runIdOf = (stdout: string) => (JSON.parse(stdout) as { runId: string }).runId;
  return { dir, completeRunId: runIdOf(first.stdout), failedRunId: runIdOf(second.stdout), tunedRunId: runIdOf(tuned.stdout), tunedPipelineFile };
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** `loom server --port 0` in `dir`, as a user starts it; resolves once it prints its address. */
export async function startLoomServer(dir: string): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, [LOOM_BIN, 'server', '--port', '0'], { cwd: dir, env: { ...process.env, LOOM_HOME: join(dir, '.loom') }, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const check = setInterval(() => {
      const found = /Loom API at (http:\/\/\S+)/.exec(stderr);
      if (found) {
        clearInterval(check);
        resolve(found[1]!);
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`loom server exited: ${stderr}`));
      }
    }, 100);
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Collects the page's console errors and uncaught exceptions. A page that shows a refusal
 * the test asked for logs the failed request as a console error, at a moment of the
 * browser's choosing: `expecting(status, run)` declares that refusal, and the browser's
 * "Failed to load resource" lines for that status are not counted as errors.
 */
export function watchConsole(page: Page): { readonly errors: string[]; expecting<T>(status: number, run: () => Promise<T>): Promise<T> } {
  const logged: string[] = [];
  const refused = new Set<number>();
  page.on('console', (message) => {
    if (message.type() === 'error') logged.push(message.text());
  });
  page.on('pageerror', (error) => logged.push(`uncaught: ${error.message}`));
  return {
    get errors() {
      return logged.filter((text) => {
        const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
        return !(failed && refused.has(Number(failed[1])));
      });
    },
    async expecting(status, run) {
      refused.add(status);
      return run();
    },
  };
}

const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now (WCAG 2 A and AA rules). */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: await AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    // Runs in the page: axe is the script just added, and it checks the whole document.
    const axe = (globalThis as unknown as { axe: { run(options: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(', ')}`);
}
