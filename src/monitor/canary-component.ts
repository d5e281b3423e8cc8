/**
 * The `canary-decision` step: the canary stage's verdict, run and recorded by the one step
 * runner, so lineage holds the window, both sides' figures, the two versions (as inputs),
 * the alert that started the retraining when there was one, and what was done. On
 * `promote` the step moves the alias (default `champion`) to the canary's version through
 * the registry it is given, which is the acting principal's (authorized and audited); the
 * caller then clears the canary from the deployment (a step holds no deployment store).
 *
 * Usage: `await runner.run({ component: canaryDecisionComponent, stepName: 'canary-decision', inputs: { primary, canary }, parameters, run, cache: false })`
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { Alert, CanaryDecision, ServingModel } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { ESTIMATED_METRICS } from './cbpe.js';
import { canaryPolicy, decideCanary } from './canary-decision.js';

const figure = z.number().nullable();
const metrics = z.strictObject(Object.fromEntries(ESTIMATED_METRICS.map((m) => [m, figure])) as Record<(typeof ESTIMATED_METRICS)[number], typeof figure>);
const side = z.strictObject({
  version: z.number().int().positive(),
  rows: z.number().int().min(0),
  labelled: z.number().int().min(0),
  estimated: metrics,
  measured: metrics.nullable(),
});

export const canaryDecisionParameters = z.strictObject({
  model: z.string().min(1),
  /** The alias a promoted canary takes. */
  alias: z.string().min(1).default('champion'),
  /** The window both sides were read over, ms since the epoch, [from, to). */
  window: z.strictObject({ from: z.number().int(), to: z.number().int() }),
  primary: side,
  canary: side,
  policy: canaryPolicy,
  /** The deployment decided about (its id): a decision whose canary could not be cleared is finished on it, not decided again (canary-clearing.ts). */
  deploymentId: z.number().int().positive().optional(),
});
export type CanaryDecisionParameters = z.input<typeof canaryDecisionParameters>;

export const canaryDecisionComponent = defineComponent({
  name: 'canary-decision',
  version: '1',
  description: "Promotes a canary or rolls it back on its online quality against the primary's over the same window",
  inputs: {
    primary: { type: ServingModel, optional: true },
    canary: { type: ServingModel, optional: true },
    /** The alert whose retraining made the canary, when one did. */
    trigger: { type: Alert, optional: true },
  },
  outputs: { decision: CanaryDecision },
  parameters: canaryDecisionParameters,
  async execute({ outputs, parameters }, services) {
    const { model, alias, window, primary, canary, policy } = parameters;
    const decision = decideCanary(primary, canary, policy);
    let aliasMoved = false;
    if (decision.outcome === 'promote') {
      await services.registry.setAlias(model, alias, canary.version, { actor: 'canary-decision', reason: decision.reason });
      aliasMoved = true;
    }
    services.log(`canary ${model} v${canary.version}: ${decision.outcome} (${decision.reason})`);
    await writeFile(CanaryDecision.files.decision(outputs.decision), `${JSON.stringify({ model, alias, window, primary, canary, policy, ...decision, aliasMoved }, null, 2)}\n`);
    return {
      properties: {
        decision: {
          modelName: model,
          primaryVersion: primary.version,
          canaryVersion: canary.version,
          outcome: decision.outcome,
          basis: decision.basis,
          metric: decision.metric,
          windowStart: window.from,
          windowEnd: window.to,
          primaryValue: decision.primaryValue,
          canaryValue: decision.canaryValue,
          aliasMoved,
          reason: decision.reason,
        },
      },
    };
  },
});
