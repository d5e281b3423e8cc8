/**
 * `loom demo --loop`: the closed loop on real data. A model trained on January 2001
 * flights is served; the months after are replayed through the model server as live
 * traffic (one request per flight, each with its id), their labels arriving one batch
 * later through `POST /v1/feedback`. After each batch the monitor records drift and the
 * online quality (estimated from the scores before the labels, measured after), and the
 * alert rules the demo writes into the project (`loom-demo-alerts.yaml`) are decided. A
 * firing rule's retraining runs the flights pipeline on the newest months; a blessed
 * version (evaluated against the champion) goes to a canary stage beside the champion,
 * the next month is replayed, and the canary decision promotes or rolls it back on its
 * online quality against the primary's. Everything is recorded where `loom monitor` and
 * `loom lineage` read it.
 *
 * Usage: `await runLoop(project, { rows: 2000, canaryWeight: 0.2 }, say)` (`loom demo --loop` calls it).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { flightsParquetPath } from '../../data/datasets.js';
import { checkAlerts, type AlertCheck } from '../../monitor/alerts/check.js';
import { historyPoints } from '../../monitor/alerts/points.js';
import { linkRetrainRun, RetrainRunFailed } from '../../monitor/alerts/retrain-link.js';
import { parseAlertRules } from '../../monitor/alerts/rules.js';
import { decideCanaryStage, startCanary, type CanaryStageResult } from '../../monitor/canary-stage.js';
import { historyRows } from '../../monitor/monitor.js';
import { onlineQuality, qualityHistoryRows } from '../../monitor/quality-run.js';
import { readCodeVersion } from '../../pipeline/code-version.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import type { PipelineRunResult } from '../../pipeline/orchestrator.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { feedbackPlugin } from '../../serve/routes/feedback.js';
import { ParquetPredictionSink, PostgresPredictionSink } from '../../serve/prediction-sinks.js';
import { startModelServer, type ModelServer } from '../../serve/server.js';
import type { Project } from '../project.js';
import { replayMonth, sendLabels, type ReplayedBatch } from './demo-loop-traffic.js';
import { monitorReport } from './monitor.js';
import { runAndReport } from './run.js';

export interface LoopOptions {
  /** Flights file (default: vega-datasets flights-3m.parquet). */
  source?: string;
  /** Requests per replayed month. */
  rows: number;
  /** The canary's share of the traffic. */
  canaryWeight: number;
  /** Months of 2001 replayed before a retraining, in order (default February to May); the canary gets the month after the alert's. */
  months?: number[];
  /** The pipeline file the retraining runs (the flights example). */
  pipelineFile: string;
  /** Where the pipeline's code lives, for its recorded code version. */
  codeDir: string;
}

export interface LoopSummary {
  champion: { version: number; runId: string };
  rulesFile: string;
  batches: { month: number; role: string; requests: number; drifted: string[]; estimatedAuc: number | null; measuredAuc: number | null; labelsFor: number | null }[];
  alerts: (AlertCheck & { month: number })[];
  retrain: { runId: string; state: string; trainMonth: number; evalMonth: number; blessed: boolean; reason: string; version: number | null } | null;
  canary: (Pick<CanaryStageResult, 'decision' | 'executionId'> & { month: number; version: number; weight: number; primaryRows: number; canaryRows: number }) | null;
  finalChampion: number;
}

/** Months replayed before a retraining (the model is trained on January). */
const MONITORED_MONTHS = [2, 3, 4, 5];
const MODEL = 'flights';
/**
 * The retraining's trainer: gradient-boosted trees, where the first champion is a logistic
 * regression. (Retrained on one newer month, the same logistic regression does not beat a
 * January champion on flights; the boosted trees usually do, which the evaluation decides.)
 */
const RETRAINER = { algorithm: 'gbdt' as const, numTrees: 40, numLeaves: 15, learningRate: 0.1, seed: 7 };

