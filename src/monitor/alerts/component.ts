/**
 * The `alert` step: a fired rule's actions, run and recorded by the one step runner, so
 * lineage holds every alert (the rule, the windows and values, the model version it is
 * about, as an input) and what was done. Actions run in the rule's order; a failed one is
 * recorded as failed and the rest still run: the record is never lost to a receiver that
 * is down. `retrain` is recorded as requested; the monitor starts the run (a step cannot
 * start a pipeline), the run's lineage names this alert, and this alert's execution then
 * records the run started or why it failed (`retrain-link.ts`).
 *
 * Usage: `await runner.run({ component: alertComponent, stepName: 'alert', inputs: { model }, parameters, run, cache: false })`
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import { Alert, ServingModel } from '../../pipeline/artifact-types.js';
import { defineComponent, type ExecutorServices } from '../../pipeline/component.js';
import { describeCondition } from './evaluate.js';
import { alertRule, type AlertAction, type AlertRule } from './rules.js';
import { deliverWebhook } from './webhook.js';

const point = z.strictObject({ windowStart: z.number(), windowEnd: z.number(), modelVersion: z.number().int(), value: z.number(), pValue: z.number().optional() });

export const alertParameters = z.strictObject({
  rule: alertRule,
  /** The breaching windows, oldest first. */
  points: z.array(point).min(1),
  summary: z.string(),
  /** The first webhook retry's wait (tests shorten it). */
  webhookFirstRetryMs: z.number().int().positive().optional(),
});

/** A type alias, not an interface, so it is a JSON value for the artifact's properties. */
export type ActionOutcome = {
  type: AlertAction['type'];
  status: 'done' | 'failed' | 'requested';
  detail: string;
};

export const alertComponent = defineComponent({
  name: 'alert',
  version: '1',
  description: "A fired monitoring rule's actions (webhook, log line, alias rollback, retraining), recorded with the evidence",
  inputs: { model: { type: ServingModel, optional: true } },
  outputs: { alert: Alert },
  parameters: alertParameters,
  async execute({ outputs, parameters }, services) {
    const { rule, points, summary } = parameters;
    const newest = points[points.length - 1]!;
    const evidence: JsonObject = {
      rule: rule.name,
      severity: rule.severity,
      model: rule.model,
      modelVersion: newest.modelVersion,
      metric: rule.metric,
      condition: describeCondition(rule.when),
      windows: points,
      summary,
    };
    const outcomes: ActionOutcome[] = [];
    for (const action of rule.actions) outcomes.push(await runAction(action, rule, evidence, services, parameters.webhookFirstRetryMs));
    await writeFile(Alert.files.alert(outputs.alert), `${JSON.stringify({ ...evidence, actions: outcomes }, null, 2)}\n`);
    return {
      properties: {
        alert: { rule: rule.name, severity: rule.severity, metric: rule.metric, modelName: rule.model, modelVersion: newest.modelVersion, windowEnd: newest.windowEnd, value: newest.value, actions: outcomes },
      },
    };
  },
});

async function runAction(action: AlertAction, rule: AlertRule, evidence: JsonObject, services: ExecutorServices, firstRetryMs: number | undefined): Promise<ActionOutcome> {
  switch (action.type) {
    case 'log':
      services.log(`ALERT ${rule.severity} ${rule.name}: ${String(evidence.summary)}`);
      return { type: 'log', status: 'done', detail: 'logged' };
    case 'webhook': {
      const outcome = await deliverWebhook(action, evidence, { firstRetryMs });
      return { type: 'webhook', status: outcome.delivered ? 'done' : 'failed', detail: `${new URL(action.url).host}: ${outcome.detail} after ${outcome.attempts} attempt(s)` };
    }
    case 'rollback':
      try {
        const move = await services.registry.rollbackAlias(rule.model, action.alias, { actor: `alert:${rule.name}`, reason: String(evidence.summary) });
        return { type: 'rollback', status: 'done', detail: `${rule.model}@${action.alias} rolled back from v${move.previousVersion ?? '-'} to v${move.version ?? '-'}` };
      } catch (error) {
        return { type: 'rollback', status: 'failed', detail: (error as Error).message };
      }
    case 'retrain':
      return { type: 'retrain', status: 'requested', detail: action.pipeline };
  }
}
