/**
 * One pass of alerting: for each rule, read its metric's windows, decide (evaluate.ts),
 * and for a firing run the `alert` step through the step runner (actions + record), then
 * start the retraining runs its actions requested, recording on the alert's execution which
 * run each started or why it failed (`retrain-link.ts`). What a pass decided, fired or not, is
 * returned for the CLI to print; a retraining record the metadata store refuses does not lose
 * that answer (the runs did start): it is returned beside it as `recordFailure`. A rule that
 * cannot be checked is answered with its `error`, and the other rules are still checked. Where
 * the windows come from is the caller's: the monitoring history on a live project, or a replay.
 *
 * Usage: `const results = await checkAlerts(platform, rules, { points, retrain });`
 */
import { failureRecord, isLoomError, type ErrorCode } from '../../core/errors.js';
import type { MetadataStore } from '../../metadata/store.js';
import type { CodeVersion } from '../../metadata/types.js';
import { standaloneScope } from '../../pipeline/run-scope.js';
import type { StepOutcome, StepRunner } from '../../pipeline/step-runner.js';
import { listAlerts } from './history.js';
import { recordRetrains, RetrainRunFailed, type RetrainRecord } from './retrain-link.js';
import type { RegistryStore } from '../../registry/store.js';
import { alertComponent, type ActionOutcome } from './component.js';
import { decideAlert, type MetricPoint } from './evaluate.js';
import type { AlertRule } from './rules.js';

export interface AlertCheckServices {
  metadata: MetadataStore;
  registry: RegistryStore;
  runner: StepRunner;
}

export interface AlertCheckOptions {
  /** The rule's metric over its windows for its model, oldest first. */
  points(rule: AlertRule): Promise<MetricPoint[]>;
  /** Starts a retraining run of a pipeline file; given the alert's execution, for its lineage. A run that starts and then fails throws `RetrainRunFailed`, naming it. */
  retrain?(pipeline: string, alertExecutionId: number): Promise<string>;
  codeVersion: CodeVersion;
  webhookFirstRetryMs?: number;
}

export interface AlertCheck {
  rule: string;
  fired: boolean;
  /** Why it did not fire, or what fired. */
  summary: string;
  executionId?: number;
  actions?: ActionOutcome[];
  /**
   * Why the alert's execution could not record which retrainings it started, and the fix;
   * the actions above still happened (their runs started), only their record in lineage is missing.
   * A store that refused with a LoomError keeps its code and its fix (first in `fix`); any other
   * failure of the database is `UNAVAILABLE`.
   */
  recordFailure?: { code: ErrorCode; message: string; fix: string };
  /** Why the rule could not be checked (its windows unreadable, its step failing); the other rules still were. */
  error?: { code: ErrorCode; message: string; fix?: string };
}

export async function checkAlerts(services: AlertCheckServices, rules: readonly AlertRule[], options: AlertCheckOptions): Promise<AlertCheck[]> {
  const results: AlertCheck[] = [];
  for (const rule of rules) {
    try {
      results.push(await checkRule(services, rule, options));
    } catch (error) {
      // One rule that cannot be checked (a metric with several measures, a step that fails) must not
      // hide the others' answers (a fired rule's runs, a record failure's warning) nor stop them being checked.
      const refused = isLoomError(error) ? error : undefined;
      results.push({
        rule: rule.name,
        fired: false,
        summary: `not checked: ${(error as Error).message}`,
        error: { code: refused?.code ?? 'INTERNAL', message: (error as Error).message, ...(refused?.fix && { fix: refused.fix }) },
      });
    }
  }
  return results;
}