export async function runLoop(project: Project, options: LoopOptions, say: (line?: string) => void): Promise<LoopSummary> {
  const source = options.source ?? flightsParquetPath();
  const codeVersion = readCodeVersion(options.codeDir);
  say('== train on January, evaluate on February: the first champion ==');
  const first = await runFlights(project, options, { trainMonth: 1, alias: 'champion', source });
  const champion = (await project.registry.getVersionByAlias(MODEL, 'champion'))!;
  say(`flights v${champion.version} is @champion (run ${first.runId})`);

  const rulesFile = resolve('loom-demo-alerts.yaml');
  await writeFile(rulesFile, rulesText(options));
  const rules = parseAlertRules(rulesText(options), rulesFile);
  say(`alert rules written to ${rulesFile}`);

  const window = { kind: 'requests' as const, size: options.rows };
  const location = predictionLogLocation(project.config);
  const sink = location.kind === 'postgres' ? new PostgresPredictionSink(project.config.database) : new ParquetPredictionSink(project.layout.predictions);
  const server = await startModelServer({
    port: 0,
    models: [],
    registry: project.registry,
    artifacts: project.artifacts,
    deployments: project.deployments,
    watchIntervalMs: 0,
    predictionLog: sink,
    plugins: [feedbackPlugin({ labels: project.labels, log: location, finishFile: sink instanceof ParquetPredictionSink ? () => sink.rotate() : undefined })],
  });
  const summary: LoopSummary = { champion: { version: champion.version, runId: first.runId }, rulesFile, batches: [], alerts: [], retrain: null, canary: null, finalChampion: champion.version };
  try {
    say(`serving at ${server.url}; replaying ${options.rows} flights a month, labels one month late`);
    /** Makes what the server answered readable by the monitor. */
    const settle = async () => {
      await server.log?.flush();
      if (sink instanceof ParquetPredictionSink) await sink.rotate();
    };
    /** One monitoring pass: drift and quality of the champion's windows, kept in the history. */
    const monitor = async () => {
      await settle();
      const drift = await monitorReport(project, `${MODEL}@champion`, { window, json: true });
      await project.monitorHistory.recordDrift(historyRows(drift));
      const quality = await onlineQuality(project, location, { ref: `${MODEL}@champion`, window });
      await project.monitorHistory.recordQuality(qualityHistoryRows(quality, window));
      return { drift, quality };
    };
    let pending: ReplayedBatch | undefined;
    let fired: { month: number; executionId: number } | undefined;
    for (const month of options.months ?? MONITORED_MONTHS) {
      const batch = await replayMonth(server.url, source, { month, rows: options.rows, tag: `m${month}` });
      // The labels of the month before arrive now: this month's quality can only be estimated.
      const labelsFor = pending?.month ?? null;
      if (pending) await sendLabels(server.url, MODEL, pending);
      pending = batch;
      const { drift, quality } = await monitor();
      const newest = drift.windows.at(-1);
      const drifted = [
        ...(newest?.training ?? []).filter((c) => c.exceeded).map((c) => c.feature),
        ...(newest?.prediction ?? []).filter((c) => c.exceeded).map((c) => `prediction ${c.feature} (${c.measure})`),
        ...(newest?.multivariate?.alert ? ['multivariate'] : []),
      ];
      const estimated = quality.windows.at(-1)?.estimated.auc ?? null;
      const measured = labelsFor === null ? null : (quality.windows.at(-2)?.measured?.auc ?? null);
      summary.batches.push({ month, role: 'primary', requests: batch.requests.length, drifted, estimatedAuc: finite(estimated), measuredAuc: finite(measured), labelsFor });
      say(`${monthName(month)}: ${batch.requests.length} requests; drifted: ${drifted.join(', ') || 'none'}; estimated AUC ${fmt(estimated)}${labelsFor ? `; labels of ${monthName(labelsFor)} arrived: measured AUC ${fmt(measured)}` : ''}`);
      const checks = await checkAlerts(project, rules, {
        points: (rule) => historyPoints(project.monitorHistory, rule),
        codeVersion,
        retrain: async (_pipeline, alertExecutionId) => {
          fired = { month, executionId: alertExecutionId };
          return (await retrain(project, options, source, month, alertExecutionId, summary, say)).runId;
        },
      });
      for (const check of checks.filter((c) => c.fired)) {
        summary.alerts.push({ ...check, month });
        say(`ALERT ${check.rule}: ${check.summary} -> ${(check.actions ?? []).map((a) => `${a.type} ${a.status}`).join(', ')}`);
      }
      if (fired) break;
    }
    if (!fired) say('no alert fired on the months replayed: nothing to retrain');
    else if (summary.retrain?.version) {
      summary.canary = await canaryStage(project, server, options, source, fired, summary.retrain.version, codeVersion, say);
    }
    summary.finalChampion = (await project.registry.getVersionByAlias(MODEL, 'champion'))!.version;
    say(`\nflights@champion is v${summary.finalChampion}. Look at it with:`);
    say('  loom monitor status flights@champion --window requests:' + options.rows);
    say('  loom monitor drift flights@champion --window requests:' + options.rows);
    say('  loom monitor quality flights@champion --window requests:' + options.rows);
    say('  loom monitor alerts ls        loom lineage flights@champion        loom deploy history flights');
    return summary;
  } finally {
    await server.close();
  }
}

