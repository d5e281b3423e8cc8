/**
 * A hyperparameter study: proposes parameters (random or TPE), runs each trial's objective
 * in a pool of worker processes (so trials use every core and a crashing trial cannot take
 * the study down), stops poor trials early (median or ASHA), and ends at a budget of trials
 * or of time. With one worker and a seed, a study is reproducible.
 *
 * Usage:
 *   const study = await runStudy({ space, direction: 'maximize', trials: 20, parallelism: 2,
 *     objective: { module: '/abs/objective.ts', exportName: 'objective', context: { dataDir } } });
 *   study.best?.params
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { siblingModule } from '../../core/sibling-module.js';
import type { JsonValue } from '../../core/json.js';
import { parseInput } from '../../core/validation.js';
import { PRUNERS, createPruner, type Pruner } from './pruners.js';
import { SAMPLERS, createSampler, type FinishedTrial, type Sampler } from './samplers.js';
import { parseSearchSpace, type Params, type SearchSpace } from './search-space.js';
import type { FromWorker, ToWorker } from './trial-protocol.js';

export const studyOptionsSchema = z
  .object({
    direction: z.enum(['minimize', 'maximize']),
    sampler: z.enum(SAMPLERS).default('tpe'),
    pruner: z.enum(PRUNERS).default('median'),
    prunerOptions: z
      .object({ startupTrials: z.number().int().min(0), warmupSteps: z.number().int().min(0), minSteps: z.number().int().min(1), eta: z.number().int().min(2) })
      .partial()
      .default({}),
    trials: z.number().int().min(1).max(100_000),
    timeoutSeconds: z.number().positive().optional(),
    parallelism: z.number().int().min(1).max(256).default(1),
    seed: z.number().int().default(42),
  })
  .strict();
export type StudyOptions = z.input<typeof studyOptionsSchema>;

export const TRIAL_STATES = ['COMPLETE', 'PRUNED', 'FAILED'] as const;
export type TrialState = (typeof TRIAL_STATES)[number];

export interface TrialRecord {
  number: number;
  params: Params;
  state: TrialState;
  /** The objective's value (COMPLETE only). */
  value?: number;
  /** What the objective returned beside its value (a model path, metrics). */
  result?: JsonValue;
  /** Every reported [step, value]. */
  intermediate: [number, number][];
  error?: string;
  seconds: number;
}

export interface StudyResult {
  trials: TrialRecord[];
  best: TrialRecord | undefined;
  stoppedBecause: 'trials' | 'time';
}

export interface RunStudyRequest extends StudyOptions {
  space: unknown;
  /** The objective: an absolute module path and the name of its exported function. */
  objective: { module: string; exportName: string; context?: JsonValue };
  /** Called as each trial ends, in the order they end. */
  onTrial?(trial: TrialRecord): void;
}

const WORKER = siblingModule(import.meta.url, './trial-worker');
// Resolved from Loom's own install, not from the working directory (a project folder need not
// have tsx), and through require: pipeline files load this module where import.meta.resolve is absent.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export async function runStudy(request: RunStudyRequest): Promise<StudyResult> {
  const { space: rawSpace, objective, onTrial, ...rest } = request;
  const options = parseInput(studyOptionsSchema, rest, { what: 'the study', fix: 'see `loom tune --help` for the study options' });
  const space = parseSearchSpace(rawSpace);
  const sampler = createSampler(options.sampler, options.seed);
  const pruner = createPruner(options.pruner, options.prunerOptions);
  const deadline = options.timeoutSeconds === undefined ? Infinity : Date.now() + options.timeoutSeconds * 1000;
  const run = new StudyRun(space, sampler, pruner, options.direction, objective, onTrial);
  const slots = Math.min(options.parallelism, options.trials);
  const workers: ChildProcess[] = [];
  let stoppedBecause: StudyResult['stoppedBecause'] = 'trials';
  try {
    await Promise.all(
      Array.from({ length: slots }, async () => {
        let worker: ChildProcess | undefined;
        for (;;) {
          if (run.started >= options.trials) return;
          if (Date.now() >= deadline) {
            stoppedBecause = 'time';
            return;
          }
          // A trial that crashed its process gets a fresh worker for the next one.
          if (!worker || worker.exitCode !== null || worker.signalCode !== null) {
            worker = await startWorker();
            workers.push(worker);
          }
          await run.runTrial(worker);
        }
      }),
    );
    return { trials: run.trials.sort((a, b) => a.number - b.number), best: run.best(), stoppedBecause };
  } finally {
    for (const worker of workers) worker.kill();
  }
}