/** One rule's decision, and what it did when it fired. */
async function checkRule(services: AlertCheckServices, rule: AlertRule, options: AlertCheckOptions): Promise<AlertCheck> {
  const last = (await listAlerts(services.metadata, { rule: rule.name }))[0];
  const decision = decideAlert(rule, await options.points(rule), last);
  if (!decision.fire) return { rule: rule.name, fired: false, summary: decision.reason };
  const version = decision.points[decision.points.length - 1]!.modelVersion;
  const outcome = await services.runner.run({
    component: alertComponent,
    stepName: `alert-${rule.name}`,
    inputs: { model: await modelArtifact(services, rule.model, version) },
    parameters: { rule, points: decision.points, summary: decision.summary, webhookFirstRetryMs: options.webhookFirstRetryMs },
    run: standaloneScope('monitor-alert', options.codeVersion),
    cache: false,
  });
  const { actions, recordFailure } = await requestedRetrains(services.metadata, outcome, options);
  return { rule: rule.name, fired: true, summary: decision.summary, executionId: outcome.executionId, actions, ...(recordFailure && { recordFailure }) };
}

/** The served version's artifact, the alert's input in lineage; absent for a version registered from outside a pipeline. */
async function modelArtifact(services: AlertCheckServices, model: string, version: number) {
  const registered = await services.registry.getModelVersion(model, version);
  if (registered?.artifactId === undefined || registered.artifactId === null) return undefined;
  return (await services.metadata.getArtifacts([registered.artifactId]))[0];
}

/**
 * The step's action outcomes, with each requested retraining started (or its failure recorded
 * in the answer), and why recording them on the alert's execution failed, if it did.
 */
async function requestedRetrains(metadata: MetadataStore, outcome: StepOutcome, options: AlertCheckOptions): Promise<{ actions: ActionOutcome[]; recordFailure?: AlertCheck['recordFailure'] }> {
  if (outcome.error) throw outcome.error;
  const actions = (outcome.outputs.alert?.properties.actions ?? []) as ActionOutcome[];
  const started: ActionOutcome[] = [];
  const records: RetrainRecord[] = [];
  for (const action of actions) {
    if (action.type !== 'retrain' || !options.retrain) {
      started.push(action);
      continue;
    }
    try {
      const runId = await options.retrain(action.detail, outcome.executionId);
      started.push({ type: 'retrain', status: 'done', detail: `${action.detail}: run ${runId}` });
      records.push({ pipeline: action.detail, status: 'started', runId });
    } catch (error) {
      const runId = error instanceof RetrainRunFailed ? error.runId : undefined;
      // A run that failed keeps its step's error (code and fix) as the cause.
      const failure = failureRecord(error instanceof RetrainRunFailed ? error.cause : error, { code: 'INTERNAL' });
      started.push({ type: 'retrain', status: 'failed', detail: `${action.detail}: ${runId ? `run ${runId} failed: ` : ''}${failure.message}` });
      records.push({ pipeline: action.detail, status: 'failed', reason: failure.message, code: failure.code, ...(failure.fix && { fix: failure.fix }), ...(runId ? { runId } : {}) });
    }
  }
  try {
    await recordRetrains(metadata, outcome.executionId, records);
  } catch (error) {
    // The runs have started: throwing now would hide them (and their ids) from the user.
    return { actions: started, recordFailure: recordFailureOf(error, outcome.executionId, records) };
  }
  return { actions: started };
}

/** Why recording the retrainings failed, keeping a LoomError's code and fix, and which runs did start (so none is started twice). */
function recordFailureOf(error: unknown, executionId: number, records: readonly RetrainRecord[]): NonNullable<AlertCheck['recordFailure']> {
  const runIds = records.flatMap((r) => (r.runId ? [r.runId] : []));
  const started = runIds.length > 0 ? `run(s) ${runIds.join(', ')} did start (do not start them again)` : 'no run started';
  const failure = failureRecord(error, { code: 'UNAVAILABLE', fix: 'make the metadata database writable again (disk space, permissions, a read-only replica)' });
  return {
    code: failure.code,
    message: `the alert's execution ${executionId} could not record the retrainings it requested: ${failure.message}`,
    fix: failure.fix ? `${failure.fix}; ${started}` : started,
  };
}