/** The alert's retraining: train on the month before the newest, evaluate on the newest, push a blessed model as `candidate`. */
async function retrain(project: Project, options: LoopOptions, source: string, month: number, alertExecutionId: number, summary: LoopSummary, say: (line?: string) => void): Promise<PipelineRunResult> {
  const trainMonth = month - 1;
  say(`== retraining: train on ${monthName(trainMonth)}, evaluate on ${monthName(month)} against the champion ==`);
  const run = await runFlights(project, options, { trainMonth, alias: 'candidate', source, trainer: RETRAINER });
  await linkRetrainRun(project.metadata, run.contextId, alertExecutionId);
  const blessing = run.steps.find((s) => s.step === 'evaluate')?.outputs.blessing?.properties;
  const pushed = run.steps.find((s) => s.step === 'push' && s.state === 'COMPLETE')?.outputs.pushed?.properties;
  // The push step runs only for a blessed model; its alias is empty when an approval rule holds the move.
  const version = pushed?.alias ? Number(pushed.version) : null;
  summary.retrain = { runId: run.runId, state: run.state, trainMonth, evalMonth: month, blessed: blessing?.blessed === true, reason: String(blessing?.reason ?? ''), version };
  say(`${String(blessing?.reason ?? 'no blessing')} -> ${version ? `flights v${version} is @candidate` : 'not pushed: the champion stays'}`);
  if (run.failure) throw new RetrainRunFailed(run.runId, run.failure.error);
  return run;
}

/** The candidate as a canary on the next month's traffic, then the decision on its online quality. */
async function canaryStage(project: Project, server: ModelServer, options: LoopOptions, source: string, fired: { month: number; executionId: number }, version: number, codeVersion: ReturnType<typeof readCodeVersion>, say: (line?: string) => void): Promise<LoopSummary['canary']> {
  const month = fired.month + 1;
  await startCanary(project, { model: MODEL, version, weight: options.canaryWeight });
  await server.refresh();
  say(`== canary: flights v${version} on ${options.canaryWeight} of ${monthName(month)}'s traffic beside the champion ==`);
  const batch = await replayMonth(server.url, source, { month, rows: options.rows, tag: `canary-m${month}` });
  await sendLabels(server.url, MODEL, batch);
  const result = await decideCanaryStage(project, predictionLogLocation(project.config), {
    model: MODEL,
    from: batch.from,
    to: batch.to,
    policy: { minLabelled: Math.max(50, Math.floor(options.rows * options.canaryWeight * 0.5)), minRows: Math.max(50, Math.floor(options.rows * options.canaryWeight * 0.5)) },
    triggerExecutionId: fired.executionId,
    codeVersion,
  });
  await server.refresh();
  // Another check (a `loom` process on this project) is deciding this canary: its decision stands, this one made none.
  if ('inProgress' in result) {
    say(`canary decision: ${result.message}`);
    return null;
  }
  say(`canary decision: ${result.decision.outcome} (${result.decision.reason})`);
  return { decision: result.decision, executionId: result.executionId, month, version, weight: options.canaryWeight, primaryRows: result.primary.rows, canaryRows: result.canary.rows };
}

async function runFlights(project: Project, options: LoopOptions, pipelineOptions: { trainMonth: number; alias: string; source: string; trainer?: typeof RETRAINER }): Promise<PipelineRunResult> {
  const pipeline = await loadPipelineFile(options.pipelineFile, pipelineOptions);
  const run = await runAndReport(project, pipeline, { json: true, quietSummary: true, codeDir: options.codeDir, pipelineFile: options.pipelineFile });
  if (run.failure && pipelineOptions.alias === 'champion') throw run.failure.error;
  return run;
}

/**
 * The rules the demo watches, in the format of docs/alerts.md. On flights the inputs hardly
 * move from month to month (distance, airports); what moves is when people fly and how
 * often flights are late, which shows in the model's predictions and in its quality.
 */
function rulesText(options: LoopOptions): string {
  const window = `{ requests: ${options.rows} }`;
  const retrain = `      - type: log
      - type: retrain
        pipeline: ${JSON.stringify(options.pipelineFile)}`;
  return `# Written by \`loom demo --loop\`, which decides them after each replayed month (docs/closed-loop.md).
rules:
  # The inputs against the training data: a shift of the flights' distances.
  - name: distance-drift
    model: ${MODEL}
    metric: drift.training.distance.jensen_shannon
    window: ${window}
    when: { above: 0.1 }
    actions:
      - type: log
  # The model's scores against the window before (a KS test's p-value): the traffic changed under it.
  - name: prediction-shift
    model: ${MODEL}
    metric: drift.prediction.probability.ks
    window: ${window}
    when: { below: 0.01 }
    severity: critical
    cooldown: 1m
    actions:
${retrain}
  # Measured AUC on the labels that arrived, under what a useful model reaches on flights.
  - name: quality-drop
    model: ${MODEL}
    metric: quality.measured.auc
    window: ${window}
    when: { below: 0.6 }
    severity: critical
    cooldown: 1m
    actions:
${retrain}
`;
}

function monthName(month: number): string {
  return new Date(Date.UTC(2001, month - 1, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' });
}

function finite(value: number | null | undefined): number | null {
  return value !== null && value !== undefined && Number.isFinite(value) ? value : null;
}

function fmt(value: number | null | undefined): string {
  const v = finite(value);
  return v === null ? 'n/a' : v.toFixed(3);
}