class StudyRun {
  started = 0;
  readonly trials: TrialRecord[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly sampler: Sampler,
    private readonly pruner: Pruner,
    private readonly direction: 'minimize' | 'maximize',
    private readonly objective: RunStudyRequest['objective'],
    private readonly onTrial: RunStudyRequest['onTrial'],
  ) {}

  /** Lower is better inside the study, whatever the direction. */
  private loss(value: number): number {
    return this.direction === 'minimize' ? value : -value;
  }

  best(): TrialRecord | undefined {
    const complete = this.trials.filter((trial) => trial.state === 'COMPLETE');
    return complete.sort((a, b) => this.loss(a.value as number) - this.loss(b.value as number) || a.number - b.number)[0];
  }

  runTrial(worker: ChildProcess): Promise<void> {
    const number = this.started++;
    const history: FinishedTrial[] = this.trials.filter((t) => t.state === 'COMPLETE').map((t) => ({ params: t.params, loss: this.loss(t.value as number) }));
    const params = this.sampler.propose(this.space, history);
    const record: TrialRecord = { number, params, state: 'FAILED', intermediate: [], seconds: 0 };
    const started = performance.now();
    return new Promise<void>((resolve) => {
      const finish = (update: Partial<TrialRecord>) => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        Object.assign(record, update, { seconds: (performance.now() - started) / 1000 });
        this.pruner.finish(number);
        this.trials.push(record);
        this.onTrial?.(record);
        resolve();
      };
      const onMessage = (message: FromWorker) => {
        if (!('trial' in message) || message.trial !== number) return;
        // NaN crosses the IPC channel as null: a trial whose loss is not a finite number has diverged.
        if (message.type === 'report') {
          const finite = typeof message.value === 'number' && Number.isFinite(message.value);
          if (finite) record.intermediate.push([message.step, message.value]);
          const prune = !finite || this.pruner.report(number, message.step, this.loss(message.value));
          worker.send({ type: 'decision', trial: number, step: message.step, prune } satisfies ToWorker);
          if (!finite) record.error = `the objective reported ${message.value} at step ${message.step}`;
        } else if (message.type === 'done') {
          const finite = typeof message.value === 'number' && Number.isFinite(message.value);
          finish(finite ? { state: 'COMPLETE', value: message.value, result: message.result } : { state: 'FAILED', error: `the objective returned ${message.value}, not a finite number` });
        } else if (message.type === 'pruned' && record.error) finish({ state: 'FAILED' });
        else if (message.type === 'pruned') finish({ state: 'PRUNED' });
        else finish({ state: 'FAILED', error: message.message });
      };
      const onExit = (code: number | null, signal: string | null) => finish({ state: 'FAILED', error: `the trial's worker process exited (${signal ?? `code ${code}`})` });
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      const run: ToWorker = { type: 'run', trial: number, params, module: this.objective.module, exportName: this.objective.exportName, context: this.objective.context ?? null };
      worker.send(run);
    });
  }
}

function startWorker(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const worker = fork(WORKER, [], { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    worker.once('message', (message: FromWorker) => (message.type === 'ready' ? resolve(worker) : reject(new Error('unexpected first message'))));
    worker.once('error', (error) =>
      reject(new LoomError('UNAVAILABLE', `cannot start a trial worker: ${error.message}`, { fix: 'check that node can start child processes here' })),
    );
  });
}
