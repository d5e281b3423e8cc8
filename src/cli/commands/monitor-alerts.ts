/**
 * `loom monitor alerts check --rules <file>`: one pass of alerting. The monitor first brings
 * the history up to date for each rule's model (its champion, in the rule's window kind),
 * then every rule is decided on the recorded windows and a firing one acts (docs/alerts.md);
 * a requested retraining runs the rule's pipeline here. `loom monitor alerts ls`: the alerts
 * recorded in lineage.
 *
 * Usage: `registerMonitorAlertsCommand(monitorGroup)` (the `loom monitor` group registers it).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { checkAlerts } from '../../monitor/alerts/check.js';
import { listAlerts } from '../../monitor/alerts/history.js';
import { historyPoints } from '../../monitor/alerts/points.js';
import { linkRetrainRun, RetrainRunFailed } from '../../monitor/alerts/retrain-link.js';
import { QUALITY_METRIC, readAlertRules, type AlertRule } from '../../monitor/alerts/rules.js';
import { historyRows } from '../../monitor/monitor.js';
import { onlineQuality, qualityHistoryRows } from '../../monitor/quality-run.js';
import { predictionLogLocation } from '../../platform/prediction-log-location.js';
import { readCodeVersion } from '../../pipeline/code-version.js';
import { loadPipelineFile } from '../../pipeline/load-pipeline-file.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable } from '../output.js';
import { withProject, type Project } from '../project.js';
import { monitorReport } from './monitor.js';
import { runAndReport } from './run.js';

const checkOptions = z.object({
  rules: z.string().min(1).default('loom-alerts.yaml'),
  refresh: z.boolean().default(true),
  json: z.boolean().optional(),
});

export function registerMonitorAlertsCommand(monitor: Command): void {
  const alerts = monitor.command('alerts').description('alert rules on the monitored figures, and what they did');
  alerts
    .command('check')
    .description('bring the monitoring history up to date, decide every rule, and act on those that fire')
    .option('--rules <file>', 'the rules file (YAML or JSON)', 'loom-alerts.yaml')
    .option('--no-refresh', 'decide on the recorded history only, without reading the prediction log')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(checkOptions, raw);
      const rulesFile = resolve(options.rules);
      const rules = await readAlertRules(rulesFile);
      await withProject(async (project) => {
        const refreshFailures = options.refresh ? await refreshHistory(project, rules) : new Map<string, unknown>();
        const results = await checkAlerts(project, rules, {
          // A rule whose pass failed is not decided on the history left from before: it is answered with the failure.
          points: (rule) => {
            const failure = refreshFailures.get(refreshKey(rule));
            if (failure !== undefined) throw failure;
            return historyPoints(project.monitorHistory, rule);
          },
          retrain: async (pipeline, alertExecutionId) => {
            const file = resolve(dirname(rulesFile), pipeline);
            const run = await runAndReport(project, await loadPipelineFile(file), { json: true, quietSummary: true, codeDir: dirname(file), pipelineFile: file });
            await linkRetrainRun(project.metadata, run.contextId, alertExecutionId);
            if (run.failure) throw new RetrainRunFailed(run.runId, run.failure.error);
            return run.runId;
          },
          codeVersion: readCodeVersion(dirname(rulesFile)),
        });
        if (options.json) printJson(results);
        else {
          printTable(
            ['rule', 'fired', 'what', 'actions'],
            results.map((r) => [r.rule, r.fired ? 'FIRED' : '-', r.summary, (r.actions ?? []).map((a) => `${a.type}: ${a.status} (${a.detail})`).join('; ')]),
          );
        }
        // A pass that acted but could not record it is still the pass's answer: warned beside it, not an error.
        for (const r of results) if (r.recordFailure) process.stderr.write(`warning: rule ${r.rule}: ${r.recordFailure.message}\n  fix: ${r.recordFailure.fix}\n`);
        // A rule that could not be checked fails the command, after the others' answers are printed.
        const unchecked = results.filter((r) => r.error);
        if (unchecked.length > 0) {
          const [first] = unchecked;
          const why = unchecked.map((r) => `rule ${r.rule}: ${r.error!.message}`).join('; ');
          throw new LoomError(first!.error!.code, `${unchecked.length} rule(s) could not be checked (the others were): ${why}`, { ...(first!.error!.fix && { fix: first!.error!.fix }) });
        }
      });
    });
  alerts
    .command('ls')
    .description('the alerts that fired, newest window first')
    .option('--model <name>', 'only this model')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(z.object({ model: z.string().min(1).optional(), json: z.boolean().optional() }), raw);
      await withProject(async (project) => {
        const alerts = await listAlerts(project.metadata, { model: options.model });
        if (options.json) return printJson(alerts);
        printTable(
          ['window end', 'rule', 'severity', 'model', 'metric', 'value', 'actions'],
          alerts.map((a) => [formatTime(a.windowEnd), a.rule, a.severity, `${a.modelName} v${a.modelVersion}`, a.metric, String(a.value), a.actions.map((x) => `${x.type}: ${x.status}`).join(', ')]),
        );
      });
    });
}

/** The monitoring pass a rule's figures come from: its model, window, and drift or quality. */
function refreshKey(rule: AlertRule): string {
  return `${rule.model} ${JSON.stringify(rule.window)} ${QUALITY_METRIC.test(rule.metric) ? 'quality' : 'drift'}`;
}

/**
 * One monitoring pass per model, window kind and kind of figure (drift, online quality) the
 * rules watch, its figures kept in the history. Answers the passes that failed (a model not
 * registered yet, a log that cannot be read) by `refreshKey`: one pass failing must not stop
 * the others, nor hide the answers of the rules they feed.
 */
async function refreshHistory(project: Project, rules: readonly AlertRule[]): Promise<Map<string, unknown>> {
  const passes = new Map<string, AlertRule>();
  for (const rule of rules) if (!passes.has(refreshKey(rule))) passes.set(refreshKey(rule), rule);
  const failures = new Map<string, unknown>();
  for (const [key, rule] of passes) {
    const window = typeof rule.window === 'string' ? { kind: rule.window } : { kind: 'requests' as const, size: rule.window.requests };
    const ref = `${rule.model}@champion`;
    try {
      if (QUALITY_METRIC.test(rule.metric)) await project.monitorHistory.recordQuality(qualityHistoryRows(await onlineQuality(project, predictionLogLocation(project.config), { ref, window }), window));
      else await project.monitorHistory.recordDrift(historyRows(await monitorReport(project, ref, { window, json: true })));
    } catch (error) {
      failures.set(key, error);
    }
  }
  return failures;
}
